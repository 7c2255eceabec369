"""The lossy encoder's hot kernels, timed on the calls a real encode makes: nanoseconds a value, and their numpy
references on the same calls.

Run: .venv/bin/python benchmarks/bench_encode_kernels.py [--data-dir ../shared/data] [--repeats 5]

Every signal of ``bench_lossy.SIGNALS`` the folder holds is coded at PRDN 2 % at ``--effort`` (default: best, whose
searches make every kind of call). Each call of the kernels below is timed where the encoder makes it, again, the
fastest of ``--repeats`` (the inputs are not kept: a search holds many transforms of a long channel), and summed per
kind: the lossy bit estimate's quantise-and-count (``kernels.quantised_histograms``), the dead-zone quantiser, the
rebuild at a trial step with its squared error, which rate control and the grids measure
(``kernels.wavelet_requantised_error``), a frame prepared for them (its residual, offset and forward wavelet transform,
``kernels.prepared_forward``), the beat template's medians and trimmed means, the beat detector's peak picking, the
mains hum's fit (``kernels.mains_sums``), the beat detector's envelope, the beat period's lagged products, the beats'
alignment (``kernels.best_shift``), and two of the band coders (a long band's running contexts, weighed and coded,
``kernels.running_choose_encode``; a frame's bands in one adaptive stream, ``kernels.encode_adaptive_bands``; their
Python references, a decision at a time, are not timed), and best's dependent quantisation, its trellis search over
a band (``kernels.dq_quantise``; its reference, too, goes a value at a time, untimed) and its indices turned into levels
(``kernels.dq_levels``, which the decoder runs on every dependently quantised band; timed on a copy, as the decoder's
call writes in place). Where a kind has a numpy reference (the estimate: numpy's quantiser and ``np.frexp`` counts; the
quantiser: ``waveletframe.quantise``; the medians: numpy's selection at the middle, ``kernels._selected_medians``,
np.median's values in about half its time; the trimmed means: numpy's selection at both ends of the middle and its exact
sum, ``kernels._selected_trimmed_means``; the peaks: ``sparse.peaks``; the hum's sums: ``mains.normal_equations``; the
envelope: ``beats._moving_average``; the lagged products: the FFT correlation ``beats.beat_period`` took before; the
prepared frame: numpy's residual and offset, then the compiled forward alone, ``lossyrate.prepared_by_numpy``, as
``lossyrate.Prepared`` made it before), it is timed on the same calls until it has taken ``--reference-seconds``, and
the last column is its time over the kernel's on those calls. Every encode runs on one thread (``threads=1``), so that
the kernels' seconds add up. "share" sets each kind against the whole encode of the same signals, timed apart
(``sancodec.encode``, the fastest of ``--repeats`` each, summed): what is left is the rest of the entropy coding, the
time-domain codings, and Python. The encode's ratio to the wavelet coder's is ``bench_lossy.py``'s.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from timing import fastest_seconds

import sancodec
from sancodec.codec import adaptivebands, beats, dependent, kernels, lossyrate, mains, running, waveletframe
from sancodec.codec.lossy import EFFORTS
from sancodec.san.sparse import peaks


def _np_quantised_histograms(bands: np.ndarray, lengths: Sequence[int], delta: float, rounding: float) -> np.ndarray:
    q = waveletframe.quantise([bands], delta, rounding)[0]
    parts = np.split(q, np.cumsum(lengths)[:-1])
    return np.array([np.bincount(np.frexp(np.abs(p).astype(np.float64))[1], minlength=66) for p in parts])


@dataclass
class Kind:
    """One kernel: where the encoder looks it up, how many values a call takes, and its numpy reference."""

    label: str
    owner: object
    name: str
    values: Callable[..., int]
    reference: Callable[..., object] | None = None
    calls: int = 0
    count: int = 0
    seconds: float = 0.0
    compared: float = 0.0  # the kernel's seconds on the calls its reference was timed on ...
    reference_seconds: float = 0.0  # ... and the reference's
    _real: Callable[..., object] | None = field(default=None, repr=False)
    fresh: Callable[..., tuple] | None = None  # the arguments its repeats are timed on, where the call writes in place


KINDS = [
    Kind("lossy estimate: quantise and count the bands", lossyrate.kernels, "quantised_histograms",
         lambda bands, *_: len(bands), _np_quantised_histograms),
    Kind("dead-zone quantiser", waveletframe.kernels, "dead_zone_quantise", lambda bands, *_: len(bands),
         lambda bands, delta, rounding: waveletframe.quantise([bands], delta, rounding)[0]),
    Kind("rebuild at a trial step with its squared error", lossyrate.kernels, "wavelet_requantised_error",
         lambda bands, *_: len(bands)),
    Kind("frame prepared: residual, offset, forward wavelet transform", lossyrate.kernels, "prepared_forward",
         lambda f, *_: len(f), lossyrate.prepared_by_numpy),
    Kind("beat template medians", beats.kernels, "medians", lambda a, *_: a.size,
         lambda a, axis: kernels._selected_medians(np.ascontiguousarray(a if axis == 1 else a.T))),
    Kind("beat template: the beats' interquartile means", beats.kernels, "trimmed_means", lambda a, _k: a.size,
         lambda a, k: kernels._selected_trimmed_means(np.ascontiguousarray(a), k)),
    Kind("beat detector's peak picking", beats.kernels, "greedy_peaks", lambda s, *_: len(s),
         lambda s, d: peaks(np.asarray(s, dtype=np.float64)[None, None], d)),
    Kind("mains hum's normal equations", mains.kernels, "mains_sums", lambda _s, _c, _step, r, *_: len(r),
         lambda _s, _c, step, r, size: mains.normal_equations(step, r, size)),
    Kind("beat detector's envelope", beats.kernels, "difference_envelope", lambda v, _w: len(v),
         lambda v, width: beats._moving_average(np.abs(np.diff(v, prepend=v[0])), width)),
    Kind("beat period: lagged products (FFT as reference)", beats.kernels, "lagged_products", lambda e, *_: len(e),
         beats.fft_correlation),
    Kind("beat alignment's fit", beats.kernels, "best_shift", lambda span, *_: span.size),
    Kind("a long band coded under running contexts (weighed, then coded)", running.kernels, "running_choose_encode",
         lambda e, *_: len(e)),
    Kind("a frame's bands coded in one adaptive stream", adaptivebands.kernels, "encode_adaptive_bands",
         lambda arrays, *_: sum(map(len, arrays))),
    Kind("dependent quantisation's trellis (format 1.12)", dependent.kernels, "dq_quantise", lambda u, *_: len(u)),
    Kind("dependent quantisation's levels (the decoder's too)", dependent.kernels, "dq_levels", lambda q, _o: len(q),
         fresh=lambda q, _o: (np.array(q), np.empty_like(q))),  # the decoder turns its indices in place
]


def timed_encodes(signals: list[sancodec.Signal], effort: str, repeats: int, budget: float) -> list[bytes]:
    """Every signal's file, encoded once with each kind's calls timed where made (into ``KINDS``)."""
    for kind in KINDS:
        kind._real = getattr(kind.owner, kind.name)

        def wrapper(*args: object, kind: Kind = kind) -> object:
            real = kind._real
            assert real is not None
            again = args if kind.fresh is None else kind.fresh(*args)  # before the call, which may write in place
            out = real(*args)
            seconds = fastest_seconds(lambda: real(*again), repeats)
            kind.calls += 1
            kind.count += kind.values(*args)
            kind.seconds += seconds
            if kind.reference is not None and kind.reference_seconds < budget:
                kind.compared += seconds
                kind.reference_seconds += fastest_seconds(lambda: kind.reference(*args), max(1, repeats // 2))
            return out

        setattr(kind.owner, kind.name, wrapper)
    try:
        return [sancodec.encode(signal, mode="lossy", prdn=2.0, effort=effort, threads=1) for signal in signals]
    finally:
        for kind in KINDS:
            setattr(kind.owner, kind.name, kind._real)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--effort", choices=EFFORTS, default="best")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--reference-seconds", type=float, default=1.0,
                        help="time each numpy reference on calls until it has taken this long")
    args = parser.parse_args()
    if not kernels.COMPILED:
        raise SystemExit("the C kernels are not built: nothing to time")
    import bench_lossy  # benchmarks/ is the script's folder; it needs PyWavelets

    signals = bench_lossy.load_all(args.data_dir)
    whole = sum(fastest_seconds(lambda s=sig: sancodec.encode(s, mode="lossy", prdn=2.0, effort=args.effort,
                                                              threads=1), args.repeats) for sig in signals)
    timed_encodes(signals, args.effort, args.repeats, args.reference_seconds)
    print("# Where a lossy encode's kernel time goes\n")
    print(f"`benchmarks/bench_encode_kernels.py --data-dir {args.data_dir} --effort {args.effort}`, "
          f"{time.strftime('%Y-%m-%d')}; its docstring says how. {len(signals)} signals at PRDN 2 %, encoded in "
          f"{whole * 1e3:.1f} ms on one thread (`threads=1`: by default a channel's pieces share the cores, and "
          "the kernels' seconds would overlap).\n")
    print("| kernel | calls | values | ms, summed | ns a value | share of the whole encode | numpy reference's time "
          "over the kernel's |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind in KINDS:
        per = f"{kind.seconds / kind.count * 1e9:.2f}" if kind.count else "–"
        ratio = f"{kind.reference_seconds / kind.compared:.1f}x" if kind.compared > 0 else "–"
        print(f"| {kind.label} | {kind.calls} | {kind.count} | {kind.seconds * 1e3:.1f} | {per} | "
              f"{kind.seconds / whole:.2f} | {ratio} |")


if __name__ == "__main__":
    main()
