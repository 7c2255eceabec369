#!/usr/bin/env bash
# The C kernels' AVX2 and baseline clones under the tests that compare them with numpy's reference: a CPU with
# AVX-512 loads that clone (target_clones picks one at load time), so the others are built apart here, one at a
# time (SANCODEC_CLONE_*), and loaded through SANCODEC_KERNELS_LIB. The installed build is left alone.
# Usage: scripts/clones.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
source scripts/kernels_lib.sh
for clone in AVX2 BASELINE; do
    lib="$build/kernels_$clone.so"
    kernels_lib sancodec/codec/_kernels "$lib" -O3 "-DSANCODEC_CLONE_$clone"
    echo "clone $clone"
    SANCODEC_KERNELS_LIB="$lib" .venv/bin/python -c \
        'from sancodec.codec import kernels; import os; assert kernels._LIB._name == os.environ["SANCODEC_KERNELS_LIB"]'
    SANCODEC_KERNELS_LIB="$lib" .venv/bin/pytest -q -p no:cacheprovider tests/test_kernels.py tests/test_running.py \
        tests/test_beat_alignment.py tests/test_lossy_bands.py tests/test_mains.py tests/test_dependent.py
done
