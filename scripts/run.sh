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
# Debug pages only when asked for (DEBUG=true make run): otherwise a bad address shows the site's
# own 404 page. Static files are served by WhiteNoise from static/ either way (no collectstatic).
export DEBUG="${DEBUG:-false}"
VAR_DIR="${KAFAAT_VAR_DIR:-$ROOT/var}"
mkdir -p "$VAR_DIR"
"$PY" manage.py migrate --noinput >/dev/null
# The demo content and people; their logins go to a file only you can read (mode 0600)...
LOGINS="$VAR_DIR/demo-logins.txt"
"$PY" manage.py seed_demo --base-url "$SITE_URL" --logins-file "$LOGINS" --no-print

# ...which is printed in a frame once the web server answers, below the servers' start-up log.
# Started from a subshell that exits at once, so it is nobody's child here (honcho, which this
# shell becomes, would never reap it); it gives up when honcho ($$ after the exec) is gone.
PROBE_HOST="${KAFAAT_BIND:-127.0.0.1}"; [ "$PROBE_HOST" = 0.0.0.0 ] && PROBE_HOST=127.0.0.1
( "$PY" scripts/demo_banner.py --url "http://$PROBE_HOST:$PORT" --file "$LOGINS" --parent $$ & )

export PATH="$VENV/bin:$PATH"
exec "$VENV/bin/honcho" start --no-prefix -p "$PORT" 2>&1
