#!/usr/bin/env bash
# The README's test command: set up (idempotent), then lint, type-check and run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
bash scripts/setup.sh --test
.venv/bin/ruff check .
.venv/bin/mypy benchmark
.venv/bin/python -m pytest -q "$@"
