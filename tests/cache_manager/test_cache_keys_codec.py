"""Key building (in-process and cross-process) and the value codecs of shared backends."""

from __future__ import annotations

import math
import pickle
from typing import Any

import pytest

from codomyrmex.performance.cache_manager._codec import BadPayload, Codec
from codomyrmex.performance.cache_manager._digest import stable_digest
from codomyrmex.performance.cache_manager._keys import freeze, key_maker
from harness.subprocesses import run_python


def test_single_plain_argument_is_its_own_key() -> None:
    make = key_maker(typed=False)
    assert make((5,), {}) == 5
    assert make(("s",), {}) == "s"
    assert make((1, 2), {}) == (1, 2)
    assert make(((1, 2),), {}) == ((1, 2),)  # a tuple argument never collides with two args
    assert make((1,), {"b": 2}) != make((1, 2), {})


def test_typed_keys_keep_types_apart() -> None:
    make = key_maker(typed=True)
    assert make((1,), {}) != make((1.0,), {})
    assert make((1, 2), {}) != make((1.0, 2), {})
    assert make((1,), {"x": 1}) != make((1,), {"x": 1.0})
    assert make((1,), {"x": 1}) == make((1,), {"x": 1})


def test_namespaced_keys() -> None:
    ns = object()
    assert key_maker(typed=False, namespace=ns)((1,), {}) == (ns, 1)


def test_freeze_keeps_equality_exact() -> None:
    assert freeze([1, 2]) == freeze([1, 2])
    assert freeze([1, 2]) != freeze((1, 2))
    assert freeze({"a": 1, "b": [2]}) == freeze({"b": [2], "a": 1})
    assert freeze({"a": 1}) != freeze([("a", 1)])
    assert freeze({1, 2}) == freeze(frozenset({2, 1}))
    assert freeze(bytearray(b"x")) != freeze(b"x")
    assert hash(freeze(([1, {"k": {3}}], {"z": [None]})))
    with pytest.raises(TypeError):
        freeze([object.__new__(type("NoHash", (), {"__hash__": None}))])


def test_stable_digest_equality_rules() -> None:
    def digest(*args: Any, typed: bool = False, **kwargs: Any) -> str:
        return stable_digest(args, kwargs, typed=typed)

    assert digest(1) == digest(1.0) == digest(True)
    assert digest(1, typed=True) != digest(1.0, typed=True)
    assert digest(0.5) != digest(1)
    assert digest("1") != digest(1)
    assert digest([1, 2]) != digest((1, 2))
    assert digest({"a": 1, "b": 2}) == digest({"b": 2, "a": 1})
    assert digest({3, 1, 2}) == digest({1, 2, 3})
    assert digest(b"x") != digest("x")
    assert digest(1, k=2) != digest(1, 2)
    assert digest(math.nan) == digest(math.nan)
    assert len(digest(None)) == 32
    with pytest.raises(TypeError, match="stable"):
        digest(object())


def test_stable_digest_is_the_same_in_another_process() -> None:
    args = ({"b": [1, (2, b"x")], "a": {3, 4}}, "é")
    here = stable_digest(args, {"k": 1.0}, typed=False)
    result = run_python(
        f"""
        from codomyrmex.performance.cache_manager._digest import stable_digest
        print(stable_digest({args!r}, {{"k": 1.0}}, typed=False))
        """,
        env={"PYTHONHASHSEED": "12345"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == here


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -(2**70),
        1.5,
        math.inf,
        "tëxt",
        b"\x00\x01",
        [1, [2]],
        (1, (2, [3])),
        {"a": 1, 2: "b", (3, 4): None},
        {1, "x"},
        frozenset({(1, 2)}),
        {"t": [1]},  # a dict that looks like a tag
    ],
)
@pytest.mark.parametrize("hmac_key", [None, b"k" * 16])
def test_json_codec_round_trips_plain_data(value: Any, hmac_key: bytes | None) -> None:
    codec = Codec("json", hmac_key)
    back = codec.loads(b"k", codec.dumps(b"k", value))
    assert back == value
    assert type(back) is type(value)


def test_json_codec_nan_and_rejections() -> None:
    codec = Codec()
    assert math.isnan(codec.loads(b"k", codec.dumps(b"k", math.nan)))
    for bad in (object(), {"k": object()}, [1, 2j]):
        with pytest.raises(TypeError):
            codec.dumps(b"k", bad)
    for payload in (b"", b"Jnot json", b'J{"zz": 1}', b'J{"t": 1, "d": 2}', b"P..."):
        with pytest.raises(BadPayload):
            codec.loads(b"k", payload)


def test_signed_pickle_codec() -> None:
    codec = Codec("pickle", b"k" * 32)
    payload = codec.dumps(b"key", {"complex": 2j})
    assert codec.loads(b"key", payload) == {"complex": 2j}
    with pytest.raises(BadPayload, match="signature"):
        codec.loads(b"other-key", payload)
    with pytest.raises(BadPayload, match="signature"):
        Codec("pickle", b"x" * 32).loads(b"key", payload)
    with pytest.raises(BadPayload, match="unsigned"):
        codec.loads(b"key", pickle.dumps("unsigned"))
    with pytest.raises(TypeError):
        codec.dumps(b"key", lambda: 1)


def test_signed_json_rejects_unsigned_forged_and_moved_payloads() -> None:
    signed = Codec("json", b"s" * 16)
    plain = Codec("json")
    payload = signed.dumps(b"key", {"price": 10})
    assert signed.loads(b"key", payload) == {"price": 10}
    with pytest.raises(BadPayload, match="unsigned"):
        signed.loads(b"key", plain.dumps(b"key", {"price": 0}))
    forged = payload[:33] + plain.dumps(b"key", {"price": 0})
    with pytest.raises(BadPayload, match="signature"):
        signed.loads(b"key", forged)
    with pytest.raises(BadPayload, match="signature"):
        signed.loads(b"other-key", payload)
    with pytest.raises(BadPayload, match="no hmac_key"):
        plain.loads(b"key", payload)
    pickled = Codec("pickle", b"s" * 16).dumps(b"key", {"price": 10})
    with pytest.raises(BadPayload, match="not a json"):
        signed.loads(b"key", pickled)  # same key, but a JSON cache never unpickles


def cyclic_list() -> list[Any]:
    looped: list[Any] = [1]
    looped.append(looped)
    return looped


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "value",
    [cyclic_list(), nested(5000), 10**5000, {"k": cyclic_list()}],
    ids=["cyclic", "deep", "long-int", "cyclic-in-dict"],
)
def test_json_failures_are_type_errors(value: Any) -> None:
    with pytest.raises(TypeError, match="cannot be stored"):
        Codec().dumps(b"key", value)


def test_pickle_failures_are_type_errors() -> None:
    with pytest.raises(TypeError, match="cannot be stored"):
        Codec("pickle", b"p" * 16).dumps(b"key", nested(100_000))


def test_corrupt_payloads_are_bad_payloads() -> None:
    codec = Codec()
    deep = b"J" + b"[" * 100_000 + b"]" * 100_000
    for payload in (deep, b'J{"b": "!!"}', b"J\xff", b'J{"d": [[[1], 2]]}'):
        with pytest.raises(BadPayload):
            codec.loads(b"k", payload)


def test_freeze_rejects_self_containing_values_with_a_clear_type_error() -> None:
    looped = cyclic_list()
    with pytest.raises(TypeError, match="contains itself"):
        freeze(looped)
    mapping: dict[str, Any] = {}
    mapping["self"] = mapping
    with pytest.raises(TypeError, match="contains itself"):
        freeze((1, [mapping]))
    with pytest.raises(TypeError, match="deeply"):
        freeze(nested(100_000))
    shared = [1]
    assert freeze([shared, shared]) == freeze([[1], [1]])  # repeated, not cyclic


def test_stable_digest_of_long_ints_and_bad_nesting() -> None:
    long_int = 10**5000
    assert stable_digest((long_int,), {}, typed=False) == stable_digest(
        (long_int,), {}, typed=False
    )
    assert stable_digest((long_int,), {}, typed=False) != stable_digest(
        (long_int + 1,), {}, typed=False
    )
    assert stable_digest((long_int,), {}, typed=True) != stable_digest((long_int,), {}, typed=False)
    for bad in (cyclic_list(), nested(100_000)):
        with pytest.raises(TypeError, match="deeply"):
            stable_digest((bad,), {}, typed=False)
