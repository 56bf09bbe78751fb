#!/usr/bin/env bash
# `make bench`: benchmarks that print figures (never pass/fail). They take a test slot N like
# `make test` (scripts/lib.sh) and use their own PostgreSQL database (kafaat_bench_tN), Redis
# index N, RabbitMQ vhost and sandbox uids, so they never disturb a test run or another bench.
# Usage: make bench [ARGS="quiz_grading ..."]   (default: every bench/bench_*.py)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_venv requirements-dev.txt
"$ROOT/scripts/services.sh"
# The pages bench loads the web server with wrk (Debian package wrk).
ensure_system_packages wrk || log "bench pages needs wrk"
export DJANGO_SETTINGS_MODULE=config.settings.test
take_test_slot "$(redis_index "${BENCH_CELERY_BROKER_URL:-}")"
export DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/kafaat_bench_t$TEST_SLOT}"
export CELERY_BROKER_URL="${BENCH_CELERY_BROKER_URL:-redis://127.0.0.1:6379/$TEST_SLOT}"
export BENCH_RABBITMQ_URL="${BENCH_RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672/kafaat_bench_t$TEST_SLOT}"
export KAFAAT_SANDBOX_UID_BASE="${KAFAAT_SANDBOX_UID_BASE:-$((64000 + 100 * TEST_SLOT))}"
log "test slot $TEST_SLOT: database ${DATABASE_URL##*/}, Redis ${CELERY_BROKER_URL##*/}"
export PYTHONPATH="$ROOT/platform:$ROOT"
"$PY" bench/setup_db.py
names=("$@")
[ ${#names[@]} -eq 0 ] && names=($(ls bench/bench_*.py | sed 's|bench/bench_||; s|\.py$||'))
for name in "${names[@]}"; do
  log "bench: $name"
  "$PY" "bench/bench_$name.py" {TEST_SLOT_FD}>&-
done
