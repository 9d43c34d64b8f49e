"""How cached values cross a shared backend: tagged JSON or pickle, HMAC-signed on request.

JSON (the default) round-trips plain data exactly: None, bool, int, float (including nan
and inf), str, bytes, lists, tuples, dicts with any plain-data keys, sets and frozensets,
nested freely. Any other value (or one that cannot be encoded: cyclic, nested too deeply,
an int longer than ``str()`` allows) raises ``TypeError`` when stored, so it is simply not
cached; nothing is ever executed when a value is read back. Pickle stores any picklable
value, and is only allowed with an ``hmac_key``.

With ``hmac_key`` (any serializer) each payload carries an HMAC-SHA256 over the Redis key
and the serialized bytes, checked in constant time before anything is decoded; a payload
with a wrong or missing signature raises :class:`BadPayload` (the cache counts an error
and treats it as a miss). Binding the signature to the key means a valid entry copied to
another key is rejected too. Without a key, JSON entries are trusted as they are: anyone
who can write to the Redis server can set any cached result (of plain data).

Layout: ``J`` + JSON, or ``S`` + 32-byte signature + (``J`` + JSON | ``P`` + pickle).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import pickle

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["BadPayload", "Codec"]

_JSON, _PICKLE, _SIGNED = b"J", b"P", b"S"
_SIGNATURE_BYTES = 32
MIN_HMAC_KEY_BYTES = 16


class BadPayload(ValueError):
    """A stored payload that cannot be trusted or decoded: treated as a miss."""


class Codec:
    """Values to bytes stored under a key, and back: ``serializer`` and optional signing."""

    def __init__(self, serializer: str = "json", hmac_key: bytes | None = None) -> None:
        if serializer not in ("json", "pickle"):
            raise ValueError(f"serializer must be 'json' or 'pickle', got {serializer!r}")
        if hmac_key is not None:
            if not isinstance(hmac_key, (bytes, bytearray)):
                raise TypeError(f"hmac_key must be bytes, not {type(hmac_key).__name__}")
            if len(hmac_key) < MIN_HMAC_KEY_BYTES:
                raise ValueError(f"hmac_key must be at least {MIN_HMAC_KEY_BYTES} bytes long")
        elif serializer == "pickle":
            raise ValueError(
                "serializer='pickle' needs an hmac_key: unsigned pickles from a shared "
                "Redis would let anyone who can write to it run code in this process"
            )
        self.serializer = serializer
        self._tag = _JSON if serializer == "json" else _PICKLE
        self._hmac_key = None if hmac_key is None else bytes(hmac_key)

    def dumps(self, key: bytes, value: Any) -> bytes:
        """The payload of ``value``; ``TypeError`` when it cannot be stored."""
        try:
            if self._tag == _JSON:
                body = json.dumps(_encode(value), separators=(",", ":")).encode()
            else:
                body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except TypeError:
            raise
        except Exception as exc:  # cyclic, too deep, an int too long, a failing __reduce__
            raise TypeError(f"value cannot be stored: {exc!r}") from None
        inner = self._tag + body
        if self._hmac_key is None:
            return inner
        return _SIGNED + _signature(self._hmac_key, key, inner) + inner

    def loads(self, key: bytes, payload: bytes) -> Any:
        """The value of a payload stored under ``key``; :class:`BadPayload` if untrusted."""
        if self._hmac_key is not None:
            if not payload.startswith(_SIGNED) or len(payload) <= 1 + _SIGNATURE_BYTES:
                raise BadPayload("unsigned cache payload (this cache requires signatures)")
            signature, inner = payload[1 : 1 + _SIGNATURE_BYTES], payload[1 + _SIGNATURE_BYTES :]
            if not hmac.compare_digest(signature, _signature(self._hmac_key, key, inner)):
                raise BadPayload("cache payload signature mismatch")
        elif payload.startswith(_SIGNED):
            raise BadPayload("signed cache payload, but this cache has no hmac_key")
        else:
            inner = payload
        if not inner.startswith(self._tag):
            raise BadPayload(f"not a {self.serializer} cache payload")
        try:
            if self._tag == _JSON:
                return _decode(json.loads(inner[1:]))
            return pickle.loads(inner[1:])
        except BadPayload:
            raise
        except Exception as exc:  # corrupt JSON, a pickled class that is gone, too deep...
            raise BadPayload(f"corrupt {self.serializer} cache payload: {exc!r}") from None


def _signature(hmac_key: bytes, key: bytes, inner: bytes) -> bytes:
    mac = hmac.new(hmac_key, digestmod=hashlib.sha256)
    mac.update(len(key).to_bytes(4, "big"))
    mac.update(key)
    mac.update(inner)
    return mac.digest()


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
