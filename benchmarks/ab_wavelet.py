"""The compiled wavelet lifting of two builds side by side: nanoseconds a sample of each, and whether their bits agree.

Run: .venv/bin/python benchmarks/ab_wavelet.py --old-lib OTHER_BUILD.so [--rounds 15]

``OTHER_BUILD.so``: another build of ``sancodec/codec/_kernels`` (say, a ``git worktree`` of an earlier commit
built with ``python setup.py build_ext --inplace``), against the one ``sancodec`` loads. The two are called in
turn on the same inputs, round after round, each round timing every length on each build (a noisy machine's
drift falls on both alike), and the fastest round of each kept: the forward transform (``san_cdf97_forward``) and
the rebuild at a trial step (``san_wavelet_requantised``: quantised at the cell's centre, rebuilt, rounded), seven
levels, on a random walk. Before timing, both builds transform and rebuild every length from 4 to 1200 and some
longer ones at several level counts, and any output whose bits differ is reported (the lifting must give
numpy's bits, so two builds must agree).
"""

from __future__ import annotations

import argparse
import ctypes
import time
from functools import partial
from pathlib import Path

import numpy as np

from sancodec.codec import kernels, wavelet, waveletframe

_F64 = ctypes.POINTER(ctypes.c_double)
LENGTHS = (1 << 14, 1 << 16, 300_000, 836_224)


def _p(a: np.ndarray) -> ctypes._Pointer:  # type: ignore[type-arg]
    return a.ctypes.data_as(_F64)


def forward(lib: ctypes.CDLL, x: np.ndarray, levels: int, out: np.ndarray | None = None,
            work: np.ndarray | None = None) -> np.ndarray:
    """``san_cdf97_forward`` of ``x`` into ``out`` (``work``: its scratch; both made where not given: timed calls
    pass them, as ``kernels`` keeps its scratch, so that no page faults of fresh arrays are timed)."""
    out = np.empty(len(x)) if out is None else out
    work = np.empty(len(x)) if work is None else work
    lib.san_cdf97_forward(_p(x), ctypes.c_int64(len(x)), ctypes.c_int(levels), _p(out), _p(work))
    return out


def rebuild(lib: ctypes.CDLL, bands: np.ndarray, levels: int, delta: float, out: np.ndarray | None = None,
            work: np.ndarray | None = None) -> np.ndarray:
    """``san_wavelet_requantised`` of ``bands`` at ``delta`` (the encoder's dead zone, an offset of 3) into ``out``
    (``work``: as :func:`forward`'s)."""
    out = np.empty(len(bands)) if out is None else out
    work = np.empty(len(bands)) if work is None else work
    lib.san_wavelet_requantised(_p(bands), ctypes.c_int64(len(bands)), ctypes.c_int(levels), ctypes.c_double(delta),
                                ctypes.c_double(waveletframe.ROUNDING), ctypes.c_double(3.0), None, ctypes.c_int(0),
                                _p(out), _p(work))
    return out


def differing(old: ctypes.CDLL, new: ctypes.CDLL, seed: int = 1, lengths: list[int] | None = None
              ) -> tuple[int, int]:
    """(cases, cases whose forward or rebuild bits differ between the builds), over ``lengths`` (by default every
    one from 4 to 1199 and 100 drawn up to 70 000) at 1, 3, 7 and 12 levels where each allows as many."""
    rng = np.random.default_rng(seed)
    if lengths is None:
        lengths = list(range(4, 1200)) + [int(v) for v in rng.integers(1200, 70_000, 100)]
    cases = bad = 0
    for n in lengths:
        for levels in sorted({1, wavelet.levels_for(n, 3), wavelet.levels_for(n, 7), wavelet.levels_for(n, 12)}):
            x = rng.laplace(0, 1e3, n)
            a, b = forward(old, x, levels), forward(new, x, levels)
            cases += 1
            bad += a.tobytes() != b.tobytes() or rebuild(old, a, levels, 0.37).tobytes() != \
                rebuild(new, a, levels, 0.37).tobytes()
    return cases, bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old-lib", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    if kernels._LIB is None:
        raise SystemExit("no compiled kernels loaded (build them: python setup.py build_ext --inplace)")
    new = ctypes.CDLL(kernels._LIB._name)  # a handle of its own: the plain pointers below, not kernels' argtypes
    old = ctypes.CDLL(str(args.old_lib.resolve()))
    cases, bad = differing(old, new)
    print(f"bits: {cases} lengths and level counts, {bad} differ")
    rng = np.random.default_rng(0)
    print("| samples | forward, old | forward, new | new / old | rebuild, old | rebuild, new | new / old |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in LENGTHS:
        x = np.cumsum(rng.normal(size=n))
        bands, out, work = forward(new, x, 7), np.empty(n), np.empty(n)
        calls = {"fo": partial(forward, old, x, 7, out, work), "fn": partial(forward, new, x, 7, out, work),
                 "ro": partial(rebuild, old, bands, 7, 1.0, out, work),
                 "rn": partial(rebuild, new, bands, 7, 1.0, out, work)}
        reps = max(3, (1 << 21) // n)
        best = dict.fromkeys(calls, np.inf)
        for _ in range(args.rounds):
            for key, call in calls.items():
                start = time.perf_counter()
                for _ in range(reps):
                    call()
                best[key] = min(best[key], (time.perf_counter() - start) / reps / n * 1e9)
        print(f"| {n} | {best['fo']:.2f} ns | {best['fn']:.2f} ns | {best['fn'] / best['fo']:.2f} | "
              f"{best['ro']:.2f} ns | {best['rn']:.2f} ns | {best['rn'] / best['ro']:.2f} |")


if __name__ == "__main__":
    main()
