#!/usr/bin/env bash
# The README's test command: set up (idempotent), then lint, type-check and run the tests.
#   bash scripts/test.sh          # everything (what CI runs)
#   bash scripts/test.sh --fast   # lint, types and the tests that train nothing (marker: not slow)
# Other arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
args=()
for a in "$@"; do
  if [[ "$a" == "--fast" ]]; then args+=(-m "not slow"); else args+=("$a"); fi
done
bash scripts/setup.sh --test
.venv/bin/ruff check .
.venv/bin/mypy benchmark baselines tasks benchmarks  # baselines/, tasks/: the files contributors copy
.venv/bin/python -m pytest -q "${args[@]}"
