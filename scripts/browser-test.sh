#!/usr/bin/env bash
# The real-browser end-to-end test (issue 10): headless Chromium logs in to the example web app
# (clients/python/examples/webapp.py) on a live sidecar whose access tokens live 10 s, stays past their expiry and
# must be refreshed through renewTokenPath without noticing, then logs out. What it proves: tests/browser/README.md.
#
#   scripts/browser-test.sh [SCREENSHOT_DIR]     (default .run/browser-screenshots)
#
# For CI as root on Debian 12, no stdin, no display. Installs what is missing (Debian's chromium and
# chromium-driver, python3-venv; a virtualenv under .run/browser-test/venv with tests/browser/requirements.txt
# and the client from ./clients/python), starts the private MariaDB if needed (scripts/mariadb.sh), a sidecar of
# its own (scripts/test-sidecar.sh, directory .run/browser-test/sidecar) and the web app on a free localhost port,
# runs tests/browser/session_flow.py, and always stops the app and drops the sidecar. The sidecar binary is
# $SIDECAR_BIN, else the debug build's ($(swift build --show-bin-path)/session-sidecar). $PYTHON picks the
# interpreter for the virtualenv (default python3). Exit status 0 when the test passed; the last line says so.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

started=$(date +%s)
screenshots=${1:-$repo/.run/browser-screenshots}
work=$repo/.run/browser-test
venv=$work/venv
sidecar_dir=$work/sidecar
webapp_log=$work/webapp.log
renew_token_path=/auth/session/refresh # scripts/test-sidecar.sh's tokens.refreshToken.renewTokenPath
webapp_pid=
test_pid=
summarized=

summary() {
  summarized=1
  echo "browser-test: $* ($(($(date +%s) - started)) s; screenshots in $screenshots)"
}

fail() {
  summary "FAILED: $*"
  exit 1
}

cleanup() {
  local status=$?
  if [ -n "$test_pid" ] && kill -0 "$test_pid" 2>/dev/null; then
    kill -TERM "$test_pid" 2>/dev/null || true # timeout passes it on; the test then closes its browser
    wait "$test_pid" 2>/dev/null || true
  fi
  if [ -n "$webapp_pid" ] && kill -0 "$webapp_pid" 2>/dev/null; then
    kill -TERM "$webapp_pid" 2>/dev/null || true
    wait "$webapp_pid" 2>/dev/null || true
  fi
  if [ -f "$sidecar_dir/settings.env" ] || [ -f "$sidecar_dir/sidecar.pid" ]; then
    scripts/test-sidecar.sh drop "$sidecar_dir" >/dev/null 2>&1 ||
      echo "browser-test: could not drop the sidecar in $sidecar_dir" >&2
  fi
  if [ -z "$summarized" ]; then
    [ "$status" -ne 0 ] || status=1
    summary "FAILED: stopped with exit status $status (see above)"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- what the test needs --------------------------------------------------------------------------------------
packages=()
[ -x /usr/bin/chromium ] || packages+=(chromium)
[ -x /usr/bin/chromedriver ] || packages+=(chromium-driver)
python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
  packages+=(python3 python3-venv)
elif ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  packages+=(python3-venv) # Debian's python3 has no ensurepip without it, so `python3 -m venv` fails
fi
if [ ${#packages[@]} -gt 0 ]; then
  echo "browser-test: installing ${packages[*]}"
  [ "$(id -u)" -eq 0 ] || fail "need root to install ${packages[*]} (or install them first)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q </dev/null >/dev/null || fail "apt-get update failed"
  # Without recommends: headless needs no desktop; fontconfig-config pulls in fonts-dejavu-core for the text.
  apt-get install -y -q --no-install-recommends "${packages[@]}" </dev/null >/dev/null ||
    fail "could not install ${packages[*]}"
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "browser-test: creating $venv"
  mkdir -p "$work"
  "$python" -m venv "$venv" || fail "could not create a virtualenv with $python"
fi
# Selenium, and the client as its README installs it (pip always reinstalls a local folder, which takes ~10 s):
# again whenever the client's source or the requirements changed since the last install into this venv.
stamp=$(cd clients/python && find pyproject.toml sessionsidecar -type f -not -name '*.pyc' -print0 |
  LC_ALL=C sort -z | xargs -0 sha256sum | cat - "$repo/tests/browser/requirements.txt" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$venv/.browser-test-stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "browser-test: installing tests/browser/requirements.txt and ./clients/python into $venv"
  "$venv/bin/python" -m pip --disable-pip-version-check --quiet install -r tests/browser/requirements.txt \
    ./clients/python </dev/null || fail "pip could not install tests/browser/requirements.txt and ./clients/python"
  echo "$stamp" >"$venv/.browser-test-stamp"
fi

# --- database, sidecar, web app --------------------------------------------------------------------------------
scripts/mariadb.sh start >/dev/null || fail "the private MariaDB did not start (scripts/mariadb.sh start)"
if [ -z "${SIDECAR_BIN:-}" ]; then
  SIDECAR_BIN="$(swift build --show-bin-path)/session-sidecar"
fi
export SIDECAR_BIN
[ -x "$SIDECAR_BIN" ] || fail "no sidecar binary at $SIDECAR_BIN (build it, or set SIDECAR_BIN)"

# A leftover from an interrupted run would bring back its settings (test-sidecar.sh reads settings.env first).
scripts/test-sidecar.sh drop "$sidecar_dir" >/dev/null 2>&1 || true
rm -f "$sidecar_dir/sidecar.log"
SIDECAR_ACCESS_TOKEN_VALIDITY=10 scripts/test-sidecar.sh start "$sidecar_dir" || fail "the sidecar did not start"
eval "$(scripts/test-sidecar.sh env "$sidecar_dir")"

# Port 0: the app binds a free port itself and prints it, so no other process can take it in between.
: >"$webapp_log"
RENEW_TOKEN_PATH=$renew_token_path "$venv/bin/python" clients/python/examples/webapp.py --port 0 \
  --socket "$SESSION_SIDECAR_SOCKET" </dev/null >>"$webapp_log" 2>&1 &
webapp_pid=$!
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's|^serving on http://localhost:\([0-9][0-9]*\)/.*|\1|p' "$webapp_log" | head -n 1)
  [ -n "$port" ] && break
  kill -0 "$webapp_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  tail -n 20 "$webapp_log" >&2
  fail "the web app did not start (log: $webapp_log)"
fi
echo "browser-test: web app on http://localhost:$port/ (sidecar $SESSION_SIDECAR_SOCKET, access tokens 10 s)"

# --- the test --------------------------------------------------------------------------------------------------
mkdir -p "$screenshots"
rm -f "$screenshots"/0[1-4]*-*.png "$screenshots/failure.png"
export SE_OFFLINE=true SE_AVOID_STATS=true # never let Selenium Manager reach the network
# In the background, so that an INT or TERM to this script is handled at once (cleanup stops the test).
timeout --kill-after=10 180 "$venv/bin/python" tests/browser/session_flow.py \
  --base-url "http://localhost:$port" --socket "$SESSION_SIDECAR_SOCKET" \
  --sidecar-log "$sidecar_dir/sidecar.log" --renew-token-path "$renew_token_path" \
  --screenshots "$screenshots" </dev/null &
test_pid=$!
status=0
wait "$test_pid" || status=$?
test_pid=
if [ "$status" -eq 0 ]; then
  summary "PASSED: login, silent refresh on the page and on navigation, logout in headless Chromium"
else
  echo "--- web app log (last lines) ---"
  tail -n 30 "$webapp_log" || true
  echo "--- sidecar log (last lines) ---"
  tail -n 30 "$sidecar_dir/sidecar.log" || true
  [ "$status" -eq 124 ] && fail "the browser test timed out"
  fail "the browser test failed (exit $status)"
fi
