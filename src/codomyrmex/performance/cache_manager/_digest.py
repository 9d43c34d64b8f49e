"""Cross-process cache keys: a stable digest of plain-data arguments.

Keys that cross processes (the Redis backend) cannot rely on ``hash()`` or identity, so
:func:`stable_digest` encodes plain data (None, bool, numbers, str, bytes, tuples, lists,
dicts, sets) canonically and hashes it with BLAKE2b; equal arguments give the same digest
in every process and under every ``PYTHONHASHSEED``. Any other type raises ``TypeError``
rather than fall back to ``repr()``, which would let different objects share an entry;
so does a value nested too deeply to encode (a list containing itself, say). Integers too
long for ``str()`` (``sys.set_int_max_str_digits``) are encoded in hexadecimal.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["stable_digest"]


def stable_digest(
    args: tuple[Any, ...], kwargs: dict[str, Any], *, typed: bool, custom: bool = False
) -> str:
    """A digest of the call that is the same in every process for equal plain-data keys.

    With ``custom=True`` ``args[0]`` is the value returned by a user ``key=`` function.
    Raises ``TypeError`` for values that have no canonical form.
    """
    try:
        if custom:
            payload: Any = _canonical(args[0], typed)
        else:
            payload = [
                [_canonical(value, typed) for value in args],
                [[name, _canonical(value, typed)] for name, value in kwargs.items()],
            ]
        encoded = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    except RecursionError:
        raise TypeError(
            "an argument nested this deeply (or containing itself) has no stable "
            "cross-process key; pass a key= function returning plain data"
        ) from None
    return hashlib.blake2b(encoded.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _canonical(value: Any, typed: bool) -> Any:
    """A JSON-able form in which equal keys (by Python equality) encode identically."""
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        return value
    if kind in (bool, int, float):
        return _canonical_number(value, typed)
    if isinstance(value, (bytes, bytearray)):
        return ["b", base64.b64encode(bytes(value)).decode("ascii")]
    if isinstance(value, tuple):
        return ["t", [_canonical(item, typed) for item in value]]
    if isinstance(value, list):
        return ["l", [_canonical(item, typed) for item in value]]
    if isinstance(value, dict):
        items = [[_canonical(k, typed), _canonical(v, typed)] for k, v in value.items()]
        return ["d", sorted(items, key=_sort_key)]
    if isinstance(value, (set, frozenset)):
        return ["s", sorted((_canonical(item, typed) for item in value), key=_sort_key)]
    raise TypeError(
        f"a {kind.__name__} argument has no stable cross-process key; "
        "pass a key= function returning plain data"
    )


def _canonical_number(value: bool | int | float, typed: bool) -> Any:
    if typed:
        text = _int_text(value) if type(value) is int else repr(value)
        return [type(value).__name__, text]
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return ["n", _int_text(int(value))]
        return ["n", repr(value)]
    return ["n", _int_text(int(value))]


def _int_text(value: int) -> str:
    """Decimal, or hexadecimal for an int longer than ``str()`` allows (no float is that long)."""
    try:
        return str(value)
    except ValueError:
        return "0x" + format(value, "x")


def _sort_key(item: Any) -> str:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False)
