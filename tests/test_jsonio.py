"""The app's JSON provider: orjson, stored bytes spliced as they are, Flask's provider for the rest."""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import jsonify

from hub.jsonio import Encoded


@dataclass(frozen=True, slots=True)
class Item(Encoded):
    json: bytes


@dataclass
class Plain:
    a: int


def test_encoded_bytes_are_written_unchanged_and_members_keep_their_order(app):
    raw = b'{"z":1,"a":"\xc3\xa9"}'  # not sorted, raw UTF-8: written exactly so
    with app.app_context():
        body = jsonify({"b": [Item(raw)], "a": None}).get_data()
    assert body == b'{"b":[' + raw + b'],"a":null}'


def test_what_orjson_cannot_encode_falls_back_to_flask(app):
    with app.app_context():
        big = jsonify({"n": 2**70, "item": Item(b'{"x":1}'), "d": Plain(3)})
    assert json.loads(big.get_data()) == {"n": 2**70, "item": {"x": 1}, "d": {"a": 3}}
    assert big.mimetype == "application/json"


def test_dataclasses_encode_as_objects(app):
    with app.app_context():
        assert json.loads(jsonify(Plain(1)).get_data()) == {"a": 1}
