"""A report's page says whether its signature verifies, and a kept verdict never hides a changed report.

The console keeps its verdict on a stored report's signature (the JCS form of a
report listing 1,000 overdue items is costly to recompute on every view), keyed
by the exact stored text and the hub's published key set: a row changed in the
database after the first view must be judged again, and fail.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from hub.db import db
from hub.reports import periods, service
from hub.reports.models import Report
from tests.console_support import add_staff, enrol

NOW = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)


def _verdict(client, report_id: str) -> str:
    page = client.get(f"/console/reports/{report_id}").get_data(as_text=True)
    found = re.search(r'<p id="verdict"><span class="(ok|bad)">', page)
    assert found is not None, page
    return found.group(1)


def test_a_changed_report_is_judged_again_and_fails(app, client, register, clock):
    clock.freeze(NOW)
    register("kominfo", "ministry")
    register("telkomsel", "operator", ["Telkomsel"])
    with app.app_context():
        made, _ = service.ensure(periods.daily(periods.jakarta_today(NOW) - timedelta(days=1)))
        report_id = made.id
    add_staff(app, "analis@komdigi.go.id")
    enrol(app, client, "analis@komdigi.go.id")

    assert _verdict(client, report_id) == "ok"
    assert _verdict(client, report_id) == "ok"  # the kept verdict
    league = client.get(f"/console/league?report={report_id}").get_data(as_text=True)
    assert '<span class="ok">tanda tangan terverifikasi' in league

    with app.app_context():  # someone with the database's password edits a figure
        row = db.session.get(Report, report_id)
        envelope = json.loads(row.envelope)
        envelope["report"]["totals"]["issued"] += 1
        row.envelope = json.dumps(envelope, separators=(",", ":"))
        db.session.commit()
    assert _verdict(client, report_id) == "bad"
    league = client.get(f"/console/league?report={report_id}").get_data(as_text=True)
    assert '<span class="bad">tanda tangan TIDAK terverifikasi' in league
