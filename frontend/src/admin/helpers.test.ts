import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { detailMessages, errorText, expiryFromDays, splitList, validExpiryDays } from "./helpers";

describe("splitList", () => {
  it("splits on commas and lines, trims, drops empties and duplicates", () => {
    expect(splitList(" rey, otto\nrey\n\n ,vic ")).toEqual(["rey", "otto", "vic"]);
    expect(splitList("")).toEqual([]);
  });
});

describe("errorText", () => {
  it("adds field details of PASSWORD_INVALID", () => {
    const e = new ApiError(400, "PASSWORD_INVALID", "Password refused", [
      { field: "password", message: "This password is too short." },
    ]);
    expect(errorText(e)).toBe("Password refused — password: This password is too short.");
  });
  it("shows a plain message (CANNOT_CHANGE_SELF)", () => {
    expect(errorText(new ApiError(400, "CANNOT_CHANGE_SELF", "You cannot demote yourself"))).toBe(
      "You cannot demote yourself",
    );
  });
  it("reads a DRF field map", () => {
    expect(detailMessages({ name: ["This field is required."] })).toEqual(["name: This field is required."]);
  });
});

describe("token expiry", () => {
  it("accepts 1..365 whole days", () => {
    expect(validExpiryDays("1")).toBe(1);
    expect(validExpiryDays("365")).toBe(365);
    expect(validExpiryDays("0")).toBeNull();
    expect(validExpiryDays("366")).toBeNull();
    expect(validExpiryDays("2.5")).toBeNull();
    expect(validExpiryDays("")).toBeNull();
  });
  it("adds days to now", () => {
    expect(expiryFromDays(2, new Date("2026-01-01T00:00:00Z"))).toBe("2026-01-03T00:00:00.000Z");
  });
});
