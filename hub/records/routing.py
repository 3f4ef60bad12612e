"""Who must act on a record (PROTOCOL.md section 4, "Routing").

Every OTT provider, and the operator whose carrier names include the
number's home carrier as phonenumbers names it (Indonesia has no number
portability, so the prefix tells the home network). Foreign numbers go to
OTT providers only; an unblock goes to the partners of the block it lifts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from hub.auth.models import Partner, PartnerCarrier
from hub.db import db
from hub.records.numbers import NumberInfo


@dataclass(frozen=True)
class RoutingTable:
    ott: frozenset[str]
    operator_by_carrier: dict[str, str]

    @classmethod
    def load(cls) -> RoutingTable:
        """Two small reads per batch; partners change rarely but must take effect at once."""
        ott = db.session.scalars(select(Partner.id).where(Partner.kind == "ott")).all()
        carriers = db.session.execute(select(PartnerCarrier.carrier, PartnerCarrier.partner_id)).all()
        return cls(frozenset(ott), {c: p for c, p in carriers})

    def home_operator(self, number: NumberInfo) -> str | None:
        """The operator whose carrier names include the number's home network (domestic numbers only)."""
        if number.domestic and number.carrier:
            return self.operator_by_carrier.get(number.carrier)
        return None

    def for_block(self, number: NumberInfo) -> set[str]:
        partners = set(self.ott)
        operator = self.home_operator(number)
        if operator:
            partners.add(operator)
        return partners
