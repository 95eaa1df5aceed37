#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and a local run need, when any is missing, and the Python
# packages the cross-language tests use. Needs root (apt-get); safe to run again.
set -euo pipefail
die() {
  echo "install-deps: $*" >&2
  exit 1
}
# shellcheck source=lib/packages.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/packages.sh"
# Build and run: libssl-dev libmariadb-dev (and MariaDB for tests). Clients: python3-venv (Python), gcc g++
# valgrind libprotobuf-c-dev (C), golang-go golang-google-protobuf-dev (Go, offline). Regenerating code:
# protobuf-compiler protobuf-c-compiler protoc-gen-go.
packages=(libssl-dev libmariadb-dev mariadb-server mariadb-client protobuf-compiler protobuf-c-compiler
  libprotobuf-c-dev pkg-config openssl make gcc g++ valgrind python3 python3-venv golang-go
  golang-google-protobuf-dev protoc-gen-go)
ensure_packages "${packages[@]}"
