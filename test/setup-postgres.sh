#!/usr/bin/env bash
# The PostgreSQL tests start their own server from Debian's postgresql package (initdb + pg_ctl in
# a temp dir, as the unprivileged `postgres` user). Installs the package when its binaries are
# missing; CI runs as root on a fresh Debian machine.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "test/setup-postgres.sh: PostgreSQL's initdb is missing; install the Debian 'postgresql' package (as root)." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
