"""GET /healthz: is the database up, is the broker up; says which is down.

The body names the failing check and the kind of error; the details go to the log,
not to an unauthenticated caller.
"""

import logging
import os
import time

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


@never_cache
@require_GET
def healthz(request):
    started = time.monotonic()
    problems = {"database": check_database(), "broker": check_broker()}
    body = {
        "status": "ok" if not any(problems.values()) else "down",
        "checks": {
            name: {"status": "down", "error": err} if err else {"status": "ok"}
            for name, err in problems.items()
        },
        "broker_transport": settings.CELERY_BROKER_URL.split(":", 1)[0],
        "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
    }
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)
