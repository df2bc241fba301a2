#!/usr/bin/env bash
# The whole test suite on a fresh machine: makes a venv, installs the project with its
# test extra, runs ruff and mypy, starts throwaway real servers (scripts/servers.sh),
# runs pytest, stops them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[test]"
# Static checks first: they take seconds and fail fast.
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy asyncz_like plugins/business-days/src
if [ -f scripts/servers.sh ]; then
  # shellcheck source=/dev/null
  source scripts/servers.sh
  servers_start
  trap servers_stop EXIT
fi
.venv/bin/python -m pytest -q "$@"
