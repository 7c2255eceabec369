#!/usr/bin/env bash
# What CI does, on this machine: a clean clone of HEAD (committed work only) in a temp folder, its .ci/run timed,
# the last lines of its output printed, and the clone removed however it ends. Each clone holds a .venv of about
# 1.7 GB: left behind, a few dozen of them filled this machine's disk once, and CI, which shares it, failed
# installing torch (errno 28).
# Usage: scripts/fresh_ci.sh [LOG]   (LOG: where the whole output goes; default a temp file, removed too)
set -euo pipefail
cd "$(dirname "$0")/.."
clone="$(mktemp -d)"
trap 'rm -rf "$clone"' EXIT
log="${1:-$clone/ci.log}"
git clone -q . "$clone/p"
start=$(date +%s)
status=0
(cd "$clone/p" && .ci/run) > "$log" 2>&1 || status=$?
tail -3 "$log"
echo "fresh-clone .ci/run: exit $status after $(( $(date +%s) - start )) s"
exit "$status"
