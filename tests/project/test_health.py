"""GET /healthz checks the database and the broker, and says which is down."""

import pytest

from rushtrade.celery import app as celery_app

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker(redis_server):
    """Point the Celery app at a Redis of the test's own, restored afterwards."""
    saved = celery_app.conf.broker_url, dict(celery_app.conf.broker_transport_options or {})
    celery_app.conf.broker_url = redis_server.url
    celery_app.conf.broker_transport_options = {}
    yield redis_server
    celery_app.conf.broker_url, celery_app.conf.broker_transport_options = saved


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["broker"] == {"status": "ok"}
    assert body["checks"]["routing"] == {
        "status": "ok",
        "sessions": {},
        "inbox_lag_seconds": 0.0,
        "parked": 0,
        "unanswered": 0,
    }


def test_healthz_says_routing_is_degraded_when_a_gateway_stopped(client):
    from datetime import timedelta

    from django.utils import timezone

    from trading.routing.models import RoutingSession

    RoutingSession.objects.create(
        session="RUSHTRADE->ROUTER", logged_on=True, heartbeat_at=timezone.now()
    )
    assert client.get("/healthz").json()["checks"]["routing"]["status"] == "ok"
    RoutingSession.objects.update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    response = client.get("/healthz")
    assert response.status_code == 200  # pages and the API still work: orders wait
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["routing"]["sessions"] == {"RUSHTRADE->ROUTER": "logged_on"}


def test_healthz_reports_a_stopped_broker(client, broker):
    assert client.get("/healthz").json()["checks"]["broker"] == {"status": "ok"}
    broker.stop()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["broker"]["status"] == "down"
    assert body["checks"]["broker"]["error"]
    assert body["elapsed_ms"] < 10_000


def test_healthz_reports_a_missing_filesystem_broker(client, tmp_path):
    saved = celery_app.conf.broker_url, dict(celery_app.conf.broker_transport_options or {})
    missing = str(tmp_path / "gone")
    celery_app.conf.broker_url = "filesystem://"
    celery_app.conf.broker_transport_options = {
        "data_folder_in": missing,
        "data_folder_out": missing,
    }
    try:
        response = client.get("/healthz")
    finally:
        celery_app.conf.broker_url, celery_app.conf.broker_transport_options = saved
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["status"] == "down"
