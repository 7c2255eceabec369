"""The four sparse activations of a SAN, exactly as specified in docs/PAPER.md.

Every function takes ``s`` shaped ``(batch, kernels, n)`` (1-D) or
``(batch, kernels, H, W)`` (2-D), already passed through ReLU (so ``s >= 0``),
and returns a tensor of the same shape that is zero except at the kept
positions, where it holds ``s``. The integer parameter may be one int for all
kernels or one per kernel, which lets a kernel-size sweep run many independent
single-kernel models in one batched call.

Selection is computed without gradient; the output is ``s * mask`` so that
gradients flow to the kept amplitudes only (the index choice is not
differentiated, as in the paper).

Conventions (documented decisions where the paper is vague):

* Ties are broken by the lower index (row-major for 2-D).
* Max-Activations keeps ``k`` values per example and kernel.
* Max-Pool indices uses windows of ``m`` (``m x m`` in 2-D) with stride ``m``;
  a last partial window counts; zeros stay zeros.
* Peaks (1-D): candidates are positive strict local maxima: ``s[i] > s[i-1]``
  and the next value different from ``s[i]`` is smaller, so a flat-topped
  plateau yields one candidate, its first sample. Samples outside the signal
  count as 0, so an edge sample can be a peak. Candidates are visited by
  amplitude (descending, ties: lower index first); each kept peak suppresses
  every candidate within distance ``<= mpd``.
* Peaks (2-D): candidates are positive strict maxima of their 3x3
  neighbourhood (outside counts as 0; plateaus yield no candidate), and
  suppression uses the Chebyshev distance ``max(|dr|, |dc|) <= mpd``.

The greedy suppression is computed exactly by parallel rounds: a still
undecided candidate that ranks first among the undecided candidates within
``+-mpd`` is kept (the sequential walk would keep it too, since every higher
ranked candidate near it is already suppressed), then everything within
``mpd`` of a newly kept peak is suppressed. Rounds repeat until no candidate
is undecided; ``sancodec.paper.reference`` holds the plain sequential algorithm the
property tests compare against.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from sancodec.errors import SanConfigError
from sancodec.san.spec import ACTIVATIONS, activation_parameters, apply_per_kernel, canonical_activation

__all__ = [
    "ACTIVATIONS",
    "apply_activation",
    "identity",
    "max_activations",
    "max_pool_indices",
    "normalize_activation_name",
    "peaks",
    "select",
]

normalize_activation_name = canonical_activation

PerKernel = int | Sequence[int] | torch.Tensor


def _check_maps(s: torch.Tensor) -> None:
    if not isinstance(s, torch.Tensor) or s.dim() not in (3, 4):
        shape = tuple(s.shape) if isinstance(s, torch.Tensor) else type(s).__name__
        raise SanConfigError(
            f"activation input must be (batch, kernels, n) or (batch, kernels, H, W), got {shape}"
        )


def _per_kernel(value: PerKernel, kernels: int, name: str, device: torch.device) -> torch.Tensor:
    """Broadcast an int or a per-kernel sequence to a (kernels,) int64 tensor, all >= 1."""
    t = torch.as_tensor(value, dtype=torch.int64).flatten()
    if t.numel() == 1:
        t = t.expand(kernels)
    if t.numel() != kernels:
        raise SanConfigError(f"{name} has {t.numel()} values for {kernels} kernels")
    if bool((t < 1).any()):
        raise SanConfigError(f"{name} must be >= 1, got {t.tolist()}")
    return t.to(device)


def identity(s: torch.Tensor) -> torch.Tensor:
    """Identity: keep every value of ReLU(s) (the dense baseline of the paper)."""
    _check_maps(s)
    return s


def max_activations(s: torch.Tensor, k: PerKernel) -> torch.Tensor:
    """Keep the ``k`` largest values per example and kernel (ties: lower index first)."""
    _check_maps(s)
    flat = s.flatten(2)
    n = flat.shape[-1]
    kk = _per_kernel(k, s.shape[1], "k", s.device).clamp(max=n)
    with torch.no_grad():
        top = torch.topk(flat, int(kk.max()), dim=-1, sorted=True).values
        kth = top.gather(-1, (kk - 1).view(1, -1, 1).expand(flat.shape[0], -1, 1))
        greater = flat > kth
        equal = flat == kth
        need = kk.view(1, -1, 1) - greater.sum(-1, keepdim=True)
        keep = greater | (equal & (equal.cumsum(-1) <= need))
    return s * keep.view_as(s)


def _window_ids(shape: Sequence[int], m: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Per-kernel id of the pooling window of every (row-major) position, and the id count."""
    device = m.device
    if len(shape) == 1:
        pos = torch.arange(shape[0], device=device)
        ids = pos.view(1, -1) // m.view(-1, 1)
    else:
        rows = torch.arange(shape[0], device=device).view(1, -1, 1) // m.view(-1, 1, 1)
        cols = torch.arange(shape[1], device=device).view(1, 1, -1) // m.view(-1, 1, 1)
        per_row = (shape[1] + m - 1) // m
        ids = (rows * per_row.view(-1, 1, 1) + cols).flatten(1)
    count = 1
    for size in shape:
        count *= -(-size // int(m.min()))
    return ids, count


def max_pool_indices(s: torch.Tensor, m: PerKernel) -> torch.Tensor:
    """Max-pool with window = stride = ``m``; keep each window's argmax value (first on ties)."""
    _check_maps(s)
    mm = _per_kernel(m, s.shape[1], "m", s.device)
    flat = s.flatten(2)
    b, k, n = flat.shape
    with torch.no_grad():
        ids, count = _window_ids(s.shape[2:], mm)
        ids = ids.unsqueeze(0).expand(b, k, n)
        wmax = flat.new_full((b, k, count), -1.0).scatter_reduce(
            -1, ids, flat, reduce="amax", include_self=True
        )
        is_max = flat == wmax.gather(-1, ids)
        pos = torch.arange(n, device=s.device).expand(b, k, n)
        first = torch.full((b, k, count), n, device=s.device, dtype=torch.int64).scatter_reduce(
            -1, ids, torch.where(is_max, pos, n), reduce="amin", include_self=True
        )
        keep = pos == first.gather(-1, ids)
    return s * keep.view_as(s)


def _level_tables(xp: torch.Tensor, wanted: set[int], fill: float) -> dict[int, torch.Tensor]:
    """Sparse-table levels: level k holds the max over ``xp[..., i : i + 2**k]`` (``fill`` past the end)."""
    tables: dict[int, torch.Tensor] = {}
    table = xp
    for level in range(max(wanted) + 1):
        if level in wanted:
            tables[level] = table
        if level < max(wanted):
            step = 1 << level
            table = torch.maximum(table, F.pad(table[..., step:], (0, step), value=fill))
    return tables


def _window_max(
    x: torch.Tensor,
    windows: Sequence[tuple[torch.Tensor, torch.Tensor]],
    dim: int,
    fill: float,
) -> list[torch.Tensor]:
    """Sliding maxima along ``dim`` for several per-kernel windows sharing one sparse table.

    For each ``(lo, hi)`` pair (``(kernels,)`` offset tensors) return ``out`` with
    ``out[..., i] = max(x[..., i + lo[c] : i + hi[c] + 1])`` for kernel ``c``
    (dim 1 of ``x``); positions outside ``x`` count as ``fill``, an empty window
    gives ``fill``. Cost O(n log w) instead of O(n w).
    """
    xm = x.movedim(dim, -1)
    length = xm.shape[-1]
    kernels = xm.shape[1]
    lows = [lo.tolist() for lo, _ in windows]
    highs = [hi.tolist() for _, hi in windows]
    pad = max(max(abs(v) for v in lst) for lst in lows + highs)
    xp = F.pad(xm, (pad, pad), value=fill)
    total = xp.shape[-1]
    spans = [[h - lo + 1 for lo, h in zip(ls, hs)] for ls, hs in zip(lows, highs)]
    levels = [[max(w, 1).bit_length() - 1 for w in sp] for sp in spans]
    tables = _level_tables(xp, {lv for lvls in levels for lv in lvls}, fill)
    outs = []
    for lo, hi, span, lvls in zip(lows, highs, spans, levels):
        uniform = len(set(lo)) == 1 and len(set(hi)) == 1
        if uniform:
            lv = lvls[0]
            t = tables[lv]
            a = lo[0] + pad
            b = hi[0] - (1 << lv) + 1 + pad
            res = torch.maximum(t[..., a : a + length], t[..., b : b + length])
            if span[0] <= 0:
                res = torch.full_like(res, fill)
        else:
            sel = torch.empty_like(xp)
            for lv in set(lvls):
                mask = torch.tensor([x_ == lv for x_ in lvls], device=x.device)
                sel[:, mask] = tables[lv][:, mask]
            base = torch.arange(length, device=x.device).view(1, -1)
            lo_t = torch.tensor(lo, device=x.device).view(-1, 1)
            hi_t = torch.tensor(hi, device=x.device).view(-1, 1)
            lv_t = torch.tensor(lvls, device=x.device).view(-1, 1)
            ia = (base + lo_t + pad).clamp(0, total - 1)
            ib = (base + hi_t - (1 << lv_t) + 1 + pad).clamp(0, total - 1)
            view = [1] * xm.dim()
            view[1], view[-1] = kernels, length
            shape = list(xm.shape)
            ia = ia.view(view).expand(shape)
            ib = ib.view(view).expand(shape)
            res = torch.maximum(sel.gather(-1, ia), sel.gather(-1, ib))
            empty = torch.tensor([w <= 0 for w in span], device=x.device).view(view[:-1] + [1])
            res = torch.where(empty, torch.full_like(res, fill), res)
        outs.append(res.movedim(-1, dim))
    return outs


def _candidates_1d(s: torch.Tensor) -> torch.Tensor:
    """Positive strict local maxima; a plateau yields its first sample; outside counts as 0."""
    n = s.shape[-1]
    padded = F.pad(s, (1, 1))
    left, right = padded[..., :-2], padded[..., 2:]
    rising = (s > 0) & (s > left)
    found = rising & (s > right)
    plateau = rising & (s == right)
    if bool(plateau.any()):
        # Rare (exactly equal neighbours): look past the plateau for the next different value.
        tail = padded[..., 1:]
        change = tail[..., 1:] != tail[..., :-1]
        steps = torch.arange(1, n + 1, device=s.device).expand_as(s)
        next_change = torch.where(change, steps, torch.full_like(steps, n))
        next_change = torch.cummin(next_change.flip(-1), dim=-1).values.flip(-1)
        found = found | (plateau & (tail.gather(-1, next_change) < s))
    return found


def _candidates_2d(s: torch.Tensor) -> torch.Tensor:
    """Positive strict maxima of their 3x3 neighbourhood (outside counts as 0)."""
    h, w = s.shape[-2:]
    padded = F.pad(s, (1, 1, 1, 1))
    keep = s > 0
    for dr in (0, 1, 2):
        for dc in (0, 1, 2):
            if dr == 1 and dc == 1:
                continue
            keep = keep & (s > padded[..., dr : dr + h, dc : dc + w])
    return keep


def _window_count(x: torch.Tensor, d: torch.Tensor, dim: int) -> torch.Tensor:
    """Number of true values of ``x`` within ``+-d[c]`` along ``dim`` (a cumulative-sum box filter)."""
    xm = x.movedim(dim, -1)
    length = xm.shape[-1]
    csum = F.pad(xm.to(torch.int32).cumsum(-1, dtype=torch.int32), (1, 0))
    pos = torch.arange(length, device=x.device).view(1, -1)
    dd = d.to(x.device).view(-1, 1)
    view = [1] * xm.dim()
    view[1], view[-1] = xm.shape[1], length
    hi = (pos + dd + 1).clamp(max=length).view(view).expand(xm.shape)
    lo = (pos - dd).clamp(min=0).view(view).expand(xm.shape)
    return (csum.gather(-1, hi) - csum.gather(-1, lo)).movedim(-1, dim)


def peaks(s: torch.Tensor, mpd: PerKernel) -> torch.Tensor:
    """Peaks: local maxima kept greedily by amplitude, suppressing others within ``mpd``.

    Exact (identical to the sequential greedy algorithm), computed in parallel rounds.
    """
    _check_maps(s)
    d = _per_kernel(mpd, s.shape[1], "mpd", s.device).cpu()
    if s.dim() == 4 and len(set(d.tolist())) > 1:
        # 2-D windows are costly per kernel; kernels sharing an mpd take the uniform fast path together.
        out = torch.zeros_like(s)
        for value in sorted(set(d.tolist())):
            idx = torch.nonzero(d == value).view(-1).to(s.device)
            out[:, idx] = peaks(s[:, idx], value)
        return out
    two_d = s.dim() == 4
    with torch.no_grad():
        undecided = _candidates_2d(s) if two_d else _candidates_1d(s)
        kept = torch.zeros_like(undecided)
        values = s.detach()
        full = (-d, d)
        left = (-d, -torch.ones_like(d))
        while bool(undecided.any()):
            v = torch.where(undecided, values, torch.full_like(values, -1.0))
            if two_d:
                row_full, row_left = _window_max(v, [full, left], dim=-1, fill=-1.0)
                square, above = _window_max(row_full, [full, left], dim=-2, fill=-1.0)
                earlier = torch.maximum(above, row_left)
            else:
                square, earlier = _window_max(v, [full, left], dim=-1, fill=-1.0)
            winners = undecided & (v >= square) & (earlier < v)
            kept |= winners
            near = _window_count(winners, d, dim=-1)
            if two_d:
                near = _window_count(near > 0, d, dim=-2)
            undecided &= near == 0
    return s * kept


def apply_activation(name: str, s: torch.Tensor, kernel_sizes: PerKernel) -> torch.Tensor:
    """Apply the activation ``name`` with the paper's parameter derived from each kernel size m
    (the rule is ``sancodec.san.spec.activation_parameters``, shared with the numpy runtime)."""
    _check_maps(s)
    m = _per_kernel(kernel_sizes, s.shape[1], "m", s.device)
    param = activation_parameters(name, m.cpu().numpy(), s.shape[2:])
    if param is None:
        return identity(s)
    fn = {"max_activations": max_activations, "max_pool_indices": max_pool_indices, "peaks": peaks}
    return fn[canonical_activation(name)](s, torch.from_numpy(param).to(s.device))


def select(s: torch.Tensor, activations: Sequence[str], kernel_sizes: Sequence[int]) -> torch.Tensor:
    """Each kernel's activation on its maps ``(batch, q, ...)`` (torch twin of ``san.sparse.select``)."""
    return apply_per_kernel(s, activations, kernel_sizes, apply_activation)
