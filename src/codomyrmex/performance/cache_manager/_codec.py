"""How cached values cross a shared backend: tagged JSON by default, signed pickle on request.

:class:`JsonCodec` (the default) round-trips plain data exactly: None, bool, int, float
(including nan and inf), str, bytes, lists, tuples, dicts with any plain-data keys, sets
and frozensets, nested freely. Anything else raises ``TypeError`` when stored, so the
value is simply not cached; nothing is ever executed when a value is read back.

:class:`SignedPickleCodec` stores any picklable value, but only with an HMAC key: each
payload carries an HMAC-SHA256 over the Redis key and the pickle bytes, checked in
constant time before anything is unpickled. A payload with a wrong or missing signature
raises :class:`BadPayload` (the cache counts an error and treats it as a miss). Binding the
signature to the key means a valid entry copied to another key is rejected too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import pickle
from typing import Any, Protocol

__all__ = ["BadPayload", "Codec", "JsonCodec", "SignedPickleCodec"]


class BadPayload(ValueError):
    """A stored payload that cannot be trusted or decoded: treated as a miss."""


class Codec(Protocol):
    """Turns values into bytes stored under a backend key and back."""

    def dumps(self, key: bytes, value: Any) -> bytes: ...

    def loads(self, key: bytes, payload: bytes) -> Any: ...


_JSON_PREFIX = b"J"
_PICKLE_PREFIX = b"P"


class JsonCodec:
    """Tagged JSON: exact round trips for plain data, ``TypeError`` for anything else."""

    def dumps(self, key: bytes, value: Any) -> bytes:
        return _JSON_PREFIX + json.dumps(_encode(value), separators=(",", ":")).encode()

    def loads(self, key: bytes, payload: bytes) -> Any:
        if not payload.startswith(_JSON_PREFIX):
            raise BadPayload("not a JSON cache payload")
        try:
            return _decode(json.loads(payload[1:]))
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise BadPayload(f"corrupt JSON cache payload: {exc}") from None


class SignedPickleCodec:
    """Pickle with an HMAC-SHA256 signature bound to the key; never unpickles unsigned bytes."""

    def __init__(self, hmac_key: bytes) -> None:
        if not isinstance(hmac_key, (bytes, bytearray)):
            raise TypeError(f"hmac_key must be bytes, not {type(hmac_key).__name__}")
        if len(hmac_key) < 16:
            raise ValueError("hmac_key must be at least 16 bytes long")
        self._hmac_key = bytes(hmac_key)

    def _sign(self, key: bytes, body: bytes) -> bytes:
        mac = hmac.new(self._hmac_key, digestmod=hashlib.sha256)
        mac.update(len(key).to_bytes(4, "big"))
        mac.update(key)
        mac.update(body)
        return mac.digest()

    def dumps(self, key: bytes, value: Any) -> bytes:
        try:
            body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # pickling runs user __reduce__ code: any error means "skip"
            raise TypeError(f"value cannot be pickled: {exc!r}") from None
        return _PICKLE_PREFIX + self._sign(key, body) + body

    def loads(self, key: bytes, payload: bytes) -> Any:
        if not payload.startswith(_PICKLE_PREFIX) or len(payload) < 33:
            raise BadPayload("not a signed pickle cache payload")
        signature, body = payload[1:33], payload[33:]
        if not hmac.compare_digest(signature, self._sign(key, body)):
            raise BadPayload("cache payload signature mismatch")
        return pickle.loads(body)


def _encode(value: Any) -> Any:
    if value is None or type(value) in (str, bool, int):
        return value
    if type(value) is float:
        return value  # json writes nan/inf as NaN/Infinity and reads them back
    if type(value) is list:
        return [_encode(item) for item in value]
    if type(value) is tuple:
        return {"t": [_encode(item) for item in value]}
    if type(value) is dict:
        return {"d": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if type(value) is bytes:
        return {"b": base64.b64encode(value).decode("ascii")}
    if type(value) is set:
        return {"s": [_encode(item) for item in value]}
    if type(value) is frozenset:
        return {"f": [_encode(item) for item in value]}
    raise TypeError(
        f"{type(value).__name__} is not plain data; the JSON cache serializer stores "
        "None, bool, int, float, str, bytes, list, tuple, dict, set and frozenset"
    )


def _decode(data: Any) -> Any:
    if isinstance(data, list):
        return [_decode(item) for item in data]
    if not isinstance(data, dict):
        return data
    ((tag, body),) = data.items()
    if tag == "t":
        return tuple(_decode(item) for item in body)
    if tag == "d":
        return {_hashable(_decode(k)): _decode(v) for k, v in body}
    if tag == "b":
        return base64.b64decode(body, validate=True)
    if tag == "s":
        return {_hashable(_decode(item)) for item in body}
    if tag == "f":
        return frozenset(_hashable(_decode(item)) for item in body)
    raise BadPayload(f"unknown tag {tag!r}")


def _hashable(value: Any) -> Any:
    hash(value)
    return value
