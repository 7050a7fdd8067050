#!/usr/bin/env bash
# Idempotent set-up: Debian packages (when root on Debian), a virtual
# environment in .venv, and bnn-lq installed editable with its pinned stack.
# Re-running it does only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES="gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm qemu-user-static gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf dataset-fashion-mnist"
VENV="${BNN_LQ_VENV:-.venv}"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

missing=""
for p in $DEB_PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian packages:$missing" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2
  else
    echo "setup: missing Debian packages:$missing" >&2
    echo "setup: run: sudo apt-get update && sudo apt-get install -y$missing" >&2
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating virtual environment $VENV" >&2
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.bnn-lq-setup"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing Python packages (first time: several minutes)" >&2
  "$VENV/bin/python" -m pip install -q --upgrade pip >&2
  "$VENV/bin/python" -m pip install -q -e ".[test]" >&2
  touch "$stamp"
fi
echo "setup: ready ($VENV)" >&2
