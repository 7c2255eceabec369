"""How much compiled work a lossy encode does, counted rather than timed: the values each of the encoder's channel-
sized kernels is handed, summed over bench_lossy's signals, as a multiple of their samples, and the share of it that
repeats a call already made with the same inputs (a frame's bands made again, a step decoded again).

Run: .venv/bin/python benchmarks/lossy_work.py [--data-dir ../shared/data] [--effort balanced] [--prdn 2]

Counts do not drift with the machine's load as timings do (this VM's timings move by a few percent from one run to
the next): a change that makes the encoder do less shows here exactly, and ``lossy_sizes.py --compare`` shows
whether its files stayed the same. The kernels are wrapped where ``sancodec.codec.kernels`` defines them (each call's
inputs hashed to find repeats), on one thread; the files are the ones ``sancodec.encode`` writes. A call of the
adaptive coder that its decision limit turns down codes nothing and counts nothing, and its limit does not tell one
stream from another (the same bands coded twice are a repeat).
"""

from __future__ import annotations

import argparse
import hashlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import sancodec
from sancodec.codec import kernels
from sancodec.codec.lossy import EFFORTS

#: (the kernel's name in ``sancodec.codec.kernels``, its label, the values a call hands it from its arguments)
KERNELS: list[tuple[str, str, Callable[..., int]]] = [
    ("prepared_forward", "forward transform (a frame prepared)", lambda frame, *_: len(frame)),
    ("wavelet_requantised_error", "decode at a step (its error)", lambda flat, *_: len(flat)),
    ("wavelet_requantised", "decode at a step (its samples)", lambda flat, *_: len(flat)),
    ("quantised_histograms", "bit estimate at a step", lambda bands, *_: len(bands)),
    ("template_prediction", "beat template's prediction", lambda *args: int(args[4])),
    ("running_choose_encode", "band coded (running contexts)", lambda e, *_: len(e)),
    ("encode_adaptive_bands", "bands coded (one adaptive stream)",  # both ways (parent 2): twice the values' work
     lambda arrays, limit=-1, parent=0: sum(map(len, arrays)) * (2 if parent == 2 else 1)),
    ("difference_envelope", "beat detection's envelope", lambda v, *_: len(v)),
    ("medians", "template's medians (the values)", lambda a, *_: a.size),
    ("best_shift", "beats' shifts (the stretches searched)", lambda span, *_: span.size),
    ("mains_sums", "mains hum fitted", lambda sine, cosine, step, r, *_: len(r)),
]


#: The kernel that may turn its work down (``(b"", False)``: nothing coded past its decision limit); its first argument,
#: the bands, and its third, the parent contexts' mode (2: both ways), name its work, whatever the limit.
LIMITED = "encode_adaptive_bands"


def _digest(value: Any) -> Any:
    """What identifies an argument: an array's dtype, shape and bytes (hashed), anything else itself."""
    if isinstance(value, np.ndarray):
        return value.dtype.str, value.shape, hashlib.blake2b(np.ascontiguousarray(value).view(np.uint8),
                                                             digest_size=16).digest()
    if isinstance(value, (list, tuple)):
        return tuple(_digest(v) for v in value)
    return value


class WorkCounter:
    """Wraps each kernel of :data:`KERNELS` so that its calls add to :attr:`values` (the values handed to it) and
    :attr:`repeated` (those of calls whose inputs an earlier call since :meth:`forget` had); :meth:`restore` unwraps."""

    def __init__(self) -> None:
        self.values: Counter[str] = Counter()
        self.repeated: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self._seen: set[tuple[Any, ...]] = set()
        self._saved: list[tuple[str, Any]] = []
        for name, label, size in KERNELS:
            real = getattr(kernels, name)
            self._saved.append((name, real))
            setattr(kernels, name, self._counted(real, name, label, size))

    def _counted(self, real: Callable[..., Any], name: str, label: str,
                 size: Callable[..., int]) -> Callable[..., Any]:
        limited = name == LIMITED

        def counted(*args: Any, **kwargs: Any) -> Any:
            out = real(*args, **kwargs)
            if limited and out[0] == b"":  # nothing coded: the adaptive stream past its decision limit
                return out
            n = size(*args)
            work = (args[0], args[2:3]) if limited else args  # the stream the same whatever its limit
            key = (label, _digest(work), _digest(tuple(sorted(kwargs.items()))))
            self.calls[label] += 1
            self.values[label] += n
            if key in self._seen:
                self.repeated[label] += n
            self._seen.add(key)
            return out
        return counted

    def forget(self) -> None:
        """Start afresh on what counts as a repeat (between two encodes: each is its own)."""
        self._seen.clear()

    def restore(self) -> None:
        """Put every kernel back."""
        for name, real in reversed(self._saved):
            setattr(kernels, name, real)


def count(signals: list[sancodec.Signal], effort: str, prdn: float) -> tuple[WorkCounter, int, list[bytes]]:
    """Each signal encoded once (one thread) under a :class:`WorkCounter`: the counter, the samples, the files."""
    counter = WorkCounter()
    files = []
    try:
        for signal in signals:
            counter.forget()
            files.append(sancodec.encode(signal, mode="lossy", prdn=prdn, effort=effort, threads=1))
    finally:
        counter.restore()
    return counter, sum(s.samples.size for s in signals), files


def report(counter: WorkCounter, samples: int) -> list[str]:
    """A line per kernel: its calls, its values over the samples, the repeated share."""
    lines = []
    for _, label, _ in KERNELS:
        if counter.calls[label]:
            lines.append(f"  {label:38s} {counter.calls[label]:5d} calls {counter.values[label] / samples:7.2f} x the "
                         f"samples, {counter.repeated[label] / samples:5.2f} x of it repeated")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--effort", choices=EFFORTS, default="balanced")
    parser.add_argument("--prdn", type=float, default=2.0)
    args = parser.parse_args()
    if not kernels.COMPILED:
        raise SystemExit("the compiled kernels are not built: this counts their calls")
    import bench_lossy  # benchmarks/ is the script's folder; it needs PyWavelets (the tests import this module without)

    signals = bench_lossy.load_all(args.data_dir)
    if not signals:
        raise SystemExit(f"no signals under {args.data_dir}")
    counter, samples, files = count(signals, args.effort, args.prdn)
    print(f"--effort {args.effort} at PRDN {args.prdn:g} %, {len(signals)} signals, {samples} samples, "
          f"{sum(map(len, files))} bytes in all:")
    print("\n".join(report(counter, samples)))


if __name__ == "__main__":
    main()
