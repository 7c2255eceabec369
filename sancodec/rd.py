"""Rate against distortion for one channel: what sancodec's modes cost at each PRDN, next to a plain
wavelet coder's (``refwavelet``) and the lossless sizes of the tools users already have (``sancodec report
--rd-curve``). No torch."""

from __future__ import annotations

from dataclasses import dataclass, field

from sancodec import refwavelet
from sancodec.baselines import baseline_sizes
from sancodec.codec.api import decode, encode
from sancodec.codec.gaps import fill_column, invalid_values, outside
from sancodec.metrics import prdn
from sancodec.signal import Signal

__all__ = ["LOSSY_TARGETS", "NEAR_LOSSLESS_ERRORS", "RdCurves", "rd_curves"]

LOSSY_TARGETS = (0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0)
NEAR_LOSSLESS_ERRORS = (1, 2, 4, 8, 16, 32)


@dataclass
class RdCurves:
    """(PRDN %, bits per sample) points per codec, and lossless bits per sample per tool."""

    lossy: list[tuple[float, float]] = field(default_factory=list)
    near_lossless: list[tuple[float, float]] = field(default_factory=list)
    wavelet: list[tuple[float, float]] = field(default_factory=list)  # the reference wavelet coder (refwavelet)
    lossless: dict[str, float] = field(default_factory=dict)


def rd_curves(signal: Signal, channel: int = 0) -> RdCurves:
    """Encode ``channel`` of ``signal`` at every lossy target and near-lossless bound, and losslessly, and
    (integer samples) with the reference wavelet coder at every step."""
    one = signal.select_channels([channel])
    one.annotations = []
    n = one.n_values
    x = one.channel(0, physical=False).astype(float)
    gap = invalid_values(one)[0]  # a record's gaps (format 1.15): left out of every PRDN, as the files leave them
    keep = outside(x, gap)
    keep = None if keep.all() else keep
    out = RdCurves()

    def point(data: bytes) -> tuple[float, float]:
        y = decode(data).channel(0, physical=False).astype(float)
        return (prdn(x, y) if keep is None else prdn(x[keep], y[keep])), 8 * len(data) / n

    for target in LOSSY_TARGETS:
        out.lossy.append(point(encode(one, mode="lossy", prdn=target)))
    if one.is_digital:
        out.near_lossless = [point(encode(one, mode="near-lossless", max_error=e)) for e in NEAR_LOSSLESS_ERRORS]
        out.lossless["sancodec lossless"] = 8 * len(encode(one, mode="lossless")) / n
        out.wavelet = refwavelet.curve(x if keep is None else fill_column(x, gap), keep=keep)  # (filled alike)
    for tool, size in baseline_sizes(one).items():
        if size is not None and not tool.startswith("raw "):
            out.lossless[tool] = 8 * size / n
    return out
