#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and a local run need, when any is missing, and the Python
# packages the cross-language tests use. Needs root (apt-get); safe to run again.
set -euo pipefail
# Build and run: libssl-dev libmariadb-dev (and MariaDB for tests). Clients: python3-venv (Python), gcc g++
# valgrind libprotobuf-c-dev (C), golang-go golang-google-protobuf-dev (Go, offline). Regenerating code:
# protobuf-compiler protobuf-c-compiler protoc-gen-go.
packages=(libssl-dev libmariadb-dev mariadb-server mariadb-client protobuf-compiler protobuf-c-compiler
  libprotobuf-c-dev pkg-config openssl make gcc g++ valgrind python3 python3-venv golang-go
  golang-google-protobuf-dev protoc-gen-go)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
