"""Checks on PNG screenshots without an imaging library (zlib and the PNG layout only)."""

from __future__ import annotations

import struct
import zlib

__all__ = ["png_size", "png_variety"]


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    chunks, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        chunks.append((kind, png[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return chunks


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk."""
    header = dict(_chunks(png))[b"IHDR"]
    width, height = struct.unpack(">II", header[:8])
    return width, height


def png_variety(png: bytes) -> int:
    """Distinct byte values in the filtered scanlines: about 1-3 for a blank image of one
    colour, well over 100 for a page with text and charts."""
    data = zlib.decompress(b"".join(body for kind, body in _chunks(png) if kind == b"IDAT"))
    return len(set(data))
