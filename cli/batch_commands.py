"""``batch``: every record under a folder encoded (or decoded) on a Dask cluster, with a manifest."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from sancodec.cli.app import annotator_list, app, boundary
from sancodec.errors import SanConfigError

console = Console(stderr=True, markup=False)  # (paths and errors are text)


@app.command()
@boundary
def batch(
    src: Path = typer.Argument(..., help="Folder of records (WFDB, EDF/BDF, .npy with --fs, .csv/.tsv with --csv); of "
                               ".san with --decode."),
    dst: Path = typer.Argument(..., help="Output folder: the same tree, plus manifest.csv."),
    decode: bool = typer.Option(False, "--decode", metavar="", help="Decode every .san under SRC instead."),
    workers: int = typer.Option(2, "--workers", help="Local Dask workers (processes)."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Address of an existing Dask scheduler."),
    mode: str = typer.Option("lossless", help="lossless | near-lossless (--max-error) | lossy (--prdn, --snr "
                             "or --bps)."),
    max_error: float | None = typer.Option(None, help="near-lossless bound, in the samples' units."),
    prdn: float | None = typer.Option(None, "--prdn", help="lossy target: PRDN in percent."),
    snr: float | None = typer.Option(None, "--snr", help="lossy target: SNR in dB."),
    bps: float | None = typer.Option(None, "--bps", help="lossy target: bits per sample per channel."),
    effort: str | None = typer.Option(None, "--effort", help="lossy: balanced (the default), best or fast (see "
                                      "sancodec encode)."),
    fs: float | None = typer.Option(None, help="Sampling frequency of .npy inputs (without it they are skipped) and of "
                                    ".csv ones without a leading time column."),
    csv: bool = typer.Option(False, "--csv", metavar="", help="Encode .csv and .tsv tables too (a leading time "
                             "column sets the rate; else --fs)."),
    force: bool = typer.Option(False, "--force", "-f", metavar="", help="Re-encode outputs that are complete."),
    keep_header_text: bool = typer.Option(False, "--keep-header-text", metavar="", help="Lossless: keep each "
                                          "single-segment WFDB record's .hea text, which --decode writes back as it "
                                          "was (see sancodec encode)."),
    annotators: str | None = typer.Option(None, "--annotators", metavar="EXT[,EXT...]", help="Each WFDB record's "
                                          "annotation files of these extensions too, each required (see sancodec "
                                          "encode)."),
    frame_len: int | None = typer.Option(None, "--frame-len", help="Samples per frame, the random-access granularity "
                                         "(see sancodec encode)."),
    fast_decode: bool = typer.Option(False, "--fast-decode", metavar="", help="Lossless and near-lossless: faster "
                                     "decoding, ~5 % larger (see sancodec encode)."),
    verify: bool | None = typer.Option(None, "--verify/--no-verify", metavar="", help="lossy: decode each file and "
                                       "check every channel's target before writing it (default: only at --effort "
                                       "best)."),
    format: str | None = typer.Option(None, "--format", help="--decode: every file to this format (wfdb | edf | bdf | "
                                      "npy | csv | raw | wav | mat | brainvision; default: each file's source's), "
                                      "named as sancodec decode names it (x.edf.san: x.csv)."),
    physical: bool = typer.Option(False, "--physical", metavar="", help="--decode with --format csv or npy: values in "
                                  "physical units, as sancodec decode --physical writes them."),
    channels: str | None = typer.Option(None, "--channels", help="The channels to encode (or with --decode, to "
                                        "write), comma-separated indices or names, in that order (a file without one "
                                        "is a failed row)."),
    start: str | None = typer.Option(None, "--start", help="--decode: each record from this sample, or time from "
                                     "its start (90s, 1:30, 1:02:03.5; see sancodec decode)."),
    end: str | None = typer.Option(None, "--end", help="--decode: each record up to this sample, or time (a record "
                                   "that ends before it is a failed row)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", metavar="", help="No progress bar or summary."),
) -> None:
    """Encode every record under SRC into DST on Dask (a local cluster by default); exit 1 if any failed.
    A re-run skips outputs that are complete; DST/manifest.csv says what happened to each input."""
    from sancodec.batch import decode_tree, encode_tree

    if not src.is_dir():
        raise SanConfigError(f"{src}: not a folder")
    if dst.exists() and not dst.is_dir():
        raise SanConfigError(f"{dst}: is a file; the destination is a folder (made if missing)")
    if workers < 1:
        raise SanConfigError(f"--workers must be at least 1, got {workers}")
    if decode and annotators is not None:
        raise SanConfigError("--annotators names the annotation files an encode reads; --decode writes back those "
                             "each .san holds")
    asked = [flag for flag, given in (("--format", format is not None), ("--physical", physical),
                                      ("--start", start is not None), ("--end", end is not None)) if given]
    if asked and not decode:
        raise SanConfigError(f"{', '.join(asked)}: options of batch --decode (an encode reads each record as it is)")
    encoding = [flag for flag, given in (("--frame-len", frame_len is not None), ("--fast-decode", fast_decode),
                                         ("--verify/--no-verify", verify is not None)) if given]
    if encoding and decode:
        raise SanConfigError(f"{', '.join(encoding)}: options of an encode, not of batch --decode")
    client = None
    if scheduler:
        from distributed import Client

        client = Client(scheduler)
    with Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=console, disable=quiet) as bar:
        task = bar.add_task("decoding" if decode else "encoding", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        if decode:
            rows = decode_tree(src, dst, client=client, workers=workers, progress=progress, format=format,
                               physical=physical, channels=channels, start=start, end=end)
        else:
            rows = encode_tree(src, dst, client=client, workers=workers, mode=mode, max_error=max_error, prdn=prdn,
                               snr=snr, bps=bps, effort=effort, fs=fs, csv=csv, force=force, progress=progress,
                               keep_header_text=keep_header_text, annotators=annotator_list(annotators),
                               channels=channels, frame_len=frame_len, fast_decode=fast_decode, verify=verify)
    failed = [r for r in rows if r.status == "failed"]
    if not quiet:
        counts = {s: sum(r.status == s for r in rows) for s in ("encoded", "decoded", "skipped", "failed")}
        console.print(", ".join(f"{v} {k}" for k, v in counts.items() if v) + f"; manifest: {dst / 'manifest.csv'}")
        for row in failed:
            console.print(f"failed: {row.path}: {row.error}")
        for row in rows:
            if row.warnings:
                console.print(f"warning: {row.path}: {row.warnings}")
        if not decode:
            _say_left_out(src, dst, fs, csv)
    if failed:
        raise typer.Exit(1)


def _say_left_out(src: Path, dst: Path, fs: float | None, csv: bool) -> None:
    """A line for the arrays and tables under ``src`` that this run left out for want of the option that makes
    them inputs (``--fs``, ``--csv``): they are in no manifest row, and were passed over without a word."""
    from sancodec.batch import find_inputs

    found = set(find_inputs(src, npy=fs is not None, csv=csv, skip=dst))
    every = set(find_inputs(src, npy=True, csv=True, skip=dst))
    left = {kind: sum(p.suffix.lower() == kind for p in every - found) for kind in (".npy", ".csv", ".tsv")}
    why = {".npy": "give --fs to encode .npy arrays", ".csv": "give --csv to encode .csv tables",
           ".tsv": "give --csv to encode .tsv tables"}
    for kind, count in left.items():
        if count:
            console.print(f"left out: {count} {kind} file{'s' if count > 1 else ''} ({why[kind]})")
