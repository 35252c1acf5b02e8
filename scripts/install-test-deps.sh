#!/usr/bin/env bash
# Installs what cdp's tests need on a fresh Debian machine: a C toolchain for DuckDB's cgo
# bindings, and PostgreSQL's server binaries, which the postgres destination's tests run a
# throwaway server from (internal/pgtest; Debian puts them in /usr/lib/postgresql/*/bin).
set -euo pipefail

need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v g++ >/dev/null 2>&1 || need+=(g++)
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi

if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi
command -v go >/dev/null 2>&1 || { echo "Go is required (https://go.dev/dl/)" >&2; exit 1; }
