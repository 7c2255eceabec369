"""benchmarks/ab_wavelet.py calls two builds of the compiled lifting through plain pointers: the calls must match
the kernels' signatures, so that a build set against itself gives the bits ``kernels`` gives and no difference
(a guard against the bench drifting from the C)."""

import ctypes
import sys
from pathlib import Path

import numpy as np
from common import needs_c

from sancodec.codec import kernels, waveletframe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import ab_wavelet  # noqa: E402


@needs_c
def test_the_a_b_bench_calls_the_lifting_as_kernels_does_and_a_build_agrees_with_itself():
    lib = ctypes.CDLL(kernels._LIB._name)
    x = np.cumsum(np.random.default_rng(3).normal(size=5000))
    bands = ab_wavelet.forward(lib, x, 7)
    assert bands.tobytes() == kernels.cdf97_forward(x, 7).tobytes()
    rebuilt = ab_wavelet.rebuild(lib, bands, 7, 0.37)
    want = kernels.wavelet_requantised(bands, 7, 0.37, waveletframe.ROUNDING, 3, None)
    assert rebuilt.tobytes() == want.tobytes()
    assert ab_wavelet.differing(lib, lib, lengths=[4, 5, 255, 256, 257, 1001, 4097]) == (19, 0)
