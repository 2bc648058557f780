// Helpers for pydantic-flavoured JSON Schema: $ref resolution, nullable anyOf, defaults.
import type { JsonSchema } from "../../api/types";

/** Follows `$ref` (and single-entry `allOf`) against the root's `$defs` / `definitions`. */
export function resolveRef(schema: JsonSchema, root: JsonSchema, depth = 0): JsonSchema {
  if (depth > 20) return schema;
  if (schema.$ref) {
    const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(schema.$ref);
    const target = m ? root[m[1]] : undefined;
    const def = target && typeof target === "object" ? (target as Record<string, JsonSchema>)[m![2]] : undefined;
    if (def) {
      const { $ref: _ref, ...rest } = schema;
      return resolveRef({ ...def, ...rest }, root, depth + 1);
    }
  }
  if (schema.allOf && schema.allOf.length === 1) {
    const { allOf, ...rest } = schema;
    return resolveRef({ ...allOf[0], ...rest }, root, depth + 1);
  }
  return schema;
}

export interface Normalized {
  schema: JsonSchema;
  nullable: boolean;
}

/**
 * `anyOf` of one or more constants and one integer/number (e.g. a version: `"latest"` or `3`):
 * the constants and the number's schema, or null for any other shape.
 */
export function constOrNumber(variants: JsonSchema[]): { consts: unknown[]; number: JsonSchema } | null {
  const consts = variants.filter((v) => "const" in v);
  const numbers = variants.filter((v) => !("const" in v) && (v.type === "integer" || v.type === "number"));
  if (!consts.length || numbers.length !== 1 || consts.length + 1 !== variants.length) return null;
  return { consts: consts.map((v) => v.const), number: numbers[0] };
}

/** Resolves refs and unwraps `anyOf: [X, {type: "null"}]` (pydantic's Optional[X]). */
export function normalize(schema: JsonSchema, root: JsonSchema): Normalized {
  let s = resolveRef(schema, root);
  let nullable = false;
  const variants = s.anyOf ?? s.oneOf;
  if (variants) {
    const nonNull = variants.filter((v) => v.type !== "null");
    nullable = nonNull.length < variants.length;
    if (nonNull.length === 1) {
      const { anyOf: _a, oneOf: _o, ...rest } = s;
      s = { ...resolveRef(nonNull[0], root), ...rest };
    } else if (nonNull.length > 1 && nonNull.every((v) => "const" in v)) {
      const { anyOf: _a, oneOf: _o, ...rest } = s;
      s = { ...rest, enum: nonNull.map((v) => v.const) };
    } else {
      const choice = constOrNumber(nonNull.map((v) => resolveRef(v, root)));
      if (choice) {
        const { anyOf: _a, oneOf: _o, ...rest } = s;
        s = { ...rest, ui: { ...rest.ui, widget: "const-or-number", consts: choice.consts }, number: choice.number };
      }
    }
  }
  if (Array.isArray(s.type)) {
    const types = s.type.filter((t) => t !== "null");
    nullable = nullable || types.length < s.type.length;
    s = { ...s, type: types[0] };
  }
  if (s.const !== undefined && !s.enum) s = { ...s, enum: [s.const] };
  return { schema: s, nullable };
}

/** The initial config for a node: every property's `default`, recursively for objects. */
export function defaultsFor(schema: JsonSchema | undefined, root?: JsonSchema): Record<string, unknown> {
  if (!schema) return {};
  const r = root ?? schema;
  const s = resolveRef(schema, r);
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    const { schema: p } = normalize(prop, r);
    if (p.default !== undefined) out[key] = structuredClone(p.default);
    else if (p.type === "object" && p.properties) out[key] = defaultsFor(p, r);
  }
  return out;
}

export function humanize(key: string): string {
  const s = key.replace(/_/g, " ").trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
}
