"""Liveness and readiness probes for load balancers and operators."""

import logging

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from accounts.privilege import is_platform_staff
from grading.selectors import sandbox_status

logger = logging.getLogger(__name__)


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


def _report_sandbox() -> str | None:
    """Code grading's sandbox, as the workers' start-up self-tests found it. Reported, not
    required: quizzes, flags and essays still grade while code submissions wait queued."""
    try:
        return sandbox_status()
    except Exception as exc:
        return f"{exc.__class__.__name__}: {exc}"


CHECKS = {"database": _check_database, "broker": _check_broker}
# Shown in /readyz with the checks, but a problem here does not make the instance unready.
REPORTS = {"sandbox": _report_sandbox}


def _caller_is_staff(request, failures: dict) -> bool:
    """Whether the caller is staff in a session that passed two-factor. Never asked while the
    database is down (the session lives there): a readiness probe must answer, not fail."""
    if "database" in failures:
        return False
    try:
        return is_platform_staff(request.user)
    except Exception:
        logger.exception("readyz: could not tell who is asking")
        return False


@never_cache
def readyz(request):
    """Readiness: 200 only when the database and the broker answer; 503 names what failed.
    Anonymous and non-staff callers get the names of the failing checks only ("ok" or
    "failing"); verified staff also get why (hostnames, error text). The log always has it."""
    failures = {name: err for name, check in CHECKS.items() if (err := check()) is not None}
    details = {n: failures.get(n, "ok") for n in CHECKS}
    for name, report in REPORTS.items():
        details[name] = report() or "ok"
    for name, detail in details.items():
        if detail != "ok":
            logger.warning("readyz: %s: %s", name, detail)
    if _caller_is_staff(request, failures):
        checks = details
    else:
        checks = {name: "ok" if detail == "ok" else "failing" for name, detail in details.items()}
    body = {"status": "ok" if not failures else "unavailable", "checks": checks}
    return JsonResponse(body, status=503 if failures else 200)
