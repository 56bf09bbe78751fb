import pytest
from django.conf import settings

from .processes import Worker, purge_broker, wait_until_worker_idle

# The hostile-input sweep's `world` fixture (tests/*/test_bad_input.py).
pytest_plugins = ["tests.badinput"]


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """One real Celery worker for the session, on the test database and the Redis broker.
    Tests using it must use `transactional_db` so that the worker sees their rows."""
    purge_broker(settings.CELERY_BROKER_URL)
    worker = Worker(name="session").start()
    yield worker
    worker.stop()


@pytest.fixture
def worker(celery_worker_process, transactional_db):
    if celery_worker_process.proc.poll() is not None:
        pytest.fail(f"the session worker died; see {celery_worker_process.log_path}")
    yield celery_worker_process
    # Work a test set off (certificates, e-mails...) may still be running: let the worker finish it
    # before the database is flushed, or the flush's TRUNCATE deadlocks with the worker's writes.
    wait_until_worker_idle(celery_worker_process.name, settings.CELERY_BROKER_URL)
