#!/usr/bin/env bash
# `install-debian-package.sh <package> <what is missing> <caller>`: installs a Debian package a test
# setup script found missing. CI runs as root on a fresh Debian machine; elsewhere it says what to do.
set -euo pipefail
package=$1 missing=$2 caller=$3
if [ "$(id -u)" -ne 0 ]; then
  echo "$caller: $missing is missing; install the Debian '$package' package (as root)." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "$package" >/dev/null
