#!/usr/bin/env bash
# Runs the app tests against a real PostgreSQL server: a private, throw-away cluster that listens
# on 127.0.0.1 only (no unix socket). Each run gets a database of its own, dropped at the end, so
# runs from several checkouts can share the cluster; the run that started the cluster stops it
# when no other run's database is left. Extra arguments go to pytest (or, after --run, are a command to
# run with TECHMATCH_TEST_DATABASE_URL set); without any, the app tests run
# on the FAISS backend, then the suites that touch vectors again with the vectors in PostgreSQL
# (TECHMATCH_TEST_VECTOR_BACKEND=pgvector).
set -euo pipefail
cd "$(dirname "$0")/.."

port="${TECHMATCH_TEST_PG_PORT:-55432}"
database="techmatch_test_$$"
user=techmatch
pg_bin="$(compgen -G "/usr/lib/postgresql/*/bin" | sort -V | tail -n 1 || true)"
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
    echo "test-postgres: PostgreSQL is not installed; run scripts/system-deps.sh" >&2
    exit 1
fi

# PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user, and its
# folder is under /tmp, which that user can reach wherever the checkout is.
if [ "$(id -u)" -eq 0 ]; then
    data="${TECHMATCH_TEST_PG_DIR:-/tmp/techmatch-pgtest-$port}"
    as_server=(runuser -u postgres --)
    install -d -m 700 -o postgres -g postgres "$data"
else
    data="${TECHMATCH_TEST_PG_DIR:-$PWD/var/pgtest-$port}"
    as_server=()
    mkdir -p -m 700 "$data"
fi

# One run at a time initialises and starts the cluster; the others wait here, then find it running.
exec 9>"${TMPDIR:-/tmp}/techmatch-pgtest-$port.lock"
flock 9
started=no
if ! "${as_server[@]}" "$pg_bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    if [ ! -s "$data/PG_VERSION" ]; then
        # trust is safe here: the server listens on the loopback interface only and holds test data.
        "${as_server[@]}" "$pg_bin/initdb" -D "$data" -U "$user" --auth=trust --encoding=UTF8 \
            --no-locale >/dev/null
    fi
    # Durability is pointless for a throw-away test cluster; without fsync the tests run faster.
    "${as_server[@]}" "$pg_bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 -o \
        "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='' -c fsync=off \
         -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
    started=yes
fi
flock -u 9
psql=("$pg_bin/psql" -h 127.0.0.1 -p "$port" -U "$user" -v ON_ERROR_STOP=1 -qtA)
finish() {
    # This run's database and those of its xdist workers (<name>_gw0, ...).
    for name in $("${psql[@]}" -d postgres -c "SELECT datname FROM pg_database WHERE datname = '$database' OR datname LIKE '${database}\_%'" || true); do
        "${psql[@]}" -d postgres -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" || true
    done
    others="$("${psql[@]}" -d postgres -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'techmatch\_test\_%'" || echo 1)"
    if [ "$started" = yes ] && [ "$others" = 0 ]; then
        "${as_server[@]}" "$pg_bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null || true
    fi
}
trap finish EXIT
"${psql[@]}" -d postgres -c "CREATE DATABASE $database"

echo "test-postgres: PostgreSQL $("${psql[@]}" -d "$database" -c 'SHOW server_version') on 127.0.0.1:$port" >&2
export TECHMATCH_TEST_DATABASE_URL="postgresql+psycopg://$user@127.0.0.1:$port/$database"
# --run COMMAND...: any command with the throw-away database (scripts/bench.py backends measures on it).
if [ "${1:-}" = "--run" ]; then
    shift
    "$@"
    exit
fi
if [ "$#" -gt 0 ]; then
    .venv/bin/python -m pytest "$@"
    exit
fi
# One at a time: the app's background threads (followers, job and webhook workers) make the
# per-test truncation of a shared server database order-sensitive, so these passes do not spread.
faiss=0
.venv/bin/python -m pytest tests/app || faiss=$?
echo "test-postgres: the tests that touch vectors again on the pgvector backend, and its benchmark's mechanics" >&2
pgvector=0
TECHMATCH_TEST_VECTOR_BACKEND=pgvector .venv/bin/python -m pytest tests/app/indexing tests/app/matches \
    tests/app/privacy tests/app/replication \
    "tests/scripts/test_bench.py::test_bench_backends_case_measures_both" || pgvector=$?
test "$faiss" -eq 0 && test "$pgvector" -eq 0
