"""Health, readiness, the OpenAPI document, and migrations."""

from __future__ import annotations

import pytest


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready"}


def test_readyz_is_503_problem_without_a_database(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/missing-dir/x.db")
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["type"] == "urn:tangkal:problem:unavailable"


def test_openapi_document_lists_endpoints_with_scopes(client):
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    paths = doc["paths"]
    for path in ("/oauth/token", "/.well-known/jwks.json", "/v1/partners/{partner_id}/keys", "/v1/whoami", "/healthz"):
        assert path in paths, path
    assert paths["/v1/whoami"]["get"]["security"] == [{"oauth2": []}]
    assert paths["/.well-known/jwks.json"]["get"]["security"] == []
    token_schema = paths["/oauth/token"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert token_schema["$ref"] in {"#/components/schemas/TokenResponse"}
    assert "TokenResponse" in doc["components"]["schemas"]
    assert "records:write" in doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["scopes"]


def test_metrics_count_requests_and_item_outcomes(client):
    client.get("/healthz")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'tangkal_http_requests_total{endpoint="health.healthz",method="GET",status="200"}' in text
    assert "tangkal_http_request_seconds_bucket" in text
