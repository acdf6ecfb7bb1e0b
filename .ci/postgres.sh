#!/usr/bin/env bash
# A throwaway PostgreSQL server for the store's tests, on 127.0.0.1 and a free port, in a temporary folder.
#   eval "$(.ci/postgres.sh start)"   starts it and prints `export CSU_TEST_POSTGRES_URL=...; export CSU_TEST_POSTGRES_DIR=...`
#   .ci/postgres.sh stop              stops it and deletes its folder (reads CSU_TEST_POSTGRES_DIR)
# Installs the distribution's `postgresql` package when its binaries are missing. Root cannot run initdb, so the
# server runs as the `postgres` user (the package creates it).
set -euo pipefail

bin_dir() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$found" ]; then
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
        found=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    fi
    echo "$found"
}

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
    local bin dir port
    bin=$(bin_dir)
    dir=$(mktemp -d /tmp/csu-postgres.XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    port=$(free_port)
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >&2
    echo "export CSU_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$port/postgres"
    echo "export CSU_TEST_POSTGRES_DIR=$dir"
}

stop() {
    local dir=${CSU_TEST_POSTGRES_DIR:?CSU_TEST_POSTGRES_DIR is not set}
    as_postgres "$(bin_dir)/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    rm -rf "$dir"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
