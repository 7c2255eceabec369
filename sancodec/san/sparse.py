"""The four sparse activations in numpy, for the torch-free runtime.

Same definitions, conventions and exactness as :mod:`sancodec.train.activations`
(which documents them): identical kept positions on identical inputs,
property-tested against the same sequential references. Inputs are
``(batch, kernels, n)`` or ``(batch, kernels, H, W)`` ReLU maps; parameters are
one int or one per kernel. Vectorised over batch and positions; the only
Python loops run over kernels, pyramid levels and suppression rounds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sancodec.errors import SanConfigError
from sancodec.san.spec import activation_parameters, apply_per_kernel, canonical_activation

__all__ = ["apply_activation_np", "identity", "max_activations", "max_pool_indices", "peaks", "select"]

PerKernel = int | Sequence[int] | np.ndarray


def _check(s: np.ndarray) -> np.ndarray:
    s = np.asarray(s)
    if s.ndim not in (3, 4):
        raise SanConfigError(f"activation input must be (batch, kernels, n) or (batch, kernels, H, W), got {s.shape}")
    return s


def _per_kernel(value: PerKernel, kernels: int, name: str) -> np.ndarray:
    v = np.asarray(value, dtype=np.int64).ravel()
    if v.size == 1:
        v = np.repeat(v, kernels)
    if v.size != kernels:
        raise SanConfigError(f"{name} has {v.size} values for {kernels} kernels")
    if (v < 1).any():
        raise SanConfigError(f"{name} must be >= 1, got {v.tolist()}")
    return v


def identity(s: np.ndarray) -> np.ndarray:
    """Keep every value."""
    return _check(s)


PREFILTER_MIN_LENGTH = 16384
PREFILTER_STRIDE = 16


def _kth_largest(rows: np.ndarray, k: int) -> np.ndarray:
    """The k-th largest value of each row, shaped (rows, 1); exact.

    Long rows (k is about n/m, a small fraction) first keep only the values above a bound
    taken from a strided sample: when at least k values pass, the k-th largest is among
    them, and partitioning those few is ~4x faster than partitioning the row."""
    if rows.shape[-1] < PREFILTER_MIN_LENGTH:
        j = rows.shape[-1] - k
        return np.partition(rows, j, axis=-1)[:, j : j + 1]
    out = np.empty((rows.shape[0], 1), dtype=rows.dtype)
    for i, x in enumerate(rows):
        sample = x[::PREFILTER_STRIDE]
        j = max(len(sample) - 4 * max(1, k // PREFILTER_STRIDE), 0)
        bound = np.partition(sample, j)[j]
        cand = x[x >= bound]
        if len(cand) < k:  # the sample was unlucky: fall back to the whole row
            cand = x
        out[i, 0] = np.partition(cand, len(cand) - k)[len(cand) - k]
    return out


def max_activations(s: np.ndarray, k: PerKernel) -> np.ndarray:
    """Keep the k largest values per example and kernel (ties: lower index first)."""
    s = _check(s)
    flat = s.reshape(s.shape[0], s.shape[1], -1)
    n = flat.shape[-1]
    kk = np.minimum(_per_kernel(k, s.shape[1], "k"), n)
    keep = np.zeros(flat.shape, dtype=bool)
    for c in range(flat.shape[1]):
        row = flat[:, c]
        kth = _kth_largest(row, int(kk[c]))
        at_least = row >= kth
        if (at_least.sum(axis=-1) == kk[c]).all():  # no surplus ties at the k-th value
            keep[:, c] = at_least
            continue
        greater = row > kth
        equal = row == kth
        need = kk[c] - greater.sum(axis=-1, keepdims=True)
        keep[:, c] = greater | (equal & (np.cumsum(equal, axis=-1) <= need))
    return np.where(keep.reshape(s.shape), s, 0).astype(s.dtype)


def max_pool_indices(s: np.ndarray, m: PerKernel) -> np.ndarray:
    """Windows of m (m x m) with stride m, last partial window included; keep the first argmax."""
    s = _check(s)
    mm = _per_kernel(m, s.shape[1], "m")
    out = np.zeros_like(s)
    for c in range(s.shape[1]):
        size = int(mm[c])
        x = s[:, c]
        if s.ndim == 3:
            n = x.shape[-1]
            w = -(-n // size)
            padded = np.full((x.shape[0], w * size), -1.0, dtype=x.dtype)
            padded[:, :n] = x
            arg = padded.reshape(x.shape[0], w, size).argmax(axis=-1)
            pos = arg + np.arange(w) * size
            rows = np.arange(x.shape[0])[:, None]
            keep = np.zeros_like(padded, dtype=bool)
            keep[rows, pos] = True
            out[:, c] = np.where(keep[:, :n], x, 0)
        else:
            b, h, wd = x.shape
            hr, wr = -(-h // size), -(-wd // size)
            padded = np.full((b, hr * size, wr * size), -1.0, dtype=x.dtype)
            padded[:, :h, :wd] = x
            blocks = padded.reshape(b, hr, size, wr, size).transpose(0, 1, 3, 2, 4).reshape(b, hr, wr, size * size)
            arg = blocks.argmax(axis=-1)
            r = arg // size + np.arange(hr)[None, :, None] * size
            cc = arg % size + np.arange(wr)[None, None, :] * size
            keep = np.zeros(padded.shape, dtype=bool)
            keep[np.arange(b)[:, None, None], r, cc] = True
            out[:, c] = np.where(keep[:, :h, :wd], x, 0)
    return out


def _window_max(x: np.ndarray, lo: int, hi: int, fill: float) -> np.ndarray:
    """Max over ``x[..., i+lo : i+hi+1]`` along the last axis (sparse table, O(n log w))."""
    span = hi - lo + 1
    if span <= 0:
        return np.full_like(x, fill)
    level = span.bit_length() - 1
    pad = max(abs(lo), abs(hi))
    n = x.shape[-1]
    table = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, pad)], constant_values=fill)
    for k in range(level):
        step = 1 << k
        # table[i] = max(table[i], table[i + step]); the tail keeps its value (everything >= fill).
        np.maximum(table[..., :-step], table[..., step:], out=table[..., :-step])
    a, b = lo + pad, hi - (1 << level) + 1 + pad
    return np.maximum(table[..., a : a + n], table[..., b : b + n])


def _window_count(x: np.ndarray, d: int) -> np.ndarray:
    """Number of true values within +-d along the last axis (cumulative-sum box filter)."""
    n = x.shape[-1]
    ext = np.zeros(x.shape[:-1] + (n + 2 * d + 1,), dtype=np.int64)
    np.cumsum(x, axis=-1, out=ext[..., d + 1 : d + 1 + n])
    ext[..., d + 1 + n :] = ext[..., d + n : d + n + 1]
    return ext[..., 2 * d + 1 : 2 * d + 1 + n] - ext[..., :n]


def _candidates_1d(s: np.ndarray) -> np.ndarray:
    """Strict local maxima, and the first sample of a plateau that falls afterwards (zeros outside)."""
    rising = s > 0
    rising[..., 1:] &= s[..., 1:] > s[..., :-1]
    found = rising.copy()
    found[..., :-1] &= s[..., :-1] > s[..., 1:]
    plateau = rising.copy()
    plateau[..., :-1] &= s[..., :-1] == s[..., 1:]
    plateau[..., -1] = False
    if plateau.any():
        padded = np.pad(s, [(0, 0)] * (s.ndim - 1) + [(1, 1)])
        n = s.shape[-1]
        tail = padded[..., 1:]
        change = tail[..., 1:] != tail[..., :-1]
        steps = np.broadcast_to(np.arange(1, n + 1), s.shape)
        nxt = np.where(change, steps, n)
        nxt = np.minimum.accumulate(nxt[..., ::-1], axis=-1)[..., ::-1]
        found |= plateau & (np.take_along_axis(tail, nxt, axis=-1) < s)
    return found


def _candidates_2d(s: np.ndarray) -> np.ndarray:
    h, w = s.shape[-2:]
    padded = np.pad(s, [(0, 0)] * (s.ndim - 2) + [(1, 1), (1, 1)])
    keep = s > 0
    for dr in (0, 1, 2):
        for dc in (0, 1, 2):
            if dr != 1 or dc != 1:
                keep &= s > padded[..., dr : dr + h, dc : dc + w]
    return keep


def _range_gather(lo: np.ndarray, hi: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat indices into a (levels, size) sparse table for max over ``[lo_i, hi_i]``, and the empty ranges.

    Computed once per candidate list: the ranges stay fixed across suppression rounds,
    only the table's values change.
    """
    length = np.maximum(hi - lo + 1, 0)
    empty = length == 0
    floor_log2 = np.zeros(int(length.max()) + 1, dtype=np.int64)
    for k in range(1, len(floor_log2).bit_length()):
        floor_log2[1 << k :] += 1
    level = floor_log2[length]
    a = np.clip(lo, 0, size - 1)
    b = np.clip(hi - (1 << level) + 1, 0, size - 1)
    return level * size + a, level * size + b, empty


def _sparse_table(v: np.ndarray, levels: int) -> np.ndarray:
    """Row k holds max(v[i .. i + 2^k - 1]) (clipped at the end), flattened."""
    table = np.empty((levels + 1, len(v)), dtype=v.dtype)
    table[0] = v
    for k in range(levels):
        step = 1 << k
        np.maximum(table[k, :-step], table[k, step:], out=table[k + 1, :-step])
        table[k + 1, -step:] = table[k, -step:]
    return table.ravel()


def _peaks_1d(x: np.ndarray, d: int) -> np.ndarray:
    """Exact Peaks on (batch, n) maps, worked on the compacted candidate list.

    Candidates of all rows go into one increasing list of global positions (rows
    spaced apart by more than d); each candidate's ``+-d`` window is a contiguous
    index range found by ``searchsorted``, and range maxima come from a sparse table.
    """
    n = x.shape[-1]
    flat = np.flatnonzero(_candidates_1d(x))
    out = np.zeros(x.shape, dtype=x.dtype)
    if flat.size == 0:
        return out
    values = x.ravel()[flat]
    where = flat + (flat // n) * (2 * d + 2)  # rows spaced 2d + 2 apart: no window crosses a row
    count = len(where)
    lo = np.searchsorted(where, where - d, side="left")
    hi = np.searchsorted(where, where + d, side="right") - 1
    levels = int(np.floor(np.log2(max(int((hi - lo).max()) + 1, 1))))
    sq_a, sq_b, _ = _range_gather(lo, hi, count)
    ea_a, ea_b, first = _range_gather(lo, np.arange(count) - 1, count)
    undecided = np.ones(count, dtype=bool)
    kept = np.zeros(count, dtype=bool)
    while undecided.any():
        v = np.where(undecided, values, -1.0)
        table = _sparse_table(v, levels)
        square = np.maximum(table[sq_a], table[sq_b])
        earlier = np.maximum(table[ea_a], table[ea_b])
        earlier[first] = -1.0
        winners = undecided & (v >= square) & (earlier < v)
        kept |= winners
        csum = np.concatenate([[0], np.cumsum(winners)])
        undecided &= (csum[hi + 1] - csum[lo]) == 0
    out.ravel()[flat[kept]] = values[kept]
    return out


def _peaks_2d(x: np.ndarray, d: int) -> np.ndarray:
    """Exact Peaks on (batch, H, W) maps: rounds over the grid, Chebyshev windows from row/column maxima."""
    undecided = _candidates_2d(x)
    kept = np.zeros_like(undecided)
    while undecided.any():
        v = np.where(undecided, x, -1.0).astype(x.dtype)
        row_full = _window_max(v, -d, d, -1.0)
        row_left = _window_max(v, -d, -1, -1.0)
        square = np.swapaxes(_window_max(np.swapaxes(row_full, -1, -2), -d, d, -1.0), -1, -2)
        above = np.swapaxes(_window_max(np.swapaxes(row_full, -1, -2), -d, -1, -1.0), -1, -2)
        earlier = np.maximum(above, row_left)
        winners = undecided & (v >= square) & (earlier < v)
        kept |= winners
        near = _window_count(winners, d)
        near = np.swapaxes(_window_count(np.swapaxes(near > 0, -1, -2), d), -1, -2)
        undecided &= near == 0
    return np.where(kept, x, 0)


def peaks(s: np.ndarray, mpd: PerKernel) -> np.ndarray:
    """Exact greedy Peaks (parallel rounds), as :func:`sancodec.train.activations.peaks`."""
    s = _check(s)
    dd = _per_kernel(mpd, s.shape[1], "mpd")
    out = np.zeros_like(s)
    run = _peaks_1d if s.ndim == 3 else _peaks_2d
    for c in range(s.shape[1]):
        out[:, c] = run(s[:, c], int(dd[c]))
    return out


def apply_activation_np(name: str, s: np.ndarray, kernel_sizes: PerKernel) -> np.ndarray:
    """The activation ``name`` with the paper's parameter from each kernel size (``spec.activation_parameters``)."""
    s = _check(s)
    m = _per_kernel(kernel_sizes, s.shape[1], "m")
    param = activation_parameters(name, m, s.shape[2:])
    if param is None:
        return identity(s)
    return _BY_NAME[canonical_activation(name)](s, param)


_BY_NAME = {"max_activations": max_activations, "max_pool_indices": max_pool_indices, "peaks": peaks}


def select(s: np.ndarray, activations: Sequence[str], kernel_sizes: Sequence[int]) -> np.ndarray:
    """Each kernel's activation on its maps ``(batch, q, ...)``: the numpy half of every engine."""
    return apply_per_kernel(s, activations, kernel_sizes, apply_activation_np)
