#!/usr/bin/env bash
# One-time machine set-up: the .NET packages the solution uses, and the Debian packages that
# the PyTorch parity tests, the real-data tests and the benchmark peer use.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  need=()
  for p in python3-torch python3-torchvision python3-sklearn libopenblas0-pthread dataset-fashion-mnist; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
else
  echo "setup: not root or no apt-get; skipping Debian packages (PyTorch parity tests will skip)" >&2
fi
dotnet restore CrossDistill.slnx --nologo
