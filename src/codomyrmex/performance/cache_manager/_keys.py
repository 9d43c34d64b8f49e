"""Cache keys: exact in-process keys and stable cross-process digests.

In-process keys follow ``functools._make_key``: the arguments themselves, so equal values
share an entry (``1`` and ``1.0`` do, unless ``typed=True``) and distinct objects that
merely print the same never do. A single ``int``/``str``/``float``/``bool`` argument is its
own key (no tuple is built on the hot path). Unhashable arguments (lists, dicts, sets,
bytearrays, nested in any way) go through :func:`freeze`, a recursive conversion to tuples
and frozensets that keeps equality: ``[1, 2]`` and ``(1, 2)`` stay distinct, two dicts
with the same items share whatever their insertion order.

Keys that cross processes (the Redis backend) cannot rely on ``hash()`` or identity, so
:func:`stable_digest` encodes plain data (None, bool, numbers, str, bytes, tuples, lists,
dicts, sets) canonically and hashes it; any other type raises ``TypeError`` rather than
fall back to ``repr()``, which would let different objects share an entry.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["KeyMaker", "freeze", "key_maker", "stable_digest"]

#: Builds the cache key of one call from its positional and keyword arguments.
KeyMaker = Callable[[tuple[Any, ...], dict[str, Any]], Hashable]

#: Types whose single positional argument is its own key when ``typed=False``. They are
#: never tuples, so they cannot collide with the tuple key of a multi-argument call.
UNTYPED_FAST_TYPES: frozenset[type] = frozenset({int, str, float, bool})
#: With ``typed=True`` only types that can never compare equal to each other.
TYPED_FAST_TYPES: frozenset[type] = frozenset({int, str})


class _Marker:
    """A private, hashable tag that no user value can equal."""

    __slots__ = ("label",)

    def __init__(self, label: str) -> None:
        self.label = label

    def __repr__(self) -> str:
        return f"<{self.label}>"


_KWARGS = _Marker("kwargs")
_LIST = _Marker("list")
_DICT = _Marker("dict")
_BYTEARRAY = _Marker("bytearray")


def key_maker(*, typed: bool, namespace: Hashable | None = None) -> KeyMaker:
    """A key builder for one cached function, specialised once at decoration time.

    ``namespace`` prefixes every key when several functions share one cache, so that each
    function's entries can be told apart (and cleared) without a scan of foreign keys.
    """
    fast = TYPED_FAST_TYPES if typed else UNTYPED_FAST_TYPES

    if typed:

        def make(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable:
            if not kwargs and len(args) == 1 and type(args[0]) in fast:
                single: Hashable = args[0]
                return single
            key: tuple[Any, ...] = args
            if kwargs:
                key += (_KWARGS, *kwargs.items())
            key += tuple(type(value) for value in args)
            if kwargs:
                key += tuple(type(value) for value in kwargs.values())
            return key

    else:

        def make(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable:
            if not kwargs and len(args) == 1 and type(args[0]) in fast:
                single: Hashable = args[0]
                return single
            if kwargs:
                return (*args, _KWARGS, *kwargs.items())
            return args

    if namespace is None:
        return make

    def make_namespaced(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable:
        return (namespace, make(args, kwargs))

    return make_namespaced


def freeze(value: Any) -> Hashable:
    """A hashable stand-in for ``value`` that is equal exactly when the values are equal.

    Raises ``TypeError`` for an unhashable object it does not know how to freeze.
    """
    kind = type(value)
    if kind is tuple:
        return tuple(freeze(item) for item in value)
    if isinstance(value, list):
        return (_LIST, tuple(freeze(item) for item in value))
    if isinstance(value, dict):
        return (_DICT, frozenset((freeze(k), freeze(v)) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return frozenset(freeze(item) for item in value)
    if isinstance(value, bytearray):
        return (_BYTEARRAY, bytes(value))
    if isinstance(value, tuple):  # a namedtuple or other tuple subclass holding lists
        return (kind, tuple(freeze(item) for item in value))
    hash(value)
    return value  # type: ignore[no-any-return]


def stable_digest(
    args: tuple[Any, ...], kwargs: dict[str, Any], *, typed: bool, custom: bool = False
) -> str:
    """A digest of the call that is the same in every process for equal plain-data keys.

    With ``custom=True`` ``args[0]`` is the value returned by a user ``key=`` function.
    Raises ``TypeError`` for values that have no canonical form.
    """
    if custom:
        payload: Any = _canonical(args[0], typed)
    else:
        payload = [
            [_canonical(value, typed) for value in args],
            [[name, _canonical(value, typed)] for name, value in kwargs.items()],
        ]
    encoded = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
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
        return [type(value).__name__, repr(value)]
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return ["n", str(int(value))]
        return ["n", repr(value)]
    return ["n", str(int(value))]


def _sort_key(item: Any) -> str:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False)
