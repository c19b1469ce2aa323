"""GET /healthz: is the database up, is the broker up.

The public gets `{"status": "ok"}` or `{"status": "degraded"}` (and 200 or 503); staff
and callers from HEALTHZ_INTERNAL_NETWORKS (the load balancer, monitoring) also get
which check failed and the kind of error, the broker transport and the timing. The
errors themselves go to the log.
"""

import ipaddress
import logging
import os
import time

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from rushtrade.celery import app as celery_app

log = logging.getLogger(__name__)


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        log.warning("healthz: database down: %s", exc)
        return type(exc).__name__
    return None


def check_broker() -> str | None:
    try:
        with celery_app.connection_for_write() as conn:
            if conn.transport_cls == "filesystem":
                folder = conn.transport_options.get("data_folder_out", "")
                if not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
                    log.warning("healthz: broker folder %s missing or not writable", folder)
                    return "BrokerFolderUnavailable"
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception as exc:  # kombu raises driver-specific errors
        log.warning("healthz: broker down: %s", exc)
        return type(exc).__name__
    return None


def check_routing() -> dict:
    """The FIX sessions and the inbox: "degraded" (not "down": pages and the API still
    work, orders wait) when a gateway is not running or logged off, the inbox lags,
    messages are parked or order messages go unanswered."""
    from trading.routing.status import routing_status

    try:
        status = routing_status()
    except Exception as exc:  # the database check reports the cause
        return {"status": "unknown", "error": type(exc).__name__}
    if status.problems:
        log.warning("healthz: routing degraded: %s", "; ".join(status.problems))
    return {
        "status": status.status,
        "sessions": {
            s.session: "logged_on" if s.logged_on else "logged_off" for s in status.sessions
        },
        "inbox_lag_seconds": round(status.inbox_lag_seconds, 1),
        "parked": status.parked,
        "unanswered": status.unanswered,
    }


def may_see_details(request) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    try:
        address = ipaddress.ip_address(get_client_ip_address(request) or "")
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(network, strict=False)
        for network in settings.HEALTHZ_INTERNAL_NETWORKS
    )


@never_cache
@require_GET
def healthz(request):
    started = time.monotonic()
    problems = {"database": check_database(), "broker": check_broker()}
    checks = {
        name: {"status": "down", "error": err} if err else {"status": "ok"}
        for name, err in problems.items()
    }
    if not problems["database"]:
        checks["routing"] = check_routing()
    down = any(problems.values())
    degraded = checks.get("routing", {}).get("status") == "degraded"
    overall = "down" if down else "degraded" if degraded else "ok"
    # Degraded routing still serves pages and the API: only "down" takes the web out.
    status = 503 if down else 200
    if not may_see_details(request):
        return JsonResponse({"status": "ok" if overall == "ok" else "degraded"}, status=status)
    body = {
        "status": overall,
        "checks": checks,
        "broker_transport": settings.CELERY_BROKER_URL.split(":", 1)[0],
        "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
    }
    return JsonResponse(body, status=status)
