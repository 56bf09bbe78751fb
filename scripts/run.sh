#!/usr/bin/env bash
# The run command (`make run`): a virtualenv, migrations, demo content, then web + worker + beat
# together (honcho + Procfile) on the embedded defaults: SQLite in var/ and a filesystem broker.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

PORT="${PORT:-8000}"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  die "port $PORT is already in use. Stop what is listening there, or choose another port: PORT=8001 make run"
fi

ensure_venv requirements.txt
# Code assignments need bubblewrap; without it they wait queued and /readyz says why.
ensure_system_packages bubblewrap python3-seccomp || log "code grading stays off until bubblewrap is installed"

export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.local}"
# Every process writes links on the address it is served at: honcho gives the worker and beat
# ports of their own (PORT+100, +200), so the site's address is fixed here for all three.
export SITE_URL="${SITE_URL:-http://127.0.0.1:$PORT}"
mkdir -p var
"$PY" manage.py migrate --noinput >/dev/null
"$PY" manage.py seed_demo --base-url "$SITE_URL"

export PATH="$VENV/bin:$PATH"
exec "$VENV/bin/honcho" start --no-prefix -p "$PORT" 2>&1
