"""Small steps a short lead's coding repeats, timed on the calls real encodes make, each next to the route it
replaced, their results checked equal: the order-0 bit estimate of one histogram (``residual.bits_from_histogram``,
against ``residual._histograms_bits``, the general route every histogram took before), the long-term prediction's
fit of each beat's shift and gain (``longterm._fit`` in one compiled pass, ``kernels.ltp_fit``, against its numpy
reference), and a lossless frame's least-squares fits of each channel on the ones before it (from the blocks of the
frame's Gram matrix made once, ``interchannel.FrameGram``, its making included, against each channel's own stack and
einsum).

Run: .venv/bin/python benchmarks/bench_short_lead_steps.py [--data-dir ../shared/data] [--repeats 7]

The calls are collected, on one thread, from a lossy encode at PRDN 2 % (the default effort) of every signal of
``lossy_signals.SIGNALS`` the folder holds, and from a lossless encode of each record of
``bench_short_records.records`` (PTB-XL's size: a lead's lossless coding weighs a few hundred residual estimates and
fits a long-term prediction to each candidate residual). Each route is then timed over every call collected, the
fastest of ``--repeats`` passes, the two routes taking turns; "share" is the new route's time over the whole of those
encodes (on one thread, timed apart, the fastest of ``--repeats``). A short lead's lossless coding is mostly Python
between small compiled calls, these among the larger (``docs/LOSSY_HISTORY.md``, twenty-second session).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from bench_short_records import records
from lossy_signals import labelled
from timing import fastest_seconds

import sancodec
from sancodec import Signal
from sancodec.codec import interchannel, kernels, longterm, residual, timedomain


class Step(NamedTuple):
    """A step timed: where the encoders look it up (each module that holds it by name), its name, the route it
    replaced (called with the same arguments), whether a call is one to time, how two results compare, and the
    route timed where it is not the function recorded itself."""

    label: str
    owners: tuple[Any, ...]
    name: str
    before: Callable[..., Any]
    kept: Callable[..., bool]
    same: Callable[[Any, Any], bool]
    now: Callable[..., Any] | None = None


def _numpy_fit(o: np.ndarray, positions: np.ndarray, before: int, after: int) -> tuple[np.ndarray, np.ndarray]:
    """``longterm._fit``'s numpy reference (the C kernels set aside for the call)."""
    saved = kernels._LIB
    kernels._LIB = None
    try:
        return longterm._fit(o, positions, before, after)
    finally:
        kernels._LIB = saved


def _channel_fits(channels: dict[int, np.ndarray], shared: bool) -> list[list[Any]]:
    """Every channel's ``interchannel.fits`` on the up to ``CANDIDATE_CHANNELS`` before it in a frame of
    ``channels``, as the lossless encoder asks for them: from :class:`~sancodec.codec.interchannel.FrameGram`'s
    blocks (``shared``) or each from its own stack."""
    gram = interchannel.FrameGram.of(channels) if shared else None
    numbers = list(channels)
    out = []
    for i, ch in enumerate(numbers[1:], 1):
        refs = numbers[max(0, i - interchannel.CANDIDATE_CHANNELS) : i]
        block = None if gram is None else gram.block(refs, ch)
        out.append(interchannel.fits(channels[ch], [channels[k] for k in refs], block))
    return out


STEPS = [
    Step("bit estimate of one histogram (against the general route)", (residual, interchannel, timedomain),
         "bits_from_histogram", residual._histograms_bits, lambda counts, _n: counts.ndim == 1,
         lambda a, b: a == b),
    Step("long-term prediction's fit (against numpy)", (longterm,), "_fit", _numpy_fit, lambda *_: True,
         lambda a, b: all(np.array_equal(x, y) for x, y in zip(a, b))),
    Step("a frame's channels fitted on the ones before (against each channel's own Gram matrix)",
         (interchannel.FrameGram,), "of", lambda channels: _channel_fits(channels, False), lambda *_: True,
         lambda a, b: a == b, lambda channels: _channel_fits(channels, True)),
]


def _encodes(data_dir: Path) -> dict[str, list[tuple[Signal, dict[str, Any]]]]:
    """The encodes whose calls are timed, by kind: each signal and its options."""
    return {"lossy encodes at PRDN 2 %": [(s, {"mode": "lossy", "prdn": 2.0}) for _, s in labelled(data_dir)],
            "short records' lossless encodes": [(s, {}) for _, s in records(data_dir)]}


def collected(encodes: list[tuple[Signal, dict[str, Any]]]) -> dict[str, list[tuple[Any, ...]]]:
    """Each step's calls (their arguments, copied) made by ``encodes`` on one thread, by step name."""
    calls: dict[str, list[tuple[Any, ...]]] = {step.name: [] for step in STEPS}
    saved = [(owner, step.name, getattr(owner, step.name)) for step in STEPS for owner in step.owners
             if hasattr(owner, step.name)]
    for step in STEPS:
        real = getattr(step.owners[0], step.name)

        def recording(*args: Any, step: Step = step, real: Callable[..., Any] = real) -> Any:
            if step.kept(*args):
                calls[step.name].append(tuple(_copied(a) for a in args))
            return real(*args)
        for owner in step.owners:
            if hasattr(owner, step.name):
                setattr(owner, step.name, recording)
    try:
        for signal, options in encodes:
            sancodec.encode(signal, threads=1, **options)
    finally:
        for owner, name, real in saved:
            setattr(owner, name, real)
    return calls


def _copied(a: Any) -> Any:
    """An argument kept for timing: arrays copied (a dict of them too), anything else as it is."""
    if isinstance(a, np.ndarray):
        return a.copy()
    if isinstance(a, dict):
        return {k: _copied(v) for k, v in a.items()}
    return a


def pass_seconds(route: Callable[..., Any], calls: list[tuple[Any, ...]]) -> float:
    start = time.perf_counter()
    for args in calls:
        route(*args)
    return time.perf_counter() - start


def encode_seconds(encodes: list[tuple[Signal, dict[str, Any]]], repeats: int) -> float:
    """The encodes on one thread, summed, the fastest of ``repeats`` each."""
    return sum(fastest_seconds(partial(sancodec.encode, signal, threads=1, **options), repeats)
               for signal, options in encodes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print("| encodes | step | calls | its route, us a call | the route before, us a call | ratio | share of the "
          "encodes |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for kind, encodes in _encodes(args.data_dir).items():
        calls = collected(encodes)
        whole = encode_seconds(encodes, args.repeats)
        for step in STEPS:
            made = calls[step.name]
            if not made:
                continue
            route = step.now or getattr(step.owners[0], step.name)
            assert all(step.same(route(*a), step.before(*a)) for a in made), f"{step.name}: the routes differ"
            now, before = float("inf"), float("inf")
            for _ in range(args.repeats):
                now = min(now, pass_seconds(route, made))
                before = min(before, pass_seconds(step.before, made))
            print(f"| {kind} | {step.label} | {len(made)} | {1e6 * now / len(made):.2f} | "
                  f"{1e6 * before / len(made):.2f} | {now / before:.2f} | {now / whole:.3f} |")


if __name__ == "__main__":
    main()
