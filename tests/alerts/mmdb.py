"""A minimal MaxMind DB (.mmdb) writer for tests: an IPv4 search tree and the data types a
GeoIP2 City record uses (maps, strings, doubles, unsigned integers).

Written from the published format specification (https://maxmind.github.io/MaxMind-DB/), so the
real ``maxminddb`` reader reads a real file in the tests instead of a fake object.
"""

from __future__ import annotations

import ipaddress
import struct
from pathlib import Path
from typing import Any

_METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"


def _control(type_: int, size: int) -> bytes:
    if size < 29:
        head, extra = size, b""
    elif size < 285:
        head, extra = 29, bytes([size - 29])
    elif size < 65821:
        head, extra = 30, (size - 285).to_bytes(2, "big")
    else:
        head, extra = 31, (size - 65821).to_bytes(3, "big")
    if type_ <= 7:
        return bytes([(type_ << 5) | head]) + extra
    return bytes([head, type_ - 7]) + extra  # extended type


class Uint:
    """An unsigned integer of an exact MMDB type (16, 32 or 64 bits): libmaxminddb checks the
    metadata's types (node_count uint32, build_epoch uint64, versions uint16)."""

    def __init__(self, value: int, bits: int) -> None:
        self.value, self.type = value, {16: 5, 32: 6, 64: 9, 128: 10}[bits]


def encode(value: Any) -> bytes:
    if isinstance(value, Uint):
        raw = value.value.to_bytes((value.value.bit_length() + 7) // 8, "big") if value.value else b""
        return _control(value.type, len(raw)) + raw
    if isinstance(value, bool):
        return _control(14, int(value))
    if isinstance(value, str):
        raw = value.encode()
        return _control(2, len(raw)) + raw
    if isinstance(value, float):
        return _control(3, 8) + struct.pack(">d", value)
    if isinstance(value, int):
        if value < 0:
            raise ValueError("only unsigned integers")
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
        if value < 1 << 16:
            return _control(5, len(raw)) + raw
        if value < 1 << 32:
            return _control(6, len(raw)) + raw
        return _control(9, len(raw)) + raw
    if isinstance(value, dict):
        out = _control(7, len(value))
        for key, item in value.items():
            out += encode(str(key)) + encode(item)
        return out
    if isinstance(value, list | tuple):
        return _control(11, len(value)) + b"".join(encode(item) for item in value)
    raise TypeError(type(value))


def write(path: Path, networks: dict[str, dict[str, Any]], *, database_type: str = "GeoIP2-City") -> Path:
    """Write ``networks`` (IPv4 CIDR → record) as an IPv4 MaxMind DB with 24-bit records."""
    # A binary trie: each node is [left, right], an int child node, ("data", i) or None.
    nodes: list[list[Any]] = [[None, None]]
    records: list[bytes] = []
    for cidr, record in networks.items():
        network = ipaddress.ip_network(cidr)
        bits = int(network.network_address)
        node = 0
        for depth in range(network.prefixlen):
            bit = (bits >> (31 - depth)) & 1
            if depth == network.prefixlen - 1:
                nodes[node][bit] = ("data", len(records))
            else:
                child = nodes[node][bit]
                if not isinstance(child, int):
                    nodes.append([None, None])
                    child = nodes[node][bit] = len(nodes) - 1
                node = child
        records.append(encode(record))
    node_count = len(nodes)
    offsets, data = [], b""
    for raw in records:
        offsets.append(len(data))
        data += raw

    def value(child: Any) -> int:
        if child is None:
            return node_count
        if isinstance(child, int):
            return child
        return node_count + 16 + offsets[child[1]]

    tree = b"".join(value(left).to_bytes(3, "big") + value(right).to_bytes(3, "big")
                    for left, right in nodes)
    metadata = encode({
        "node_count": Uint(node_count, 32), "record_size": Uint(24, 16),
        "ip_version": Uint(4, 16), "database_type": database_type, "languages": ["en"],
        "binary_format_major_version": Uint(2, 16), "binary_format_minor_version": Uint(0, 16),
        "build_epoch": Uint(1_764_547_200, 64), "description": {"en": "mailadmin test database"},
    })
    path.write_bytes(tree + b"\x00" * 16 + data + _METADATA_MARKER + metadata)
    return path
