#!/usr/bin/env bash
# The one test command (npm test). Node 20's test runner neither expands globs nor finds .ts
# files, so the files are listed here by find; the summary's count shows what ran.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent typecheck
bash test/setup-browser.sh   # the renderer-stub test needs /usr/bin/chromium
bash test/setup-postgres.sh  # the PostgreSQL tests start their own server from its binaries
mapfile -t files < <(find test/unit test/api test/process test/browser -name '*.test.ts' 2>/dev/null | sort)
if [ ${#files[@]} -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
node --import tsx --test --test-concurrency=2 "${files[@]}"
mapfile -t api < <(find test/api -name '*.test.ts' | sort)
# The API tests again on the backend as it ships, bundled by esbuild (see test/api-on-bundle.ts).
node --import tsx test/api-on-bundle.ts "${api[@]}"
# The API tests again with every store on PostgreSQL (a server per test file, a database per store).
API_STORE_TEST_STORAGE=postgres exec node --import tsx --test --test-concurrency=2 "${api[@]}"
