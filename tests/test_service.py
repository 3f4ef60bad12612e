"""Health, readiness, the OpenAPI document, and migrations."""

from __future__ import annotations


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready"}


def test_readyz_is_503_problem_without_a_database(make_app, tmp_path):
    app = make_app(hub_key=False, DATABASE_URL=f"sqlite:///{tmp_path}/missing-dir/x.db")
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


def test_metrics_count_requests_and_item_outcomes(app, client):
    app.config["METRICS_TOKEN"] = "scrape-secret"
    client.get("/healthz")
    text = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"}).get_data(as_text=True)
    assert 'tangkal_http_requests_total{endpoint="health.healthz",method="GET",status="200"}' in text
    assert "tangkal_http_request_seconds_bucket" in text


def test_every_v1_endpoint_is_documented_with_examples(client):
    doc = client.get("/openapi.json").get_json()
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    rules = {
        (r.rule.replace("<", "{").replace(">", "}").replace("path:", ""), m.lower())
        for r in client.application.url_map.iter_rules()
        for m in (r.methods or set()) - {"HEAD", "OPTIONS"}
        if r.rule.startswith(("/v1/", "/oauth/", "/.well-known/"))
    }
    assert rules <= documented, rules - documented
    for path, method in [
        ("/v1/records", "post"),
        ("/v1/records", "get"),
        ("/v1/acks", "post"),
        ("/v1/numbers/{number}", "get"),
        ("/v1/log/head", "get"),
        ("/v1/attestations", "post"),
        ("/v1/reports", "get"),
    ]:
        op = doc["paths"][path][method]
        ok = [r for s, r in op["responses"].items() if s.startswith("2")]
        assert any("example" in media for r in ok for media in r.get("content", {}).values()), (path, method)
    assert "example" in doc["paths"]["/v1/records"]["post"]["requestBody"]["content"]["application/json"]
