"""A small world of partners for the records tests, and a push helper."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.support import PartnerCreds, bearer, record_body

TSEL = "+6281234567890"  # Telkomsel
TSEL2 = "+6281334567891"
ISAT = "+6281534567890"  # Indosat Ooredoo Hutchison
XL = "+6281734567890"  # XL: no operator registered for it in this world
FOREIGN = "+14155552671"


@dataclass
class World:
    client: Any
    kominfo: PartnerCreds
    telkomsel: PartnerCreds
    indosat: PartnerCreds
    whatsapp: PartnerCreds
    telegram: PartnerCreds
    tokens: dict[str, str]

    def auth(self, who: PartnerCreds) -> dict[str, str]:
        return bearer(self.tokens[who.id])

    def push(self, who: PartnerCreds, *envelopes: Any) -> list[dict[str, Any]]:
        resp = self.client.post("/v1/records", json={"records": list(envelopes)}, headers=self.auth(who))
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp.get_json()["results"]

    def block(self, who: PartnerCreds, number: str, **overrides: Any) -> dict[str, Any]:
        env = who.sign("record", record_body(who.id, number, **overrides))
        (result,) = self.push(who, env)
        assert result["status"] == "accepted", result
        return env

    def ack(self, who: PartnerCreds, *envelopes: Any) -> list[dict[str, Any]]:
        resp = self.client.post("/v1/acks", json={"acks": list(envelopes)}, headers=self.auth(who))
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp.get_json()["results"]

    def pull_all(self, who: PartnerCreds, limit: int = 1000) -> list[dict[str, Any]]:
        items, after = [], 0
        while True:
            page = self.client.get(f"/v1/records?after={after}&limit={limit}", headers=self.auth(who)).get_json()
            items += page["items"]
            after = page["next_after"]
            if not page["has_more"]:
                return items


@pytest.fixture
def world(client, register, token) -> World:
    parts = {
        "kominfo": register("kominfo", "ministry"),
        "telkomsel": register("telkomsel", "operator", ["Telkomsel"]),
        "indosat": register("indosat", "operator", ["Indosat Ooredoo Hutchison"]),
        "whatsapp": register("whatsapp", "ott"),
        "telegram": register("telegram", "ott"),
    }
    tokens = {pid: token(c) for pid, c in parts.items()}
    return World(client, tokens=tokens, **parts)
