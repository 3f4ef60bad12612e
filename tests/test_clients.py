"""The OpenAPI document generates Java and Go clients, and the Java one compiles (scripts/generate_clients.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.slow


@pytest.mark.skipif(shutil.which("javac") is None, reason="needs a JDK (openjdk-17-jdk-headless)")
def test_java_and_go_clients_generate_and_the_java_one_compiles(tmp_path: Path) -> None:
    out = tmp_path / "clients"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_clients.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "files compiled with javac" in done.stdout

    api = out / "java" / "src" / "main" / "java" / "id" / "go" / "tangkal" / "client" / "api"
    oauth = (api / "OauthApi.java").read_text()
    records = (api / "RecordsApi.java").read_text()
    reports = (api / "ReportsApi.java").read_text()
    # methods named by operationId, taking the token form's members and the dry-run flag, returning the CSV
    assert "public TokenResponse getToken(@jakarta.annotation.Nonnull String grantType" in oauth
    assert "public PushResponse pushRecords(@jakarta.annotation.Nonnull PushRequest pushRequest" in records
    assert "Boolean dryRun" in records
    assert "public String getReportCsv(" in reports
    assert "public PullResponse pullRecords(" in records
    classes = out / "java" / "target" / "classes" / "id" / "go" / "tangkal" / "client"
    assert (classes / "api" / "RecordsApi.class").is_file() and (classes / "model" / "SignedRecord.class").is_file()

    go = (out / "go" / "api_records.go").read_text()
    assert "func (a *RecordsAPIService) PushRecords(ctx context.Context) ApiPushRecordsRequest" in go
    assert "func (r ApiPushRecordsRequest) DryRun(dryRun bool) ApiPushRecordsRequest" in go
