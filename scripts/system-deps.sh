#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only the missing ones: PostgreSQL (a real
# server for the database tests), redis-server (rate limits shared by several processes),
# chromium (browser tests of the pages), npm (axe-core, which the browser tests run inside each
# page), python3-venv, curl and jq (the integration guide's examples).
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
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "system-deps: missing ${missing[*]}; install them as root: apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
