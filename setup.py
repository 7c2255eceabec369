"""Build hook for the optional compiled kernels; all metadata lives in pyproject.toml.

``optional=True``: without a C compiler the install still succeeds and sancodec runs its
numpy reference kernels instead (same bytes, slower); ``sancodec.codec.kernels.COMPILED`` says which
(``sancodec version --build`` prints it).
"""

import os
import shlex
import sys

from setuptools import Extension, setup

# No fused multiply-adds: the LPC autocorrelation and the wavelet's lifting must round exactly as numpy's
# reference does. No trapping floating-point operations assumed (results unchanged, only the FP exception
# flags, which nothing reads): loops with a float select in them then vectorise.
FLAGS = [] if sys.platform == "win32" else ["-ffp-contract=off", "-fno-trapping-math"]


def kept_flags(environment_cflags: str) -> list[str]:
    """What the kernels need of Python's own compiler flags where ``CFLAGS`` in the environment replaces them (as
    setuptools 75.7 and later does, pypa/setuptools#4836: ``CFLAGS="-march=native"`` alone built them with no
    optimisation at all, 5 to 16 times slower, and without ``-fwrapv``): signed integers that wrap, as Python builds
    its extensions, and ``-O3`` unless those flags name a level of their own."""
    if sys.platform == "win32":
        return []
    named = any(flag.startswith("-O") for flag in shlex.split(environment_cflags))
    return ["-fwrapv"] + ([] if named else ["-O3"])


SOURCES = [f"sancodec/codec/_kernels/{name}.c" for name in ("module", "tokens", "lpc", "lms", "cascade", "rangecoder",
                                                             "blocks", "running", "wavelet", "beats", "adaptivebands",
                                                             "dependent")]

if __name__ == "__main__":
    setup(ext_modules=[Extension("sancodec.codec._kernels", SOURCES, depends=["sancodec/codec/_kernels/kernels.h"],
                                 optional=True,
                                 extra_compile_args=kept_flags(os.environ.get("CFLAGS", "")) + FLAGS)])
