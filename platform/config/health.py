"""Liveness and readiness probes for load balancers and operators."""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request):
    """Liveness: the process answers. Touches nothing else."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return f"{exc.__class__.__name__}: {exc}"
    return None


def _check_broker() -> str | None:
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"{exc.__class__.__name__}: {exc}"
    return None


CHECKS = {"database": _check_database, "broker": _check_broker}


@never_cache
def readyz(request):
    """Readiness: 200 only when the database and the broker answer; 503 names what failed."""
    failures = {name: err for name, check in CHECKS.items() if (err := check()) is not None}
    body = {"status": "ok" if not failures else "unavailable", "checks": {n: failures.get(n, "ok") for n in CHECKS}}
    return JsonResponse(body, status=503 if failures else 200)
