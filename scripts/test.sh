#!/usr/bin/env bash
# The project's test command: the whole suite on both store backends, against
# a real PostgreSQL + pgvector (provisioned by scripts/with-postgres.sh unless
# DATABASE_URL is set). Postgres tests fail, never skip, under this script.
set -euo pipefail
cd "$(dirname "$0")/.."
export PROVENANCE_REQUIRE_POSTGRES=1
exec scripts/with-postgres.sh cargo test --all-targets "$@"
