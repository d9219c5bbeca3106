#!/usr/bin/env bash
# The project's test command: the whole suite on both store backends, against
# a real PostgreSQL + pgvector (provisioned by scripts/with-postgres.sh unless
# DATABASE_URL is set), and in a real headless Chromium for the web UI
# (installed by scripts/ensure-chromium.sh when missing). Postgres and
# browser tests fail, never skip, under this script.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-chromium.sh
export PROVENANCE_REQUIRE_POSTGRES=1
export PROVENANCE_REQUIRE_BROWSER=1
exec scripts/with-postgres.sh cargo test --all-targets "$@"
