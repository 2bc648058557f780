"""The SSRF guard: every URL of the corpus is refused before a socket opens."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import httpcore
import pytest

from orchestrator_core import ErrorCode, NodeError
from orchestrator_core.net import ConnectorTarget, EgressPolicy, SafeHttpClient, ip_block_reason
from orchestrator_core.net.policy import literal_ip
from orchestrator_core.ports import HttpRequest

DNS: dict[str, list[str]] = {
    "localhost": ["127.0.0.1"],
    "metadata.google.internal": ["169.254.169.254"],
    "public.test": ["93.184.216.34"],
    "api.example-crm.test": ["93.184.216.34"],
    "evil.test": ["93.184.216.35"],
    "internal.corp.test": ["10.1.2.3"],
    "mixed.test": ["93.184.216.34", "127.0.0.1"],
    "v6-loop.test": ["::1"],
    "v6-mapped.test": ["::ffff:10.0.0.1"],
    "127.0.0.1.nip.io": ["127.0.0.1"],
    "metadata.aws.test": ["169.254.169.254"],
}

SSRF_CORPUS = [
    "http://127.0.0.1/",
    "http://127.0.0.1:8080/admin",
    "https://127.0.0.1/",
    "http://127.1/",
    "http://127.255.255.254/",
    "http://localhost/",
    "http://localhost./",
    "http://LOCALHOST:80/",
    "http://app.localhost/",
    "http://0/",
    "http://0.0.0.0/",
    "http://0x7f000001/",
    "http://0x7f000001:80/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://0x7f.0.0.1/",
    "http://[::1]/",
    "http://[::]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[0:0:0:0:0:ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::127.0.0.1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.170.2/v2/credentials",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata.aws.test/",
    "http://10.0.0.1/",
    "http://10.255.255.255/",
    "http://172.16.0.1/",
    "http://172.31.255.254/",
    "http://192.168.0.1/",
    "http://192.168.1.1:8443/",
    "http://100.64.0.1/",
    "http://100.127.255.254/",
    "http://198.18.0.1/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://[fc00::1]/",
    "http://[fd12:3456:789a::1]/",
    "http://[fe80::1]/",
    "http://[fec0::1]/",
    "http://[ff02::1]/",
    "http://[2002:7f00:1::]/",
    "http://[2002:a9fe:a9fe::1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[64:ff9b::a00:1]/",
    "http://[64:ff9b:1::a00:1]/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:70/_stats",
    "dict://127.0.0.1:11211/stat",
    "ftp://127.0.0.1/",
    "ldap://127.0.0.1/",
    "http://good@127.0.0.1/",
    "http://user:pass@public.test/",
    "http://public.test@127.0.0.1/",
    "http://internal.corp.test/",
    "http://mixed.test/",
    "http://v6-loop.test/",
    "http://v6-mapped.test/",
    "http://127.0.0.1.nip.io/",
]


def stub_resolver(calls: list[str]) -> Any:
    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        if host in DNS:
            return DNS[host]
        raise socket.gaierror(socket.EAI_NONAME, "not known")

    return resolve


@pytest.fixture
def no_connect(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Records (and refuses) every connection attempt, at httpcore's and the socket's level."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise AssertionError(f"a connection was attempted: {args}")

    monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


def test_the_corpus_is_large_enough() -> None:
    assert len(SSRF_CORPUS) >= 40
    assert len(set(SSRF_CORPUS)) == len(SSRF_CORPUS)


@pytest.mark.parametrize("url", SSRF_CORPUS)
def test_ssrf_corpus_is_refused_before_connect(url: str, no_connect: list[Any]) -> None:
    client = SafeHttpClient(policy=EgressPolicy.build(resolver=stub_resolver([])))
    with pytest.raises(NodeError) as info:
        client.request(HttpRequest(method="GET", url=url, timeout_seconds=2))
    assert info.value.code == ErrorCode.DESTINATION_NOT_ALLOWED, info.value.as_dict()
    assert "not allowed" in info.value.message.lower() or "not valid" in info.value.message.lower()
    assert no_connect == []


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_the_corpus_is_refused_for_other_methods_too(method: str, no_connect: list[Any]) -> None:
    client = SafeHttpClient(policy=EgressPolicy.build(resolver=stub_resolver([])))
    for url in SSRF_CORPUS:
        with pytest.raises(NodeError) as info:
            client.request(HttpRequest(method=method, url=url, body=b"x", timeout_seconds=2))
        assert info.value.code == ErrorCode.DESTINATION_NOT_ALLOWED, url
    assert no_connect == []


def test_rebinding_answer_is_checked_again_at_connect(no_connect: list[Any]) -> None:
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    policy = EgressPolicy.build(resolver=lambda host, port: next(answers))
    with pytest.raises(NodeError) as info:
        SafeHttpClient(policy=policy).request(HttpRequest(method="GET", url="http://rebind.test/"))
    assert info.value.code == ErrorCode.DESTINATION_NOT_ALLOWED
    assert no_connect == []


def test_unresolvable_host_is_an_http_error(no_connect: list[Any]) -> None:
    client = SafeHttpClient(policy=EgressPolicy.build(resolver=stub_resolver([])))
    with pytest.raises(NodeError) as info:
        client.request(HttpRequest(method="GET", url="http://nowhere.test/"))
    assert info.value.code == ErrorCode.HTTP_ERROR
    assert info.value.details == {"reason": "dns"}


def test_connector_credentials_are_bound_to_their_hosts(no_connect: list[Any]) -> None:
    target = ConnectorTarget(
        name="crm",
        base_url="https://api.example-crm.test/v1",
        allowed_hosts=("api.example-crm.test",),
        auth_headers={"Authorization": "Bearer canary-123"},
        secrets=("canary-123",),
    )
    client = SafeHttpClient(
        policy=EgressPolicy.build(resolver=stub_resolver([])), connectors=lambda n: target
    )
    for url in ("https://evil.test/steal", "http://evil.test/", "https://api.example-crm.test.evil.test/"):
        with pytest.raises(NodeError) as info:
            client.request(HttpRequest(method="GET", url=url, connector="crm"))
        assert info.value.code == ErrorCode.DESTINATION_NOT_ALLOWED
        assert info.value.details["reason"] == "connector host"  # type: ignore[index]
        assert "canary-123" not in str(info.value.as_dict())
    assert no_connect == []


def test_wildcard_connector_hosts() -> None:
    target = ConnectorTarget(name="c", base_url="https://a.example.test", allowed_hosts=("*.example.test",))
    assert target.host_allowed("a.example.test")
    assert target.host_allowed("A.B.Example.Test.")
    assert not target.host_allowed("example.test")
    assert not target.host_allowed("evilexample.test")


def test_connector_url_is_relative_to_base_url() -> None:
    from orchestrator_core.net.client import join_url

    assert join_url("https://api.test/v1", "/orders/1") == "https://api.test/v1/orders/1"
    assert join_url("https://api.test/v1/", "orders") == "https://api.test/v1/orders"
    assert join_url("https://api.test/v1", "") == "https://api.test/v1"
    assert join_url("https://api.test/v1", "https://other.test/x") == "https://other.test/x"


@pytest.mark.parametrize(
    "ip",
    [
        "8.8.8.8",
        "93.184.216.34",
        "2606:4700:4700::1111",
        "2002:5db8:d822::1",
        "64:ff9b::808:808",
        "::ffff:8.8.8.8",
    ],
)
def test_public_addresses_pass(ip: str) -> None:
    assert ip_block_reason(ipaddress.ip_address(ip)) is None


def test_numeric_host_spellings_decode_like_the_c_resolver() -> None:
    for host in ("2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0x7f.1"):
        assert str(literal_ip(host)) == "127.0.0.1", host
    assert str(literal_ip("0")) == "0.0.0.0"  # noqa: S104
    assert literal_ip("example.test") is None
    assert literal_ip("deadbeef.test") is None


def test_admin_allowlist_lifts_the_private_check() -> None:
    calls: list[str] = []
    policy = EgressPolicy.build(
        ["internal.corp.test", "10.9.0.0/16", "127.0.0.1"], resolver=stub_resolver(calls)
    )
    assert [str(a) for a in policy.resolve("internal.corp.test", 80)] == ["10.1.2.3"]
    assert [str(a) for a in policy.resolve("10.9.1.1", 80)] == ["10.9.1.1"]
    assert [str(a) for a in policy.resolve("127.0.0.1", 80)] == ["127.0.0.1"]
    with pytest.raises(NodeError):
        policy.resolve("10.8.1.1", 80)
    with pytest.raises(NodeError):  # allowed by name only: another spelling of 127.0.0.1 is not
        policy.resolve("localhost", 80)
