#!/usr/bin/env bash
# The C kernels' AVX2 and baseline clones under the tests that compare them with numpy's reference: a CPU with
# AVX-512 loads that clone (target_clones picks one at load time), so the others are built apart here, one at a
# time (SANCODEC_CLONE_*), and loaded through SANCODEC_KERNELS_LIB. On a CPU with AVX-512, also a build whose own
# baseline is AVX-512 (-march=x86-64-v4: what CFLAGS="-march=native" makes there, with no clones; kernels.h), and
# where clang is installed, the kernels as clang builds them (no clones: macOS's and Android's compiler).
# The installed build is left alone.
# Usage: scripts/clones.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
source scripts/kernels_lib.sh
builds=(AVX2 BASELINE)
if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then builds+=(V4_BASE); fi
if command -v clang > /dev/null; then builds+=(CLANG); fi
for clone in "${builds[@]}"; do
    lib="$build/kernels_$clone.so"
    if [ "$clone" = V4_BASE ]; then
        kernels_lib sancodec/codec/_kernels "$lib" -O3 -march=x86-64-v4
    elif [ "$clone" = CLANG ]; then
        KERNELS_CC=clang kernels_lib sancodec/codec/_kernels "$lib" -O3
    else
        kernels_lib sancodec/codec/_kernels "$lib" -O3 "-DSANCODEC_CLONE_$clone"
    fi
    echo "clone $clone"
    SANCODEC_KERNELS_LIB="$lib" .venv/bin/python -c \
        'from sancodec.codec import kernels; import os; assert kernels._LIB._name == os.environ["SANCODEC_KERNELS_LIB"]'
    SANCODEC_KERNELS_LIB="$lib" .venv/bin/pytest -q -p no:cacheprovider tests/test_kernels.py tests/test_running.py \
        tests/test_beat_alignment.py tests/test_lossy_bands.py tests/test_mains.py tests/test_dependent.py tests/test_longterm.py
done
