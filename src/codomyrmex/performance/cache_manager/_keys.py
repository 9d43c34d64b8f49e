"""In-process cache keys, exact as in ``functools``.

Keys follow ``functools._make_key``: the arguments themselves, so equal values share an
entry (``1`` and ``1.0`` do, unless ``typed=True``) and distinct objects that merely print
the same never do. A single ``int``/``str``/``float``/``bool`` argument is its own key (no
tuple is built on the hot path). Unhashable arguments (lists, dicts, sets, bytearrays,
nested in any way) go through :func:`freeze`, a recursive conversion to tuples and
frozensets that keeps equality: ``[1, 2]`` and ``(1, 2)`` stay distinct, two dicts with the
same items share whatever their insertion order. A list or dict that contains itself has
no frozen form: :func:`freeze` raises ``TypeError`` (as ``functools.lru_cache`` does for
any unhashable argument) instead of recursing until ``RecursionError``.

Keys that cross processes are digests: :mod:`codomyrmex.performance.cache_manager._digest`.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Hashable
    from typing import Any

    #: Builds the cache key of one call from its positional and keyword arguments.
    KeyMaker = Callable[[tuple[Any, ...], dict[str, Any]], Hashable]

__all__ = ["UNTYPED_FAST_TYPES", "KeyMaker", "freeze", "key_maker"]

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

    Raises ``TypeError`` for an unhashable object it does not know how to freeze, for a
    container that contains itself, and for one nested deeper than the recursion limit.
    """
    try:
        return _freeze(value, set())
    except RecursionError:
        raise TypeError("an argument nested this deeply cannot be a cache key") from None


def _freeze(value: Any, open_containers: set[int]) -> Hashable:
    kind = type(value)
    if kind is tuple:
        return tuple(_freeze(item, open_containers) for item in value)
    if isinstance(value, (list, dict)):
        identity = id(value)
        if identity in open_containers:
            raise TypeError(
                f"a {kind.__name__} that contains itself cannot be a cache key; "
                "pass a key= function"
            )
        open_containers.add(identity)
        try:
            if isinstance(value, list):
                return (_LIST, tuple(_freeze(item, open_containers) for item in value))
            return (
                _DICT,
                frozenset(
                    (_freeze(k, open_containers), _freeze(v, open_containers))
                    for k, v in value.items()
                ),
            )
        finally:
            open_containers.discard(identity)
    if isinstance(value, (set, frozenset)):  # their items are hashable: no cycle possible
        return frozenset(_freeze(item, open_containers) for item in value)
    if isinstance(value, bytearray):
        return (_BYTEARRAY, bytes(value))
    if isinstance(value, tuple):  # a namedtuple or other tuple subclass holding lists
        return (kind, tuple(_freeze(item, open_containers) for item in value))
    hash(value)
    return value  # type: ignore[no-any-return]
