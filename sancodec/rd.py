"""Rate against distortion for one channel: what sancodec's modes cost at each PRDN, next to a plain
wavelet coder's (``refwavelet``) and the lossless sizes of the tools users already have (``sancodec report
--rd-curve``). No torch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sancodec import refwavelet
from sancodec.baselines import baseline_sizes
from sancodec.codec.api import decode, encode
from sancodec.codec.gaps import fill_column, invalid_values, outside
from sancodec.metrics import prdn
from sancodec.signal import Signal

__all__ = ["LOSSY_TARGETS", "NEAR_LOSSLESS_ERRORS", "RdCurves", "rd_curves", "rd_steps"]

LOSSY_TARGETS = (0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0)
NEAR_LOSSLESS_ERRORS = (1, 2, 4, 8, 16, 32)


@dataclass
class RdCurves:
    """(PRDN %, bits per sample) points per codec, and lossless bits per sample per tool."""

    lossy: list[tuple[float, float]] = field(default_factory=list)
    near_lossless: list[tuple[float, float]] = field(default_factory=list)
    wavelet: list[tuple[float, float]] = field(default_factory=list)  # the reference wavelet coder (refwavelet)
    lossless: dict[str, float] = field(default_factory=dict)


def rd_steps(signal: Signal) -> list[str]:
    """What :func:`rd_curves` does for ``signal``, in order, a step each: every lossy target, and for integer samples
    every near-lossless bound, the lossless coding and the reference wavelet coder's curve; then the lossless
    tools. A caller's progress bar counts them."""
    steps = [f"lossy at PRDN {t:g} %" for t in LOSSY_TARGETS]
    if signal.is_digital:
        steps += [f"near-lossless at max error {e}" for e in NEAR_LOSSLESS_ERRORS]
        steps += ["lossless", "the reference wavelet coder at every step"]
    return [*steps, "gzip, bz2, lzma, zstd, FLAC and pcodec"]


def rd_curves(signal: Signal, channel: int = 0, progress: Callable[[str, int, int], None] | None = None) -> RdCurves:
    """Encode ``channel`` of ``signal`` at every lossy target and near-lossless bound, and losslessly, and
    (integer samples) with the reference wavelet coder at every step. ``progress(step, done, total)`` is called
    before each of :func:`rd_steps`' steps (each a whole coding of the channel: minutes, summed, on a day's
    record), and once more with ``done == total`` at the end."""
    one = signal.select_channels([channel])
    one.annotations = []
    n = one.n_values
    x = one.channel(0, physical=False).astype(float)
    gap = invalid_values(one)[0]  # a record's gaps (format 1.15): left out of every PRDN, as the files leave them
    keep = outside(x, gap)
    keep = None if keep.all() else keep
    out = RdCurves()
    names = rd_steps(one)
    steps, total, done = iter(names), len(names), 0

    def step() -> None:
        nonlocal done
        if progress is not None:
            progress(next(steps), done, total)
        done += 1

    def point(data: bytes) -> tuple[float, float]:
        y = decode(data).channel(0, physical=False).astype(float)
        return (prdn(x, y) if keep is None else prdn(x[keep], y[keep])), 8 * len(data) / n

    for target in LOSSY_TARGETS:
        step()
        out.lossy.append(point(encode(one, mode="lossy", prdn=target)))
    if one.is_digital:
        for e in NEAR_LOSSLESS_ERRORS:
            step()
            out.near_lossless.append(point(encode(one, mode="near-lossless", max_error=e)))
        step()
        out.lossless["sancodec lossless"] = 8 * len(encode(one, mode="lossless")) / n
        step()
        out.wavelet = refwavelet.curve(x if keep is None else fill_column(x, gap), keep=keep)  # (filled alike)
    step()
    for tool, size in baseline_sizes(one).items():
        if size is not None and not tool.startswith("raw "):
            out.lossless[tool] = 8 * size / n
    if progress is not None:
        progress("done", total, total)
    return out
