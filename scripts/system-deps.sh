#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only the missing ones: PostgreSQL (a real
# server for the database tests) and its pgvector extension (the pgvector backend's tests),
# redis-server (rate limits shared by several processes), chromium (browser tests of the pages), npm
# (axe-core, which the browser tests run inside each page), python3-venv, curl and jq (the
# integration guide's examples).
set -euo pipefail

missing=()
# `python3 -m venv` (make's first step) needs ensurepip, which Debian ships separately.
if ! python3 -c "import ensurepip" >/dev/null 2>&1; then
    missing+=(python3-venv)
fi
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    missing+=(postgresql)
fi
if ! command -v redis-server >/dev/null 2>&1; then
    missing+=(redis-server)
fi
if ! command -v chromium >/dev/null 2>&1; then
    missing+=(chromium)
fi
if ! command -v npm >/dev/null 2>&1; then
    missing+=(npm)
fi
# docs/integration.md is run as written by a test: its examples use curl and jq.
for tool in curl jq; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        missing+=("$tool")
    fi
done
pgvector_installed() {
    local pg_config
    pg_config="$(compgen -G "/usr/lib/postgresql/*/bin/pg_config" | sort -V | tail -n 1 || true)"
    [ -n "$pg_config" ] && [ -f "$("$pg_config" --sharedir)/extension/vector.control" ]
}
if [ "${#missing[@]}" -eq 0 ] && pgvector_installed; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "system-deps: missing ${missing[*]} pgvector; run this script as root" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if [ "${#missing[@]}" -gt 0 ]; then
    echo "system-deps: installing ${missing[*]}" >&2
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if pgvector_installed; then
    exit 0
fi

# pgvector for the installed PostgreSQL: Debian's package where this release has one; else built from
# Debian's own source package (this release has none for PostgreSQL 15: it came with the next one),
# fetched through apt from the system's Debian archive with a private source list, so the system's
# apt configuration is left as it was. dpkg-source applies Debian's patches (one drops -march=native,
# so the build runs on any x86-64). About 15 s to build.
pg_major="$(basename "$(dirname "$(dirname "$(compgen -G "/usr/lib/postgresql/*/bin/pg_config" | sort -V | tail -n 1)")")")"
if apt-cache show "postgresql-$pg_major-pgvector" >/dev/null 2>&1; then
    echo "system-deps: installing postgresql-$pg_major-pgvector" >&2
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "postgresql-$pg_major-pgvector"
    exit 0
fi
echo "system-deps: building pgvector for PostgreSQL $pg_major from Debian's source package" >&2
"${sudo[@]}" apt-get install -y -q --no-install-recommends "postgresql-server-dev-$pg_major" make gcc dpkg-dev
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The archive this system already uses (a deb822 .sources file or a one-line sources.list).
archive="$(grep -rhoE '^URIs:[[:space:]]*[^[:space:]]+/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | head -n 1 | sed -E 's/^URIs:[[:space:]]*//')"
if [ -z "$archive" ]; then
    archive="$(grep -hoE '^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?[^[:space:]]+/debian/?[[:space:]]' \
        /etc/apt/sources.list 2>/dev/null | head -n 1 | awk '{print $NF}')"
fi
codename="$(. /etc/os-release && echo "$VERSION_CODENAME")"
case "$codename" in
    bookworm) next=trixie ;;
    trixie) next=forky ;;
    *) next="" ;;
esac
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
for suite in "$codename" "$codename-backports" $next; do
    echo "deb-src [signed-by=$keyring] $archive $suite main"
done >"$work/sources.list"
apt_private=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache")
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
"${sudo[@]}" apt-get "${apt_private[@]}" update -q
(cd "$work" && "${sudo[@]}" apt-get "${apt_private[@]}" source -q pgvector)
source_dir="$(compgen -G "$work/pgvector-*/" | head -n 1)"
pg_config="/usr/lib/postgresql/$pg_major/bin/pg_config"
"${sudo[@]}" make -C "$source_dir" -j"$(nproc)" PG_CONFIG="$pg_config" >/dev/null
"${sudo[@]}" make -C "$source_dir" install PG_CONFIG="$pg_config" >/dev/null
pgvector_installed
