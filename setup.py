"""Build hook for the optional compiled kernels; all metadata lives in pyproject.toml.

``optional=True``: without a C compiler the install still succeeds and sancodec runs its
numpy reference kernels instead (same bytes, slower); ``sancodec.codec.kernels.COMPILED`` says which.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("sancodec.codec._kernels", ["sancodec/codec/_kernels.c"], optional=True)])
