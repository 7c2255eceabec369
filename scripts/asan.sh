#!/usr/bin/env bash
# The C kernels under AddressSanitizer and UndefinedBehaviorSanitizer: built apart (the installed build is left
# alone), loaded through SANCODEC_KERNELS_LIB with both runtimes preloaded, then the tests that drive them and the
# structure fuzzer (hostile files with valid checksums) run on it. Any out-of-bounds access, and any undefined
# behaviour UBSan sees (a double converted to an integer it does not fit, as wavelet.c's dead_zone once did; a shift
# past the width; a misaligned access), aborts with a report. (-fwrapv makes signed overflow defined: not reported.)
# Usage: scripts/asan.sh [fuzz cases, default 3000]
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-3000}"
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
source scripts/kernels_lib.sh
sanitizers=address,undefined,float-cast-overflow
kernels_lib sancodec/codec/_kernels "$build/kernels_asan.so" -O1 -g -fsanitize="$sanitizers" \
    -fno-sanitize-recover=undefined,float-cast-overflow -fno-omit-frame-pointer
runtime="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
export LD_PRELOAD="$runtime" ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
    SANCODEC_KERNELS_LIB="$build/kernels_asan.so"
.venv/bin/python -c 'from sancodec.codec import kernels; import os; assert kernels._LIB._name == os.environ["SANCODEC_KERNELS_LIB"]'
.venv/bin/pytest -q --capture=sys -p no:cacheprovider tests/test_kernels.py tests/test_lossy_bands.py tests/test_lossy_effort.py tests/test_adaptive_bands.py \
    tests/test_anatomy.py tests/test_fuzz.py tests/test_lossy_timedomain.py tests/test_mains.py tests/test_lossy_cross.py \
    tests/test_running.py tests/test_dependent.py tests/test_band_lpc.py tests/test_longterm.py
.venv/bin/python tests/fuzz_structure.py --cases "$cases" --seed 11 --no-memory-limit
