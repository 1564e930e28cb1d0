#!/usr/bin/env bash
# Runs the real-browser tests in this folder (headless Chromium via playwright-core).
#
#   tests/browser/run.sh            # from anywhere; needs target/debug/marquee (cargo build)
#
# Env: MARQUEE_BIN (server binary), CHROMIUM (default /usr/bin/chromium),
#      CI=true turns a missing node or Chromium into a failure instead of a skip.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

skip_or_fail() {
  if [[ "${CI:-}" == "true" ]]; then
    echo "browser tests: $1 (CI=true, so this is a failure)" >&2
    exit 1
  fi
  echo "browser tests skipped: $1"
  exit 0
}

command -v node >/dev/null 2>&1 || skip_or_fail "node is not installed (Node 20 or newer is needed)"
command -v npm >/dev/null 2>&1 || skip_or_fail "npm is not installed"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if (( node_major < 20 )); then
  skip_or_fail "node $(node --version) is too old (Node 20 or newer is needed)"
fi

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$chromium" ]]; then
  skip_or_fail "Chromium not found at $chromium (apt-get install -y --no-install-recommends chromium chromium-driver, or set CHROMIUM)"
fi
export CHROMIUM="$chromium"

if [[ ! -d node_modules/playwright-core ]]; then
  npm ci --no-audit --no-fund
fi

# A relative MARQUEE_BIN is meant relative to where the caller stood, not this folder.
if [[ -n "${MARQUEE_BIN:-}" && "${MARQUEE_BIN}" != /* ]]; then
  MARQUEE_BIN="$OLDPWD/$MARQUEE_BIN"
  export MARQUEE_BIN
fi

shopt -s nullglob
tests=(./*.test.mjs)
(( ${#tests[@]} > 0 )) || { echo "no *.test.mjs files in $here" >&2; exit 1; }

node --test --test-reporter=spec "${tests[@]}"
