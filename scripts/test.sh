#!/usr/bin/env bash
# The test command (`make test`): installs what the suite needs, starts PostgreSQL and Redis when
# they are down, lints, checks migrations, then runs pytest against PostgreSQL with real Celery
# workers over Redis. Extra arguments go to pytest.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_system_packages bubblewrap python3-seccomp chromium chromium-driver || \
  die "the test suite needs bubblewrap, python3-seccomp, chromium and chromium-driver"
ensure_venv requirements-dev.txt
# Test-only node tools (package.json): the independent Open Badges verifier and axe-core. gettext
# gives msgfmt, to check that the committed .mo catalogs match their .po sources.
ensure_system_packages gettext || die "the test suite needs gettext (msgfmt)"
command -v node >/dev/null || ensure_system_packages nodejs npm || die "the test suite needs node and npm"
if ! cmp -s package-lock.json node_modules/.kafaat-installed-lock 2>/dev/null; then
  log "npm ci (test tools)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  cp package-lock.json node_modules/.kafaat-installed-lock
fi
"$ROOT/scripts/services.sh"

export DJANGO_SETTINGS_MODULE=config.settings.test
# One test slot per run (scripts/lib.sh): another checkout's `make test` at the same time gets
# another database (kafaat_tN; pytest makes test_kafaat_tN), Redis index N, RabbitMQ vhost and
# sandbox uids. A TEST_* / KAFAAT_SANDBOX_UID_BASE variable that is set wins; a Redis index given
# in TEST_CELERY_BROKER_URL is taken as the slot when it is free, so runs that pick one do not get it.
explicit_index=$(redis_index "${TEST_CELERY_BROKER_URL:-}")
take_test_slot "$explicit_index"
if [ -n "$explicit_index" ] && [ "$explicit_index" != "$TEST_SLOT" ]; then
  log "warning: Redis index $explicit_index (TEST_CELERY_BROKER_URL) belongs to another run's test slot"
fi
export KAFAAT_TEST_SLOT=$TEST_SLOT
export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/kafaat_t$TEST_SLOT}"
export CELERY_BROKER_URL="${TEST_CELERY_BROKER_URL:-redis://127.0.0.1:6379/$TEST_SLOT}"
export TEST_RABBITMQ_URL="${TEST_RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672/kafaat_test_t$TEST_SLOT}"
# Sandbox slot uids from 64000 + 100 N: clear of 64000, the default of `make run` or a grading host.
export KAFAAT_SANDBOX_UID_BASE="${KAFAAT_SANDBOX_UID_BASE:-$((64000 + 100 * TEST_SLOT))}"
log "test slot $TEST_SLOT: database ${DATABASE_URL##*/} (pytest: test_${DATABASE_URL##*/}), Redis ${CELERY_BROKER_URL##*/}, sandbox uids from $KAFAAT_SANDBOX_UID_BASE"

# The database named in DATABASE_URL must exist for `makemigrations --check`; pytest makes its own.
"$PY" - <<'PY'
import os, environ, psycopg
cfg = environ.Env.db_url_config(os.environ["DATABASE_URL"])
with psycopg.connect(host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"], password=cfg["PASSWORD"] or None,
                     dbname="postgres", autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone():
        conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
PY
log "ruff"
"$PY" -m ruff check .
"$PY" -m ruff format --check .
log "lint-imports"
# The app layers (README, Layout; contracts in pyproject.toml). config lives in platform/.
PYTHONPATH=platform "$VENV/bin/lint-imports" --no-cache --no-logo ||
  die "an import breaks the app layers (listed above): an app may import only the apps below it (README, Layout), never config or tests. Move the code down, or announce a kernel domain event"
log "makemigrations --check"
"$PY" manage.py makemigrations --check --dry-run || die "models changed without a migration: run 'python manage.py makemigrations'"
log "pytest"
set +e
"$PY" -m pytest "$@" {TEST_SLOT_FD}>&-
rc=$?
set -e
[ $rc -eq 5 ] && die "pytest collected no tests"
exit $rc
