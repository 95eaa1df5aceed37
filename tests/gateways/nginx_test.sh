#!/usr/bin/env bash
# A real nginx in front of a real sidecar (issue 12): nginx's auth_request asks the sidecar's forward-auth
# (/auth/verify on sidecar.http.address) about every request, and passes the user on to the app behind it.
#
#   tests/gateways/nginx_test.sh
#
# The nginx configuration is docs/gateways.md's (the block between <!-- nginx-gateway:start/end -->, with this
# run's ports in place of 127.0.0.1:8081, 127.0.0.1:3000 and `listen 80`), wrapped in a main context of its own:
# `daemon off` in the background, prefix, pid file, logs and temporary paths in a temporary directory.
# For CI as root on Debian 12, no stdin. Installs what is missing (Debian's nginx, curl, python3) without starting
# the system nginx service (a policy-rc.d that forbids it is in place while apt-get runs). Starts the private MariaDB
# if needed (scripts/mariadb.sh), a sidecar of its own with 10 s access tokens (scripts/test-sidecar.sh, directory
# .run/gateways-nginx/sidecar), the app (tests/gateways/echo_upstream.py: echoes the X-Session-* headers it got and
# logs every request it sees) and nginx. Then, with curl:
#   - a valid session, as a browser sends it (cookie sAccessToken) and as an API client does (Authorization:
#     Bearer), reaches the app, which sees X-Session-User-Id: u1 and the token's claims in X-Session-Payload;
#     X-Session-* headers sent by the client are replaced, never passed on;
#   - no token, a token with a forged payload and a garbage token get 401 with X-Session-Outcome: unauthorised and
#     the sidecar's JSON body, and never reach the app (its log);
#   - on a session with anti-CSRF, POST without the anti-csrf header gets 401 (try-refresh-token), with it 200:
#     the original method reaches the sidecar through X-Original-Method;
#   - once the access token has expired (the test waits ~11 s), 401 with X-Session-Outcome: try-refresh-token;
#   - /auth/session/... (login, refresh) reaches the app without a valid token and without client X-Session-*;
#   - with the sidecar stopped, 500 and nothing reaches the app.
# Prints one PASS/FAIL line per check and exits non-zero when any failed. Always stops nginx and the app and drops
# the sidecar ($NGINX_TEST_KEEP=1 keeps the temporary directory, with nginx.conf and the logs). The sidecar binary
# is $SIDECAR_BIN, else the debug build's ($(swift build --show-bin-path)/session-sidecar).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"

started=$(date +%s)
sidecar_dir=$repo/.run/gateways-nginx/sidecar
work=
nginx_pid=
upstream_pid=
policy_backup=
policy_created=
passed=0
failed=0
summarized=

say() { echo "nginx_test: $*"; }
pass() {
  passed=$((passed + 1))
  echo "PASS: $*"
}
fail_check() {
  failed=$((failed + 1))
  echo "FAIL: $*"
}
summary() {
  summarized=1
  say "$passed passed, $failed failed ($(($(date +%s) - started)) s)"
}
# Something the test needs is missing or did not start: no checks can run.
abort() {
  echo "FAIL: $*"
  failed=$((failed + 1))
  exit 1
}

restore_policy() {
  if [ -n "$policy_created" ]; then
    rm -f /usr/sbin/policy-rc.d
    policy_created=
  fi
  if [ -n "$policy_backup" ]; then
    mv -f "$policy_backup" /usr/sbin/policy-rc.d
    policy_backup=
  fi
}

stop_pid() { # PID SIGNAL: signal, wait up to 5 s, then SIGKILL
  local pid=$1 signal=$2
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill "-$signal" "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  restore_policy
  stop_pid "$nginx_pid" QUIT # graceful: the master stops its workers
  stop_pid "$upstream_pid" TERM
  if [ -f "$sidecar_dir/settings.env" ] || [ -f "$sidecar_dir/sidecar.pid" ]; then
    scripts/test-sidecar.sh drop "$sidecar_dir" >/dev/null 2>&1 || say "could not drop the sidecar in $sidecar_dir"
  fi
  if [ -n "$work" ] && [ -d "$work" ]; then
    if [ "${NGINX_TEST_KEEP:-}" = 1 ]; then
      say "kept $work"
    else
      rm -rf "$work"
    fi
  fi
  [ "$failed" -eq 0 ] || [ "$status" -ne 0 ] || status=1
  [ -n "$summarized" ] || summary
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- what the test needs --------------------------------------------------------------------------------------
find_nginx() {
  command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true
}
packages=()
[ -n "$(find_nginx)" ] || packages+=(nginx)
command -v curl >/dev/null 2>&1 || packages+=(curl)
command -v python3 >/dev/null 2>&1 || packages+=(python3)
if [ ${#packages[@]} -gt 0 ]; then
  say "installing ${packages[*]}"
  [ "$(id -u)" -eq 0 ] || abort "need root to install ${packages[*]} (or install them first)"
  # Package scripts start services through invoke-rc.d / deb-systemd-invoke, which ask policy-rc.d first: exit 101
  # (forbidden) keeps the system nginx from starting. Whatever policy-rc.d was there comes back afterwards.
  if [ -e /usr/sbin/policy-rc.d ]; then
    policy_backup=/usr/sbin/policy-rc.d.nginx-test.$$
    mv /usr/sbin/policy-rc.d "$policy_backup"
  fi
  printf '#!/bin/sh\n# tests/gateways/nginx_test.sh: no service starts while it installs packages\nexit 101\n' \
    >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  policy_created=1
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q </dev/null >/dev/null || abort "apt-get update failed"
  apt-get install -y -q --no-install-recommends "${packages[@]}" </dev/null >/dev/null ||
    abort "could not install ${packages[*]}"
  restore_policy
fi
nginx=$(find_nginx)
[ -n "$nginx" ] || abort "no nginx binary after installing it"
say "$("$nginx" -v 2>&1)"
nginx_build=$("$nginx" -V 2>&1)
case "$nginx_build" in
*--with-http_auth_request_module*) ;;
*) abort "$nginx was built without the auth_request module (Debian's nginx has it)" ;;
esac

# --- database, sidecar, app -----------------------------------------------------------------------------------
scripts/mariadb.sh start >/dev/null || abort "the private MariaDB did not start (scripts/mariadb.sh start)"
if [ -z "${SIDECAR_BIN:-}" ]; then
  SIDECAR_BIN="$(swift build --show-bin-path)/session-sidecar"
fi
export SIDECAR_BIN
[ -x "$SIDECAR_BIN" ] || abort "no sidecar binary at $SIDECAR_BIN (build it, or set SIDECAR_BIN)"
# A leftover from an interrupted run would bring back its settings (test-sidecar.sh reads settings.env first).
scripts/test-sidecar.sh drop "$sidecar_dir" >/dev/null 2>&1 || true
rm -f "$sidecar_dir/sidecar.log"
SIDECAR_ACCESS_TOKEN_VALIDITY=10 scripts/test-sidecar.sh start "$sidecar_dir" >/dev/null ||
  abort "the sidecar did not start (log: $sidecar_dir/sidecar.log)"
eval "$(scripts/test-sidecar.sh env "$sidecar_dir")"
sidecar_http=${SESSION_SIDECAR_HTTP#http://} # 127.0.0.1:PORT

work=$(mktemp -d "${TMPDIR:-/tmp}/nginx-gateway-test.XXXXXX")
chmod 755 "$work" # nginx's workers run as nobody when the master is root
mkdir -p "$work/logs" "$work/tmp"
upstream_log=$work/upstream-requests.log
: >"$upstream_log"
python3 "$repo/tests/gateways/echo_upstream.py" "$upstream_log" </dev/null >"$work/upstream.out" 2>&1 &
upstream_pid=$!
upstream_port=
for _ in $(seq 1 100); do
  upstream_port=$(sed -n 's/^listening \([0-9][0-9]*\)$/\1/p' "$work/upstream.out")
  [ -n "$upstream_port" ] && break
  kill -0 "$upstream_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$upstream_port" ] || abort "the app did not start: $(cat "$work/upstream.out")"

# --- nginx ----------------------------------------------------------------------------------------------------
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# The configuration is docs/gateways.md's block between <!-- nginx-gateway:start/end -->, exactly as the page
# shows it but for its three placeholders: the sidecar's address, the app's, and `listen 80`.
doc=$repo/docs/gateways.md
gateway_block=$(awk '
  $0 == "<!-- nginx-gateway:start -->" { inside = 1; next }
  $0 == "<!-- nginx-gateway:end -->" { inside = 0; next }
  inside && /^```/ { fence = !fence; next }
  inside && fence { print }
' "$doc")
[ -n "$gateway_block" ] || abort "no nginx block between <!-- nginx-gateway:start --> and <!-- nginx-gateway:end --> in $doc"
for placeholder in 'server 127.0.0.1:8081;' 'server 127.0.0.1:3000;' 'listen 80;'; do
  grep -qF -- "$placeholder" <<<"$gateway_block" || abort "the nginx block in $doc has no '$placeholder'"
done
nginx_conf() { # LISTEN_PORT
  local user_line=
  [ "$(id -u)" -ne 0 ] || user_line='user nobody nogroup;' # workers drop root; $work is world-readable for them
  cat <<NGINX
# Written by tests/gateways/nginx_test.sh: a throwaway nginx, everything under $work.
$user_line
daemon off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log info;
events { worker_connections 64; }

http {
access_log $work/logs/access.log;
client_body_temp_path $work/tmp/client_body;
proxy_temp_path $work/tmp/proxy;
fastcgi_temp_path $work/tmp/fastcgi;
uwsgi_temp_path $work/tmp/uwsgi;
scgi_temp_path $work/tmp/scgi;

# --- from docs/gateways.md ---
$(sed -e "s/server 127\.0\.0\.1:8081;/server $sidecar_http;/" \
  -e "s/server 127\.0\.0\.1:3000;/server 127.0.0.1:$upstream_port;/" \
  -e "s/listen 80;/listen 127.0.0.1:$1;/" <<<"$gateway_block")
}
NGINX
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

nginx_port=
for attempt in 1 2 3; do
  port=$(free_port)
  nginx_conf "$port" >"$work/nginx.conf"
  "$nginx" -t -q -p "$work" -c "$work/nginx.conf" -e "$work/logs/error.log" 2>"$work/nginx-t.out" || {
    cat "$work/nginx-t.out" >&2
    abort "nginx -t rejected the configuration ($work/nginx.conf)"
  }
  "$nginx" -p "$work" -c "$work/nginx.conf" -e "$work/logs/error.log" </dev/null >>"$work/nginx.out" 2>&1 &
  nginx_pid=$!
  for _ in $(seq 1 100); do
    if [ -s "$work/nginx.pid" ] && port_open "$port"; then
      nginx_port=$port
      break
    fi
    kill -0 "$nginx_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -z "$nginx_port" ] || break
  stop_pid "$nginx_pid" QUIT
  nginx_pid=
  say "nginx did not start on port $port (attempt $attempt): $(tail -n 3 "$work/logs/error.log" 2>/dev/null)"
done
[ -n "$nginx_port" ] || abort "nginx did not start (log: $work/logs/error.log)"
gateway=http://127.0.0.1:$nginx_port
say "nginx $gateway -> app 127.0.0.1:$upstream_port, forward-auth $SESSION_SIDECAR_HTTP/auth/verify"

# --- sessions -------------------------------------------------------------------------------------------------
create_session() { # JSON -> prints the response
  "$SIDECAR_BIN" call CreateSession --socket "$SESSION_SIDECAR_SOCKET" --json "$1"
}
json_field() { # DOTTED.PATH < JSON
  python3 -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    value = value[key]
print(value)' "$1"
}
created_at=$(date +%s.%N)
session=$(create_session '{"user_id":"u1","access_token_payload_json":"{\"role\":\"tester\"}"}') ||
  abort "CreateSession failed"
token=$(json_field access_token.token <<<"$session")
csrf_session=$(create_session '{"user_id":"u2","enable_anti_csrf":true}') || abort "CreateSession (anti-CSRF) failed"
csrf_token=$(json_field access_token.token <<<"$csrf_session")
csrf_value=$(json_field anti_csrf_token <<<"$csrf_session")
if [ -z "$token" ] || [ -z "$csrf_token" ] || [ -z "$csrf_value" ]; then
  abort "CreateSession gave no token"
fi

# The same JWT with every claim that says u1 saying admin, and the original signature: what a forger can make.
forged=$(python3 - "$token" <<'PY'
import base64, json, sys
header, payload, signature = sys.argv[1].split(".")
claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
claims = {key: ("admin" if value == "u1" else value) for key, value in claims.items()}
encoded = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=").decode()
print(f"{header}.{encoded}.{signature}")
PY
)
[ "$forged" != "$token" ] || abort "could not forge a token (no claim said u1)"

# --- checks ---------------------------------------------------------------------------------------------------
# request NAME PATH [curl args...]: sets status, body, outcome (X-Session-Outcome) and reached (how many
# requests for PATH the app logged meanwhile).
request() {
  local name=$1 path=$2
  shift 2
  local before
  before=$(wc -l <"$upstream_log")
  rm -f "$work/headers" "$work/body"
  status=$(curl -sS -o "$work/body" -D "$work/headers" -w '%{http_code}' --max-time 10 "$@" "$gateway$path") ||
    status=000
  body=$(cat "$work/body" 2>/dev/null || true)
  outcome=$(tr -d '\r' <"$work/headers" 2>/dev/null | sed -n 's/^[Xx]-[Ss]ession-[Oo]utcome: //p' | head -n 1)
  reached=$(tail -n +"$((before + 1))" "$upstream_log" | grep -c " $path " || true)
}

expect_allowed() { # NAME USER [curl args...]
  local name=$1 user=$2
  shift 2
  request "$name" "/check/$name" "$@"
  if [ "$status" = 200 ] && [ "$reached" = 1 ] && grep -qx "user=$user" <<<"$body"; then
    pass "$name: 200, the app saw X-Session-User-Id: $user"
  else
    fail_check "$name: expected 200 with the app seeing X-Session-User-Id: $user; got $status, app reached $reached" \
      "time(s), body: $(head -c 300 <<<"$body")"
  fi
}

expect_refused() { # NAME OUTCOME [curl args...]
  local name=$1 want=$2 want_body
  shift 2
  [ "$want" = try-refresh-token ] && want_body='{"message":"try refresh token"}' || want_body='{"message":"unauthorised"}'
  request "$name" "/check/$name" "$@"
  if [ "$status" = 401 ] && [ "$reached" = 0 ] && [ "$outcome" = "$want" ] && [ "$body" = "$want_body" ]; then
    pass "$name: 401, X-Session-Outcome: $want, $body, the app never saw it"
  else
    fail_check "$name: expected 401 X-Session-Outcome: $want $want_body without reaching the app; got $status," \
      "outcome '$outcome', app reached $reached time(s), body: $(head -c 300 <<<"$body")"
  fi
}

expect_allowed cookie u1 -H "Cookie: theme=dark; sAccessToken=$token; other=1"
expect_allowed bearer u1 -H "Authorization: Bearer $token"
expect_allowed spoofed-user-header u1 -H "Cookie: sAccessToken=$token" -H "X-Session-User-Id: admin" \
  -H "X-Session-Payload: e30"
payload=$(sed -n 's/^payload=//p' <<<"$body")
if [ -n "$payload" ] && python3 -c 'import base64, json, sys
claims = json.loads(base64.urlsafe_b64decode(sys.argv[1] + "=" * (-len(sys.argv[1]) % 4)))
sys.exit(0 if claims.get("role") == "tester" else 1)' "$payload" 2>/dev/null; then
  pass "payload: the app got the token's claims in X-Session-Payload (role=tester), not the client's"
else
  fail_check "payload: expected X-Session-Payload with role=tester, the app got '$payload'"
fi

expect_refused no-token unauthorised
expect_refused forged-payload unauthorised -H "Cookie: sAccessToken=$forged"
expect_refused forged-bearer unauthorised -H "Authorization: Bearer $forged"
expect_refused garbage-token unauthorised -H "Cookie: sAccessToken=not.a.token"

expect_allowed csrf-get u2 -H "Cookie: sAccessToken=$csrf_token"
expect_refused csrf-post-without-header try-refresh-token -X POST -H "Cookie: sAccessToken=$csrf_token"
expect_allowed csrf-post-with-header u2 -X POST -H "Cookie: sAccessToken=$csrf_token" -H "anti-csrf: $csrf_value"

# Past the 10 s validity (with a second's margin for the token's whole-second expiry).
wait_s=$(python3 -c 'import sys, time; print(max(0.0, float(sys.argv[1]) + 11.5 - time.time()))' "$created_at")
say "waiting ${wait_s%.*} s for the access tokens to expire"
sleep "$wait_s"
expect_refused expired-cookie try-refresh-token -H "Cookie: sAccessToken=$token"
expect_refused expired-bearer try-refresh-token -H "Authorization: Bearer $token"

# The session routes (login, refresh, logout) work without a valid token, and never pass a client's X-Session-*.
request session-route /auth/session/refresh -X POST -H "Cookie: sAccessToken=$token" \
  -H "X-Session-User-Id: admin" -H "X-Session-Payload: e30"
line=$(grep " /auth/session/refresh " "$upstream_log" | tail -n 1 || true)
if [ "$status" = 200 ] && [ "$reached" = 1 ] &&
  [ "$line" = "POST /auth/session/refresh x-session-user-id= x-session-handle= x-session-payload=" ]; then
  pass "session-route: /auth/session/refresh reaches the app with an expired token, without the client's X-Session-*"
else
  fail_check "session-route: expected 200 at the app without X-Session-* headers; got $status, app saw '$line'"
fi

# The sidecar gone: nginx fails closed.
scripts/test-sidecar.sh stop "$sidecar_dir" >/dev/null 2>&1 || true
request sidecar-down /check/sidecar-down -H "Cookie: sAccessToken=$csrf_token"
if [ "$status" = 500 ] && [ "$reached" = 0 ]; then
  pass "sidecar-down: 500, the app never saw it"
else
  fail_check "sidecar-down: expected 500 without reaching the app; got $status, app reached $reached time(s)"
fi

if [ "$failed" -gt 0 ]; then
  say "--- nginx error log (last lines) ---"
  tail -n 20 "$work/logs/error.log" || true
  say "--- app log ---"
  cat "$upstream_log" || true
  say "--- sidecar log (last lines) ---"
  tail -n 20 "$sidecar_dir/sidecar.log" || true
fi
summary
[ "$failed" -eq 0 ]
