#!/usr/bin/env bash
# The renderer-stub test drives Debian's chromium through playwright-core (never a downloaded
# browser). Installs it when missing; CI runs as root on a fresh Debian machine.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "test/setup-browser.sh: /usr/bin/chromium is missing; install the Debian 'chromium' package (as root)." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
