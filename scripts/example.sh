#!/usr/bin/env bash
# The main job on a fresh machine: a venv with the project, then a scheduler on the
# embedded SQLite store (no server). Run it twice to see tasks survive a restart.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q -e ".[sqlalchemy]"
exec .venv/bin/python examples/quickstart.py "$@"
