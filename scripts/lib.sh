# Shared helpers for the project's scripts. Source it; do not run it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${KAFAAT_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# find_python: print a Python >= 3.12 interpreter, or fail saying there is none.
find_python() {
  local cand v
  local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
  for cand in "${KAFAAT_PYTHON:-}" \
      "$pyenv_root/versions/$(cat "$ROOT/.python-version" 2>/dev/null || echo none)/bin/python" \
      python3.13 python3.12 python3.14 \
      "$pyenv_root"/versions/3.13*/bin/python "$pyenv_root"/versions/3.12*/bin/python python3; do
    [ -n "$cand" ] || continue
    command -v "$cand" >/dev/null 2>&1 || [ -x "$cand" ] || continue
    v=$("$cand" -c 'import sys; print(int(sys.version_info >= (3, 12)))' 2>/dev/null) || continue
    if [ "$v" = 1 ]; then command -v "$cand" 2>/dev/null || echo "$cand"; return 0; fi
  done
  die "no Python 3.12 or newer found (Django 6.1 needs it). Install python3.12+ or set KAFAAT_PYTHON=/path/to/python."
}

# ensure_venv REQUIREMENTS_FILE: create .venv and install the pinned requirements when they changed.
ensure_venv() {
  local req="$1" stamp
  if [ ! -x "$PY" ]; then
    local base; base=$(find_python)
    log "creating virtualenv in $VENV with $base"
    "$base" -m venv "$VENV"
  fi
  stamp="$VENV/.installed-$(basename "$req")"
  local sum; sum=$(cat "$ROOT"/requirements*.txt | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
    log "installing $(basename "$req")"
    "$PY" -m pip install --quiet --disable-pip-version-check -r "$ROOT/$req" 2> >(grep -v "is ignored: it is neither" >&2)
    echo "$sum" > "$stamp"
  fi
}

# ensure_system_packages PKG...: apt-get install the Debian packages that are missing (root only).
ensure_system_packages() {
  local missing=() p
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    log "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
    return 1
  fi
  log "installing Debian packages: ${missing[*]}"
  # apt lists may be absent on a fresh machine: update once, then install.
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# take_test_slot [PREFERRED]: hold one of the machine's test slots (1..KAFAAT_TEST_SLOTS, 15) for
# the rest of the calling script, so that two checkouts running the suite (or the benchmarks) at
# once never share a database, a Redis index, a RabbitMQ vhost or sandbox uids: each is derived
# from the slot (test_slot_env). The slot is an flock on /tmp/kafaat-test-slot-N.lock through the
# descriptor TEST_SLOT_FD; long-lived children get it closed (`cmd {TEST_SLOT_FD}>&-`), so a
# process a run leaves behind cannot keep the slot. PREFERRED is tried first. Sets TEST_SLOT.
take_test_slot() {
  local preferred="${1:-}" slots="${KAFAAT_TEST_SLOTS:-15}" n waited="" lock
  [[ "$preferred" =~ ^[0-9]+$ ]] && [ "$preferred" -ge 1 ] && [ "$preferred" -le "$slots" ] || preferred=""
  local deadline=$(( $(date +%s) + ${KAFAAT_TEST_SLOT_WAIT:-900} ))
  while :; do
    for n in $preferred $(seq 1 "$slots"); do
      lock="/tmp/kafaat-test-slot-$n.lock"
      exec {TEST_SLOT_FD}>>"$lock"
      if flock -n "$TEST_SLOT_FD"; then
        TEST_SLOT=$n
        printf 'pid %s, %s\n' "$$" "$ROOT" > "$lock"  # who holds it, for whoever waits
        return 0
      fi
      exec {TEST_SLOT_FD}>&-
    done
    [ -n "$waited" ] || log "all $slots test slots are held by other runs (/tmp/kafaat-test-slot-*.lock): waiting"
    waited=1
    [ "$(date +%s)" -lt "$deadline" ] || die "no test slot came free in ${KAFAAT_TEST_SLOT_WAIT:-900} s"
    sleep 2
  done
}

# redis_index URL: the database index of a redis:// URL on this machine's default Redis, or nothing.
redis_index() {
  [[ "$1" =~ ^redis://([^@/]*@)?(127\.0\.0\.1|localhost)(:6379)?/([0-9]+)$ ]] && echo "${BASH_REMATCH[4]}"
  return 0
}
