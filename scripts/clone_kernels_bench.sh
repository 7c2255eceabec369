#!/usr/bin/env bash
# The lossy encoder's kernels timed in each clone of the C kernels (benchmarks/bench_encode_kernels.py): a CPU loads
# its widest clone (target_clones), so the AVX2 and baseline clones are built alone, as scripts/clones.sh builds
# them, and loaded through SANCODEC_KERNELS_LIB; "widest" is the clone this CPU picks. With a git revision, that
# revision's kernels too, clone by clone, run by turns with the working tree's (the same Python code drives both:
# only the compiled kernels differ), for a before-and-after on a CPU that would not load that clone.
# Usage: scripts/clone_kernels_bench.sh [REV] [bench_encode_kernels.py's options, e.g. --data-dir ../shared/data]
set -euo pipefail
cd "$(dirname "$0")/.."
rev=""
if [[ $# -gt 0 && $1 != -* ]]; then rev="$1"; shift; fi
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
source scripts/kernels_lib.sh
sources=(working)
mkdir -p "$build/working" && cp sancodec/codec/_kernels/*.c sancodec/codec/_kernels/*.h "$build/working/"
if [[ -n $rev ]]; then
    mkdir -p "$build/rev" && git archive "$rev" sancodec/codec/_kernels | tar -x -C "$build/rev" --strip-components 3
    sources=(rev working)
fi
for clone in WIDEST AVX2 BASELINE; do
    for source in "${sources[@]}"; do
        lib="$build/${source}_$clone.so"
        define=()
        [[ $clone != WIDEST ]] && define=("-DSANCODEC_CLONE_$clone")
        kernels_lib "$build/$source" "$lib" -O3 "${define[@]}"
        echo "## clone $clone, kernels of $([[ $source == rev ]] && echo "$rev" || echo 'the working tree')"
        SANCODEC_KERNELS_LIB="$lib" .venv/bin/python benchmarks/bench_encode_kernels.py "$@" | sed -n '/^| kernel/,$p'
        echo
    done
done
