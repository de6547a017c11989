#!/usr/bin/env bash
# The renderer-stub test drives Debian's chromium through playwright-core (never a downloaded
# browser). Installs it when missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
exec bash "$(dirname "$0")/install-debian-package.sh" chromium /usr/bin/chromium test/setup-browser.sh
