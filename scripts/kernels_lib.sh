# Sourced by scripts/clones.sh, scripts/clone_kernels_bench.sh and scripts/asan.sh (run from the repository root):
# the C kernels built apart from the installed build, as one shared library that SANCODEC_KERNELS_LIB loads, with the
# flags setup.py's build has (Python's -fwrapv, setup.py's no fused multiply-adds and no trapping math: the same bits).
# kernels_lib SRC_DIR OUT [gcc options: optimisation, a clone's -DSANCODEC_CLONE_*, a sanitizer]; KERNELS_CC names
# another compiler (clang: scripts/clones.sh)
kernels_include="$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"

kernels_lib() {
    local src="$1" out="$2"
    shift 2
    "${KERNELS_CC:-gcc}" -shared -fPIC -fwrapv -ffp-contract=off -fno-trapping-math "$@" -I "$kernels_include" -I "$src" "$src"/*.c \
        -o "$out"
}
