"""Content-Security-Policy with a nonce and no unsafe-inline, Permissions-Policy, the API
schema and docs for staff only in production, /healthz details for staff and internal
callers only."""

import re

import pytest
from django.urls import reverse

from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


def test_pages_carry_a_csp_with_a_nonce_and_no_unsafe_inline(client):
    client.force_login(UserFactory())
    response = client.get(reverse("security"))
    csp = directives(response)
    assert csp["default-src"] == "default-src 'self'"
    # The nonce is in the header whenever a page uses one (Django adds it on use).
    assert re.fullmatch(r"script-src 'self'( 'nonce-[\w+/=-]+')?", csp["script-src"])
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["object-src"] == "object-src 'none'"


def test_permissions_policy_allows_webauthn_only(client):
    response = client.get(reverse("account_login"))
    policy = response["Permissions-Policy"]
    assert "camera=()" in policy and "geolocation=()" in policy and "microphone=()" in policy
    assert "publickey-credentials-get=(self)" in policy


def test_api_responses_carry_the_headers_too(client):
    response = client.get("/api/v1/me")
    assert "Content-Security-Policy" in response and "Permissions-Policy" in response


def test_schema_and_docs_staff_only_in_production(client, settings):
    settings.API_DOCS_PUBLIC = False
    assert client.get("/api/schema/").status_code == 302
    assert client.get("/api/docs/").status_code == 302
    client.force_login(UserFactory())
    assert client.get("/api/schema/").status_code == 302
    client.force_login(StaffFactory())
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_docs_page_has_no_inline_script(client, settings):
    settings.API_DOCS_PUBLIC = True
    html = client.get("/api/docs/").content.decode()
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag, tag


def test_healthz_public_sees_only_ok_or_degraded(client, settings):
    settings.HEALTHZ_INTERNAL_NETWORKS = ["10.0.0.0/8"]
    response = client.get("/healthz", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}

    client.force_login(UserFactory())
    assert client.get("/healthz", REMOTE_ADDR="203.0.113.9").json() == {"status": "ok"}


def test_healthz_details_for_staff_and_internal_networks(client, settings):
    settings.HEALTHZ_INTERNAL_NETWORKS = ["10.0.0.0/8"]
    internal = client.get("/healthz", REMOTE_ADDR="10.1.2.3").json()
    assert internal["checks"]["database"] == {"status": "ok"}
    assert "broker_transport" in internal and "elapsed_ms" in internal

    client.force_login(StaffFactory())
    staff = client.get("/healthz", REMOTE_ADDR="203.0.113.9").json()
    assert "checks" in staff


def test_healthz_public_sees_degraded_when_a_check_fails(client, settings, monkeypatch):
    from rushtrade import health

    settings.HEALTHZ_INTERNAL_NETWORKS = []
    monkeypatch.setattr(health, "check_broker", lambda: "ConnectionError")
    response = client.get("/healthz", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded"}
