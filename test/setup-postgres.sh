#!/usr/bin/env bash
# The PostgreSQL tests start their own server from Debian's postgresql package (initdb + pg_ctl in
# a temp dir, as the unprivileged `postgres` user). Installs the package when its binaries are missing.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then exit 0; fi
exec bash "$(dirname "$0")/install-debian-package.sh" postgresql "PostgreSQL's initdb" test/setup-postgres.sh
