#!/usr/bin/env bash
# `make bench`: benchmarks that print figures (never pass/fail). They use their own PostgreSQL
# database (kafaat_bench) and Redis database 2, so they never disturb the tests.
# Usage: make bench [ARGS="quiz_grading ..."]   (default: every bench/bench_*.py)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_venv requirements-dev.txt
"$ROOT/scripts/services.sh"
export DJANGO_SETTINGS_MODULE=config.settings.test
export DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/kafaat_bench}"
export CELERY_BROKER_URL="${BENCH_CELERY_BROKER_URL:-redis://127.0.0.1:6379/2}"
export PYTHONPATH="$ROOT/platform:$ROOT"
"$PY" bench/setup_db.py
names=("$@")
[ ${#names[@]} -eq 0 ] && names=($(ls bench/bench_*.py | sed 's|bench/bench_||; s|\.py$||'))
for name in "${names[@]}"; do
  log "bench: $name"
  "$PY" "bench/bench_$name.py"
done
