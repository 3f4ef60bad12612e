"""The app's JSON provider: orjson for response bodies, and room for bytes encoded already.

Flask's default provider encodes with the standard library, a tenth of
orjson's speed; a pull page of 1000 records is about 1.5 MB of JSON, and
every answer of the hub goes through here. Objects that carry their own
encoding (:class:`Encoded`: a pull item spliced from stored bytes, see
hub.records.views) are written as they are, not decoded and encoded again.

What orjson cannot encode (an integer beyond 64 bits, a type only Flask's
provider knows) falls back to Flask's provider, so nothing that encoded
before fails now. Request bodies are still read by hub.api's strict parser.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider

#: dataclasses go through ``_default`` (an Encoded item is one), as with Flask's provider
OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS


class Encoded:
    """A value whose JSON text is ``self.json`` (bytes), written into a response unchanged."""

    __slots__ = ()
    json: bytes


def _default(value: Any) -> Any:
    if isinstance(value, Encoded):
        return orjson.Fragment(value.json)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(type(value).__name__)


class OrjsonProvider(DefaultJSONProvider):
    """Compact, UTF-8, members in insertion order (the protocol's examples read top down)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return self.dumpb(obj).decode("utf-8")

    def dumpb(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(obj, default=_default, option=OPTIONS)
        except (orjson.JSONEncodeError, TypeError):
            return super().dumps(obj, default=_fallback).encode("utf-8")

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        return Response(self.dumpb(obj), mimetype=self.mimetype)


def _fallback(value: Any) -> Any:
    if isinstance(value, Encoded):
        return orjson.loads(value.json)
    return DefaultJSONProvider.default(value)


def init_json(app: Flask) -> None:
    app.json = OrjsonProvider(app)
