"""The client IP under hostile headers: no header a client writes can choose the address."""

from __future__ import annotations

import ipaddress
import itertools

import pytest
from django.http import HttpRequest
from django.test import RequestFactory, override_settings

from activity.clientip import UNKNOWN_IP, client_ip, client_ip_for_axes, parse_ip, resolve_client_ip

ATTACKER = "203.0.113.7"
PROXY = "10.0.0.2"

# What a client might forge: addresses inside a typical allowlist, loopback, odd notations,
# garbage, and very long lists.
FORGED_TOKENS = [
    "10.0.0.1", "127.0.0.1", "192.168.1.10", "::1", "[::1]", "[2001:db8::1]:443", "2001:db8::1",
    "::ffff:10.0.0.1", "::ffff:127.0.0.1", "1.2.3.4:8080", "fe80::1%eth0", '"10.0.0.3"', "unknown",
    "garbage", "", " ", "999.999.999.999", "10.0.0.0/8", "0x0a000001", "1.2.3.4, 5.6.7.8",
    "10.0.0.1,10.0.0.1,10.0.0.1", ",,,", "\x00", "\u0661\u0660.\u0660.\u0660.\u0661", "🙂",
    ", ".join(f"10.0.{i // 256}.{i % 256}" for i in range(300)),
]
HEADER_SHAPES = ["xff", "xreal", "both", "xff_twice", "xff_with_spaces", "forwarded", "xff_ports",
                 "xff_mapped"]


def _headers(token: str, shape: str) -> dict[str, str]:
    match shape:
        case "xff":
            return {"HTTP_X_FORWARDED_FOR": token}
        case "xreal":
            return {"HTTP_X_REAL_IP": token}
        case "both":
            return {"HTTP_X_FORWARDED_FOR": token, "HTTP_X_REAL_IP": token}
        case "xff_twice":  # what a server makes of two X-Forwarded-For headers
            return {"HTTP_X_FORWARDED_FOR": f"{token},{token}"}
        case "xff_with_spaces":
            return {"HTTP_X_FORWARDED_FOR": f"  {token} ,  {token}  "}
        case "forwarded":
            return {"HTTP_FORWARDED": f"for={token};proto=https", "HTTP_X_CLIENT_IP": token}
        case "xff_ports":
            return {"HTTP_X_FORWARDED_FOR": f"[{token}]:1234, {token}:80"}
        case _:
            return {"HTTP_X_FORWARDED_FOR": f"::ffff:{token}"}


VARIANTS = list(itertools.product(FORGED_TOKENS, HEADER_SHAPES))


def test_enough_variants() -> None:
    assert len(VARIANTS) >= 200


def _request(remote_addr: str, headers: dict[str, str]) -> HttpRequest:
    request = RequestFactory().get("/signin/")
    request.META.update({"REMOTE_ADDR": remote_addr, **headers})
    return request


@override_settings(TRUSTED_PROXY_COUNT=0, TRUSTED_PROXY_CIDRS=[])
@pytest.mark.parametrize(("token", "shape"), VARIANTS)
def test_without_trusted_proxies_no_header_moves_the_address(token: str, shape: str) -> None:
    request = _request(ATTACKER, _headers(token, shape))
    assert client_ip(request) == ATTACKER
    assert client_ip_for_axes(request) == ATTACKER


@override_settings(TRUSTED_PROXY_COUNT=1, TRUSTED_PROXY_CIDRS=[])
@pytest.mark.parametrize(("token", "shape"), VARIANTS)
def test_with_one_trusted_proxy_only_the_right_most_hop_counts(token: str, shape: str) -> None:
    headers = _headers(token, shape)
    # Our proxy appends the address it saw; everything to its left is the client's writing.
    headers["HTTP_X_FORWARDED_FOR"] = f"{headers.get('HTTP_X_FORWARDED_FOR', '')}, {ATTACKER}"
    assert client_ip(_request(PROXY, headers)) == ATTACKER


@override_settings(TRUSTED_PROXY_COUNT=0, TRUSTED_PROXY_CIDRS=[ipaddress.ip_network("10.0.0.0/8")])
@pytest.mark.parametrize(("token", "shape"), VARIANTS)
def test_with_trusted_cidrs_forged_hops_left_of_the_client_are_ignored(token: str, shape: str) -> None:
    headers = _headers(token, shape)
    headers["HTTP_X_FORWARDED_FOR"] = f"{headers.get('HTTP_X_FORWARDED_FOR', '')}, {ATTACKER}"
    assert client_ip(_request(PROXY, headers)) == ATTACKER
    # A peer outside the proxy networks is the client, whatever it claims about others.
    assert client_ip(_request(ATTACKER, headers)) == ATTACKER


@override_settings(TRUSTED_PROXY_COUNT=1, TRUSTED_PROXY_CIDRS=[])
def test_garbage_where_the_proxy_should_have_written_is_unknown_not_the_proxy() -> None:
    # A proxy never writes garbage, so the request bypassed it; the proxy's own address (maybe
    # inside the allowlist) must not be used instead.
    assert client_ip(_request(PROXY, {"HTTP_X_FORWARDED_FOR": "garbage"})) == UNKNOWN_IP
    assert client_ip(_request(PROXY, {})) == UNKNOWN_IP


@override_settings(TRUSTED_PROXY_COUNT=2, TRUSTED_PROXY_CIDRS=[])
def test_two_proxies_skip_exactly_two_hops() -> None:
    request = _request(PROXY, {"HTTP_X_FORWARDED_FOR": f"10.9.9.9, {ATTACKER}, 10.0.0.5"})
    assert client_ip(request) == ATTACKER


@override_settings(TRUSTED_PROXY_COUNT=0, TRUSTED_PROXY_CIDRS=[])
@pytest.mark.parametrize(
    ("remote_addr", "expected"),
    [("::ffff:198.51.100.4", "198.51.100.4"), ("2001:db8::5", "2001:db8::5"), ("", UNKNOWN_IP),
     ("not-an-ip", UNKNOWN_IP)],
)
def test_peer_address_forms(remote_addr: str, expected: str) -> None:
    assert client_ip(_request(remote_addr, {})) == expected


def test_result_is_cached_on_the_request() -> None:
    request = _request(ATTACKER, {})
    assert client_ip(request) == ATTACKER
    request.META["REMOTE_ADDR"] = "198.51.100.1"
    assert client_ip(request) == ATTACKER


@pytest.mark.parametrize(
    ("token", "expected"),
    [("[2001:db8::1]:443", "2001:db8::1"), ("1.2.3.4:80", "1.2.3.4"), ("::ffff:1.2.3.4", "1.2.3.4"),
     ("fe80::1%eth0", "fe80::1"), (' "1.2.3.4" ', "1.2.3.4"), ("unknown", None), ("", None)],
)
def test_parse_ip(token: str, expected: str | None) -> None:
    parsed = parse_ip(token)
    assert (str(parsed) if parsed else None) == expected


def test_a_list_longer_than_any_proxy_chain_is_cut_not_trusted() -> None:
    hops = ", ".join(["10.0.0.9"] * 5000 + [ATTACKER])
    cidrs = [ipaddress.ip_network("10.0.0.0/8")]
    assert resolve_client_ip(PROXY, hops, proxy_count=0, proxy_cidrs=cidrs) == ATTACKER
    only_proxies = ", ".join(["10.0.0.9"] * 5000)
    assert resolve_client_ip(PROXY, only_proxies, proxy_count=0, proxy_cidrs=cidrs).startswith("10.")
