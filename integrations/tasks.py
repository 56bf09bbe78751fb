"""Thin tasks on the `events` queue. Names are pinned (tests check them): renaming a module must
not orphan queued messages."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from kernel.tasks import enqueue, resend_stale

from .models import OneRosterImportJob
from .services import invites, lti, lti_ags, oneroster_jobs, webhooks

COMMON = {"acks_late": True, "reject_on_worker_lost": True, "time_limit": 120, "soft_time_limit": 100}


@shared_task(name="integrations.webhooks_tick", ignore_result=True, **COMMON)
def webhooks_tick():
    webhooks.webhooks_tick()


@shared_task(name="integrations.webhooks_deliver", ignore_result=True, **COMMON)
def webhooks_deliver(subscription_id: int):
    webhooks.webhooks_deliver(subscription_id=subscription_id)


@shared_task(name="integrations.lti_scores_tick", ignore_result=True, **COMMON)
def lti_scores_tick():
    lti_ags.scores_tick()
    lti.nonces_purge()


@shared_task(name="integrations.lti_scores_deliver", ignore_result=True, **COMMON)
def lti_scores_deliver(link_id: int):
    lti_ags.scores_deliver(link_id=link_id)


@shared_task(name="integrations.invites_send", ignore_result=True, **COMMON)
def invites_send():
    invites.invites_send_pending()


@shared_task(
    name="integrations.oneroster_import",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # 5,000 users and 12,000 enrollments take seconds; the largest package the limits allow, minutes.
    time_limit=oneroster_jobs.TIME_LIMIT,
    soft_time_limit=oneroster_jobs.TIME_LIMIT - 60,
)
def oneroster_import(job_id: int):
    """Run a stored OneRoster import job once (a redelivered message finds it claimed)."""
    oneroster_jobs.oneroster_job_run(job_id=job_id)


def oneroster_jobs_resend() -> int:
    """Send again the import jobs still queued KERNEL_RESEND_AFTER_SECONDS after their upload
    (their message was lost: the broker was down). A job runs once however often it is sent.
    Registered with kernel's re-send sweep in IntegrationsConfig.ready()."""
    queued = resend_stale(
        OneRosterImportJob.objects.filter(status=OneRosterImportJob.Status.QUEUED),
        asked_at="created_at",
        task=oneroster_import,
    )
    # A job RUNNING past the task's hard time limit lost its worker (the redelivered message found
    # it still running and was dropped): its claim is stale, so it is sent again and re-claimed.
    stale = timezone.now() - timedelta(seconds=oneroster_jobs.TIME_LIMIT)
    stuck = OneRosterImportJob.objects.filter(
        status=OneRosterImportJob.Status.RUNNING, started_at__lt=stale, started_at__gte=stale - timedelta(days=1)
    ).values_list("pk", flat=True)[:500]
    return queued + sum(enqueue(oneroster_import, pk) for pk in stuck)
