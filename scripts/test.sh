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
# The dashboard's browser tests drive Debian's chromium through Playwright (the test extra);
# `playwright install` is never used: it downloads a browser build of its own.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# The executor plugins are separate distributions in this repository (no index has them).
.venv/bin/python -m pip install -q --no-deps -e plugins/celery -e plugins/dask
# An editable install is not byte-compiled, and where PYTHONDONTWRITEBYTECODE is set every
# process compiles the package again: about 0.1 s of each scheduler's start-up.
.venv/bin/python -m compileall -q asyncz_like >/dev/null
# Static checks first: they take seconds and fail fast.
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy asyncz_like plugins/business-days/src plugins/celery/src plugins/dask/src
if [ -f scripts/servers.sh ]; then
  # shellcheck source=/dev/null
  source scripts/servers.sh
  servers_start
  trap servers_stop EXIT
fi
# Two passes: the bulk in parallel (pytest-xdist, a worker per core), then the tests marked
# serial (timing is their subject, or they start processes and servers of their own) one at
# a time, so that nothing else competes with them for the cores.
run_pytest() {
  local status=0
  .venv/bin/python -m pytest -q "$@" || status=$?
  if [ "$status" = 5 ]; then return 0; fi # this pass selected no test (a narrowed run)
  return "$status"
}
run_pytest -n "${ASYNCZ_TEST_WORKERS:-2}" -m "not serial" "$@"
run_pytest -m serial "$@"
