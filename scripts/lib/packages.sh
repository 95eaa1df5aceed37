# shellcheck shell=bash
# Sourced by the scripts that install what they need: one way to run as root, find a tool and install missing
# Debian packages. Callers define die() (and may set PACKAGES_LOG to a function that reports what is installed).

# Runs a command as root: directly when we are root, else through sudo without a prompt.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    die "need root to run: $*"
  fi
}

# The path of a tool, also where it is not on PATH (mariadbd lives in /usr/sbin); empty when it is absent.
find_tool() {
  command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } ||
    { [ -x "/usr/bin/$1" ] && echo "/usr/bin/$1"; } || true
}

# The packages of the arguments that are not installed, one per line.
missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

# Installs the Debian packages of the arguments that are missing (apt-get update first; output to stderr).
ensure_packages() {
  local missing
  mapfile -t missing < <(missing_packages "$@")
  [ "${#missing[@]}" -eq 0 ] && return 0
  echo "installing ${missing[*]}" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
    </dev/null >&2
}
