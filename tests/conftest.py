import pytest
from django.conf import settings
from django.utils import translation

from kernel import page_cache

from .processes import Worker, purge_broker, purge_queues, wait_until_worker_idle

# The hostile-input sweep's `world` fixture (tests/*/test_bad_input.py); the test LMS (tests/lti_platform).
pytest_plugins = ["tests.badinput", "tests.lti_platform.fixtures"]


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """One real Celery worker for the session, on the test database and the Redis broker.
    Tests using it must use `transactional_db` so that the worker sees their rows."""
    purge_broker(settings.CELERY_BROKER_URL)
    worker = Worker(name="session").start()
    _started_workers.append(worker)
    yield worker
    _started_workers.remove(worker)
    worker.stop()


_started_workers: list[Worker] = []


@pytest.fixture(autouse=True)
def _test_isolation(request):
    """What one test leaves behind must not reach the next:
    - anonymous pages cached by an earlier test (kernel.page_cache: the cache outlives the rows);
    - the language a request activated in this thread (LocaleMiddleware does not reset it);
    - follow-up tasks (certificates, e-mails) a test's grading enqueued for the session worker:
      they are purged, and the worker is let finish what it runs, before the database is flushed
      (a flush's TRUNCATE deadlocks with a worker's writes). Requesting transactional_db here first
      makes this teardown run before the flush."""
    transactional = "transactional_db" in request.fixturenames or "live_server" in request.fixturenames
    if transactional:
        request.getfixturevalue("transactional_db")
    page_cache.invalidate()  # pages an earlier test cached (same paths, other rows) are stale
    yield
    translation.activate(settings.LANGUAGE_CODE)
    if transactional and _started_workers:
        purge_queues(settings.CELERY_BROKER_URL)
        for worker in _started_workers:
            wait_until_worker_idle(worker.name, settings.CELERY_BROKER_URL, timeout=60)


@pytest.fixture
def worker(celery_worker_process, transactional_db):
    if celery_worker_process.proc.poll() is not None:
        pytest.fail(f"the session worker died; see {celery_worker_process.log_path}")
    yield celery_worker_process
    # Work a test set off (certificates, e-mails...) may still be running: let the worker finish it
    # before the database is flushed, or the flush's TRUNCATE deadlocks with the worker's writes.
    wait_until_worker_idle(celery_worker_process.name, settings.CELERY_BROKER_URL)
