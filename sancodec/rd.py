"""Rate against distortion for one channel: what sancodec's modes cost at each PRDN, next to a plain
wavelet coder's (``refwavelet``) and the lossless sizes of the tools users already have (``sancodec report
--rd-curve``). No torch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sancodec import refwavelet
from sancodec.baselines import baseline_sizes
from sancodec.codec.api import decode, encode
from sancodec.codec.gaps import fill_column, invalid_values, outside
from sancodec.io.decimals import on_decimal_grid
from sancodec.metrics import prdn
from sancodec.signal import Signal

__all__ = ["LOSSY_TARGETS", "NEAR_LOSSLESS_ERRORS", "WAVELET_VALUES", "RdCurves", "rd_curves", "rd_steps",
           "wavelet_bytes"]

LOSSY_TARGETS = (0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0)
NEAR_LOSSLESS_ERRORS = (1, 2, 4, 8, 16, 32)
#: :func:`wavelet_bytes` codes records of at most this many samples in all (a step search of a channel codes it
#: several times, and its two transforms hold 16 bytes a sample)
WAVELET_VALUES = 1 << 23


@dataclass
class RdCurves:
    """(PRDN %, bits per sample) points per codec, and lossless bits per sample per tool."""

    lossy: list[tuple[float, float]] = field(default_factory=list)
    near_lossless: list[tuple[float, float]] = field(default_factory=list)
    wavelet: list[tuple[float, float]] = field(default_factory=list)  # the reference wavelet coder (refwavelet)
    lossless: dict[str, float] = field(default_factory=dict)


def rd_steps(signal: Signal, channel: int = 0) -> list[str]:
    """What :func:`rd_curves` does for ``channel`` of ``signal``, in order, a step each: every lossy target; for
    integer samples every near-lossless bound; for integers or decimals (a CSV's millivolts to the microvolt) the
    lossless coding and the reference wavelet coder's curve; then the lossless tools. A caller's progress bar
    counts them."""
    one = _one(signal, channel)
    return _steps(one, _integers(one) is not None)


def _one(signal: Signal, channel: int) -> Signal:
    """``channel`` of ``signal`` alone, without annotations: what :func:`rd_curves` codes."""
    one = signal.select_channels([channel])
    one.annotations = []
    return one


def _steps(one: Signal, integers: bool) -> list[str]:
    """:func:`rd_steps` of the one channel ``one`` (``integers``: whether it has integers, :func:`_integers`)."""
    steps = [f"lossy at PRDN {t:g} %" for t in LOSSY_TARGETS]
    if one.is_digital:
        steps += [f"near-lossless at max error {e}" for e in NEAR_LOSSLESS_ERRORS]
    if integers:
        steps += ["lossless", "the reference wavelet coder at every step"]
    return [*steps, "gzip, bz2, lzma, zstd, FLAC and pcodec"]


def _gaps_kept(one: Signal) -> tuple[int | None, np.ndarray | None]:
    """The one channel ``one``'s gap value (format 1.15; None without) and the samples outside its gaps, which every
    PRDN here is measured on, as the files leave gaps out (None where that is every sample)."""
    gap = invalid_values(one)[0]
    keep = outside(one.channel(0, physical=False), gap)
    return gap, None if keep.all() else keep


def _integers(one: Signal) -> Signal | None:
    """``one``'s samples as integers: its own, or floats as the integers of their decimal grid (``io.decimals``:
    exactly the same values, in units of the last decimal); None for floats on no decimal grid."""
    return one if one.is_digital else on_decimal_grid(one)


def rd_curves(signal: Signal, channel: int = 0, progress: Callable[[str, int, int], None] | None = None) -> RdCurves:
    """Encode ``channel`` of ``signal`` at every lossy target and near-lossless bound, and losslessly, and
    (integer samples, or decimals on their grid) with the reference wavelet coder at every step (PRDN takes no
    account of the unit, so the wavelet coder's points on a decimal grid's integers are its points on the values).
    ``progress(step, done, total)`` is called before each of :func:`rd_steps`' steps (each a whole coding of the
    channel: minutes, summed, on a day's record), and once more with ``done == total`` at the end."""
    one = _one(signal, channel)
    n = one.n_values
    x = one.channel(0, physical=False).astype(float)
    gap, keep = _gaps_kept(one)
    out = RdCurves()
    grid = _integers(one)
    names = _steps(one, grid is not None)
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
    if grid is not None:
        step()
        out.lossless["sancodec lossless"] = 8 * len(encode(one, mode="lossless")) / n
        step()
        ints = grid.channel(0, physical=False).astype(float)
        out.wavelet = refwavelet.curve(ints if keep is None or gap is None else fill_column(ints, gap),
                                       keep=keep)  # (filled alike)
    step()
    for tool, size in baseline_sizes(one).items():
        if size is not None and not tool.startswith("raw "):
            out.lossless[tool] = 8 * size / n
    if progress is not None:
        progress("done", total, total)
    return out


def wavelet_bytes(signal: Signal, prdns: list[float]) -> int | None:
    """The reference wavelet coder's bytes for every channel of ``signal`` at the PRDN given for it in ``prdns``
    (``refwavelet.bytes_at``: each channel at its own rate, its gaps left out of the PRDN and filled as sancodec fills
    them, decimals on their grid's integers): the like-for-like size beside a lossy ``.san`` whose channels decode to
    those PRDNs. None where a channel's PRDN is 0 (exact) or no step meets it, where a channel is floats on no
    decimal grid, or where the record holds more than :data:`WAVELET_VALUES` samples."""
    if signal.n_values > WAVELET_VALUES or len(prdns) != signal.n_channels:
        return None
    total = 0
    for ch, bound in enumerate(prdns):
        one = _one(signal, ch)
        grid = _integers(one)
        if grid is None:
            return None
        x = grid.channel(0, physical=False).astype(float)
        gap, keep = _gaps_kept(one)
        size = refwavelet.bytes_at(x if keep is None or gap is None else fill_column(x, gap), bound, keep)
        if size is None:
            return None
        total += size
    return total
