"""The library's reference wavelet coder (``sancodec.refwavelet``, drawn by ``report --rd-curve``) against
bench_lossy's (the same design on PyWavelets' periodised CDF 9/7): CR at PRDN 1 / 2 / 5 / 9 % per signal.

Run: .venv/bin/python benchmarks/bench_refwavelet.py [--data-dir ../shared/data] [--markdown docs/REFWAVELET.md]
The two transforms differ only at the ends of the record (symmetric extension against periodisation): a
periodised transform sees a jump where the record's end meets its start, which costs a short record, or a
step signal, bytes that symmetric extension does not.
"""

from __future__ import annotations

import datetime

from bench_lossy import SIGNALS, TARGETS, bench_parser, cr_at, fmt, load, table_head, wavelet_curve

from sancodec import refwavelet


def main() -> None:
    args = bench_parser(__doc__, "Also write the table to this file.").parse_args()
    rows = table_head(["signal", "coder"])
    print(*rows, sep="\n")
    for _, label, path, channel in SIGNALS:
        sig = load(args.data_dir, path, channel)
        if sig is None:
            continue
        x = sig.samples[:, 0]
        bench = [cr_at(wavelet_curve(x), t) for t in TARGETS]
        library = [cr_at([(p, 11 / bits, "") for p, bits in refwavelet.curve(x)], t) for t in TARGETS]
        rows.append(f"| {label} | bench_lossy (PyWavelets, periodised) | " + " | ".join(fmt(v) for v in bench) + " |")
        rows.append("| | sancodec.refwavelet (symmetric extension) | " + " | ".join(
            f"{fmt(v)} ({v / b:.2f}x)" if v and b else fmt(v) for v, b in zip(library, bench)) + " |")
        print(*rows[-2:], sep="\n", flush=True)
    if args.markdown:
        head = ["# The reference wavelet coder, periodised and with symmetric extension", "",
                f"Measured {datetime.date.today()} with `benchmarks/bench_refwavelet.py --data-dir ../shared/data`: "
                "CR (11 bits / bits per sample) at each PRDN, interpolated on each coder's curve, and in brackets "
                "the ratio of `sancodec.refwavelet` (what `sancodec report --rd-curve` draws) to bench_lossy's "
                "coder (what docs/LOSSY.md compares sancodec with). Same design, CDF 9/7 on two implementations "
                "that treat the record's ends differently; see the script's docstring.", ""]
        args.markdown.write_text("\n".join(head + rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
