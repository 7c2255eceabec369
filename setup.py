"""Build hook for the optional compiled kernels; all metadata lives in pyproject.toml.

``optional=True``: without a C compiler the install still succeeds and sancodec runs its
numpy reference kernels instead (same bytes, slower); ``sancodec.codec.kernels.COMPILED`` says which.
"""

import sys

from setuptools import Extension, setup

# No fused multiply-adds: the LPC autocorrelation and the wavelet's lifting must round exactly as numpy's
# reference does. No trapping floating-point operations assumed (results unchanged, only the FP exception
# flags, which nothing reads): loops with a float select in them then vectorise.
FLAGS = [] if sys.platform == "win32" else ["-ffp-contract=off", "-fno-trapping-math"]

SOURCES = [f"sancodec/codec/_kernels/{name}.c" for name in ("module", "tokens", "lpc", "lms", "cascade", "rangecoder",
                                                             "blocks", "running", "wavelet", "beats", "adaptivebands",
                                                             "dependent")]

setup(ext_modules=[Extension("sancodec.codec._kernels", SOURCES, depends=["sancodec/codec/_kernels/kernels.h"],
                             optional=True, extra_compile_args=FLAGS)])
