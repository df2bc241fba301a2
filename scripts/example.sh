#!/usr/bin/env bash
# The main job on a fresh machine: a venv with the project, then a scheduler on the
# embedded SQLite store (no server). Run it twice to see tasks survive a restart.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q -e ".[sqlalchemy]"
# An editable install is not byte-compiled, and where PYTHONDONTWRITEBYTECODE is set every
# process compiles the package again: about 0.1 s of each scheduler's start-up.
.venv/bin/python -m compileall -q asyncz_like >/dev/null
exec .venv/bin/python examples/quickstart.py "$@"
