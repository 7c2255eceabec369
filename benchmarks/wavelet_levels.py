"""Is the wavelet coder's encode time, as bench_lossy measures it, the time of the CR it is credited with?

Run: .venv/bin/python benchmarks/wavelet_levels.py [--data-dir ../shared/data] [--markdown docs/WAVELET_LEVELS.md]

``bench_lossy.py`` credits the wavelet coder with the better of 5 or 6 levels at every point of its curve (the
envelope of both), and times one step search at the levels that curve chose (``bench_lossy.wavelet_timing``): a
coder given a PRDN target that had to try both levels would take about twice that. This measures what the choice is
worth: each signal's CR at PRDN 1 / 2 / 5 / 9 % with 5 levels alone and with 6 alone, over the envelope's. Where one
fixed level comes within a few percent of the envelope everywhere, timing one level is like with like (a coder would
fix that level); where it did not, the timed coder would owe the other level's search too.
"""

from __future__ import annotations

from lossy_signals import TARGETS, cr_at, labelled

from sancodec.metrics import prdn

LEVELS = (5, 6)
Curve = list[tuple[float, float, str]]


def curve(x, levels: int) -> Curve:
    """(PRDN %, CR, label) of the wavelet coder at ``levels`` for every step of ``bench_lossy.WAVELET_STEPS``."""
    from bench_lossy import WAVELET_STEPS, wavelet_code  # (PyWavelets: installed by make bench)

    points = []
    for step in WAVELET_STEPS:
        size, y = wavelet_code(x, step, levels)
        points.append((prdn(x, y), 11 * len(x) / (8 * size), f"{levels} levels"))
    return points


def shares(x) -> list[tuple[float | None, ...]]:
    """Per target: each of :data:`LEVELS`' CR over the envelope's on ``x`` (:func:`shares_of`)."""
    return shares_of({lv: curve(x, lv) for lv in LEVELS})


def shares_of(curves: dict[int, Curve]) -> list[tuple[float | None, ...]]:
    """Per target: each level's CR over the CR of the curve ``bench_lossy.wavelet_curve`` credits (at each step
    of ``curves``, one point per step for each level, the level of the higher CR: the fewer bytes; level 5 where
    they tie), None where a curve does not reach the target."""
    envelope = [max(points, key=lambda point: point[1]) for points in zip(*(curves[lv] for lv in LEVELS))]
    out = []
    for target in TARGETS:
        best = cr_at(envelope, target)
        out.append(tuple(None if best is None or (c := cr_at(curves[lv], target)) is None else c / best
                         for lv in LEVELS))
    return out


def main() -> None:
    from bench_lossy import bench_parser  # (PyWavelets: installed by make bench)

    args = bench_parser(__doc__, "write the table here").parse_args()
    head = ("| signal (n) | " + " | ".join(f"{lv} levels @ {t:g} %" for t in TARGETS for lv in LEVELS) + " |")
    lines = [head, "|---|" + "---:|" * (len(TARGETS) * len(LEVELS))]
    lowest = dict.fromkeys(LEVELS, 1.0)
    for label, sig in labelled(args.data_dir):
        x = sig.samples[:, 0]
        row = shares(x)
        for per_target in row:
            for lv, share in zip(LEVELS, per_target):
                if share is not None:
                    lowest[lv] = min(lowest[lv], share)
        cells = ["–" if s is None else f"{s:.3f}" for per_target in row for s in per_target]
        lines.append(f"| {label} ({len(x)}) | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    summary = ", ".join(f"{lv} levels alone at least {lowest[lv]:.3f}" for lv in LEVELS)
    print(f"lowest share of the envelope's CR: {summary}")
    if args.markdown:
        text = ["# The wavelet coder's levels: what choosing between 5 and 6 is worth", "",
                "Measured with `benchmarks/wavelet_levels.py --data-dir ../shared/data --markdown "
                "docs/WAVELET_LEVELS.md` (its docstring says why). Each cell: the CR at that PRDN with the levels "
                "fixed, over the CR of the better of 5 or 6 levels at each step (what `bench_lossy.py` credits the "
                "wavelet coder with; values above 1 where interpolating between steps of different levels lands "
                "under a level's own curve).", "",
                *lines, "", f"Lowest share of the envelope's CR over every signal and target: {summary}.", ""]
        args.markdown.write_text("\n".join(text))


if __name__ == "__main__":
    main()
