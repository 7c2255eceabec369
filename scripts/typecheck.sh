#!/usr/bin/env bash
# mypy over the library and its CLI and ONNX export folders, which install as sancodec.cli and sancodec.export through
# setuptools' package-dir (mypy does not follow that mapping): checked in a temp tree of links that lays them out as
# installed. Usage: scripts/typecheck.sh [MYPY]   (default .venv/bin/mypy; `make typecheck` installs it first)
set -euo pipefail
cd "$(dirname "$0")/.."
mypy="${1:-.venv/bin/mypy}"
[[ "$mypy" == */* ]] && mypy="$(realpath "$mypy")"  # (a path: as seen from here; a bare name: found on PATH)
tree="$(mktemp -d)"
trap 'rm -rf "$tree"' EXIT
mkdir "$tree/sancodec"
for entry in sancodec/*; do
    ln -s "$PWD/$entry" "$tree/sancodec/$(basename "$entry")"
done
ln -s "$PWD/cli" "$tree/sancodec/cli"
ln -s "$PWD/export" "$tree/sancodec/export"
cp pyproject.toml "$tree/"
cd "$tree" && "$mypy" sancodec
