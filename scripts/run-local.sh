#!/usr/bin/env bash
# Try the sidecar on this machine: installs what is missing (Debian packages), starts a private MariaDB under
# .run/mariadb, builds the sidecar in release mode and runs it on .run/sidecar.sock until Ctrl-C.
#   scripts/run-local.sh            build and serve
#   SIDECAR_BUILD=debug scripts/run-local.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

scripts/install-deps.sh
scripts/mariadb.sh start
port=$(cat .run/mariadb/port 2>/dev/null || echo "${SIDECAR_MYSQL_PORT:-33061}")

mode=${SIDECAR_BUILD:-release}
swift build -c "$mode" --product session-sidecar
binary=$(swift build -c "$mode" --show-bin-path)/session-sidecar

mkdir -p .run
# The key-encryption key that seals private signing keys in the database: 32 random bytes, private to us.
if [ ! -f .run/kek.bin ]; then
  (umask 077 && head -c 32 /dev/urandom >.run/kek.bin)
fi
chmod 600 .run/kek.bin
cat > .run/local.yaml <<YAML
mysql:
  host: 127.0.0.1
  port: $port
  user: sidecar
  password: sidecar
  database: session_sidecar
tokens:
  refreshToken:
    renewTokenPath: /auth/session/refresh
logging:
  level: info
cookie:
  domain: localhost
  secure: false
sidecar:
  socketPath: $repo/.run/sidecar.sock
  socketMode: "0660"
  jwksFile: $repo/.run/jwks.json
  keyEncryptionKeyFile: $repo/.run/kek.bin
YAML
echo "session-sidecar: serving on $repo/.run/sidecar.sock (config .run/local.yaml); Ctrl-C stops it"
exec "$binary" serve --config .run/local.yaml
