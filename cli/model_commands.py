"""``train``, ``sweep`` and ``export``: make and ship SAN models."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import typer

from sancodec.cli.app import app, boundary, check_output, check_outputs
from sancodec.errors import SanConfigError


def _segments(records: list[Path], channels: list[int], length: int, normalization: dict):
    import numpy as np

    from sancodec.io import read_channel
    from sancodec.san.normalization import normalize

    parts = []
    for record in records:
        for ch in channels:
            x = read_channel(record, ch)
            usable = len(x) // length * length
            if usable:
                parts.append(normalize(normalization, x[:usable].reshape(-1, length)))
    if not parts:
        raise SanConfigError(f"no record is at least {length} samples long")
    segs = np.concatenate(parts)
    if len(segs) < 2:
        raise SanConfigError("need at least 2 segments (one for validation); give longer or more records")
    val = np.arange(len(segs)) % 5 == 4
    if not val.any():
        val[-1] = True
    return segs[~val], segs[val]


@app.command()
@boundary
def train(
    records: list[Path] = typer.Argument(..., help="Recordings to learn from, of any kind encode reads "
                                        "(WFDB records, EDF/BDF, .npy, CSV, WAV, MATLAB, BrainVision)."),
    output: Path = typer.Option(..., "-o", "--output", help="Model file to write (JSON)."),
    activation: str = typer.Option("peaks", help="identity | max_activations | max_pool_indices | peaks."),
    kernels: int = typer.Option(2, help="Number of kernels q."),
    m: list[int] = typer.Option([20], "--m", help="Kernel size; repeat to give each kernel its own."),
    channel: list[int] = typer.Option([0], "--channel", help="Channel index; repeat for several."),
    segment: int = typer.Option(1000, help="Segment length."),
    normalization: str = typer.Option("zscore", help="zscore (each segment on its own; the codec then z-scores "
                                      "each frame) or none (the model sees the samples as they are)."),
    epochs: int = typer.Option(20, help="Training epochs (the best one on validation φ̄ is kept)."),
    batch_size: int = typer.Option(8, help="Mini-batch size."),
    device: str = typer.Option("auto", help="auto (CUDA when available), cpu or cuda."),
    seed: int = typer.Option(0, help="Random seed."),
    force: bool = typer.Option(False, "--force", "-f", metavar="", help="Overwrite an existing model file."),
    quiet: bool = typer.Option(False, "--quiet", "-q", metavar="", help="No progress bar."),
    objective: str = typer.Option("phi", help="phi: the paper's validation φ̄; bytes: the (q, m, amplitude step, "
                                  "floor) with the fewest bytes at --prdn on the records' held-out last fifth, "
                                  "q running 1..--kernels and each --m a candidate size for every kernel."),
    prdn: float | None = typer.Option(None, "--prdn", help="With --objective bytes: the PRDN target (percent)."),
) -> None:
    """Train a SAN (MAE, Adam 0.01), keep its best epoch by validation φ̄, save it; or, with
    --objective bytes, choose it by the bytes it saves as the lossy coder's predictor."""
    from sancodec.san.spec import save_model
    from sancodec.train.fit import fit
    from sancodec.train.model import SAN

    check_output(output, force)
    if objective not in ("phi", "bytes"):
        raise SanConfigError(f"--objective must be phi or bytes, got {objective!r}")
    if (objective == "bytes") != (prdn is not None):
        raise SanConfigError("--prdn goes with --objective bytes, and --objective bytes needs --prdn")
    if kernels < 1:  # (was a bare "max() arg is an empty sequence", or "--m was given 1 times for --kernels -1")
        raise SanConfigError(f"--kernels must be at least 1, got {kernels}")
    if objective == "bytes":
        _train_for_bytes(records, output, channel, kernels, m, float(prdn or 0), activation=activation,
                         segment=segment, epochs=epochs, batch_size=batch_size, seed=seed, device=device, quiet=quiet)
        return
    sizes = m * kernels if len(m) == 1 else m
    if len(sizes) != kernels:
        raise SanConfigError(f"--m was given {len(m)} times for --kernels {kernels}")
    if normalization not in ("zscore", "none"):
        raise SanConfigError(f"--normalization must be zscore or none, got {normalization!r}")
    norm = {"kind": normalization}
    if segment < max(sizes):  # every activation function places whole kernels inside a segment
        raise SanConfigError(f"--segment {segment} is shorter than the largest kernel (--m {max(sizes)})")
    train_set, val_set = _segments(records, channel, segment, norm)
    model = SAN(sizes, activation, seed=seed)
    result = fit(model, train_set, val_set, epochs=epochs, batch_size=batch_size, seed=seed, device=device,
                 progress=not quiet)
    spec = model.to_spec(normalization=norm, metadata={
        "trained_on": [str(r) for r in records], "channels": channel, "segment": segment,
        "best_epoch": int(result.best_epoch[0]), "validation_phi": round(float(result.best_val_phi[0]), 4),
        "device": result.device,
    })
    save_model(spec, output)
    if not quiet:
        typer.echo(f"{output}: q={kernels} {activation} m={sizes}, best epoch {int(result.best_epoch[0])}, "
                   f"validation φ̄ {result.best_val_phi[0]:.4f} on {result.device}"
                   + (f"; dead kernels {result.dead_kernels}" if result.dead_kernels else ""))


def _train_for_bytes(records: list[Path], output: Path, channels: list[int], kernels: int, sizes: list[int],
                     prdn: float, **options) -> None:
    """``train --objective bytes``: every (q, m) trained, chosen by held-out bytes at ``prdn``
    (``train.rate``), written with what it was chosen against."""
    from sancodec.codec.prepare import digitize
    from sancodec.io import read_signal
    from sancodec.san.spec import save_model
    from sancodec.train.rate import select_by_bytes

    quiet = options.pop("quiet")
    xs, rates = [], []
    for record in records:
        bare = record.suffix.lower() in (".npy", ".csv")  # no sampling rate: no beat template to compare with
        sig = read_signal(record, fs=1.0 if bare else None)
        steps = sig.sample_steps()
        for ch in channels:
            if not 0 <= ch < sig.n_channels:
                raise SanConfigError(f"{record}: channel {ch} does not exist (it has {sig.n_channels})")
            one = sig.select_channels([ch])
            xs.append(digitize(one, "lossy", None, prdn)[0][:: steps[ch], 0])
            rates.append(None if bare else sig.fs / steps[ch])

    def show(c) -> None:
        if not quiet:
            typer.echo(f"  q={c.q} m={c.m} step {c.step:g} floor {c.floor:g}: {c.total_bytes} bytes "
                       f"(residual {c.residual_bytes}, activations {c.activation_bytes}, kernels {c.kernel_bytes})")

    chosen = select_by_bytes(xs, prdn, list(range(1, kernels + 1)), sizes, rates=rates, on_candidate=show,
                             **options)
    b = chosen.best
    spec = replace(chosen.spec, metadata={"trained_on": [str(r) for r in records], "channels": channels,
                                          "segment": options["segment"], **chosen.metadata(prdn)})
    save_model(spec, output)
    if not quiet:
        lossy = "" if chosen.lossy_mode_bytes is None else f", --mode lossy {chosen.lossy_mode_bytes}"
        typer.echo(f"{output}: q={b.q} m={b.m} amplitude step {b.step:g}, floor {b.floor:g}: {b.total_bytes} "
                   f"held-out bytes at PRDN {prdn:g} % (plain wavelet {chosen.plain_bytes}{lossy})")
        if b.total_bytes > min(chosen.plain_bytes, chosen.lossy_mode_bytes or chosen.plain_bytes):
            typer.echo("note: the SAN does not pay on these records; --mode lossy codes them in fewer bytes "
                       "without it")


@app.command()
@boundary
def sweep(
    record: Path = typer.Argument(..., help="A recording of any kind encode reads (WFDB record: base path, .hea or "
                                  ".dat; EDF/BDF, .npy, CSV, WAV, MATLAB, BrainVision)."),
    channel: int = typer.Option(0, help="Channel index."),
    activation: list[str] | None = typer.Option(None, "--activation", "-a",
                                                help="Repeat for several; default all four."),
    m_min: int = typer.Option(1, help="Smallest kernel size."),
    m_max: int = typer.Option(250, help="Largest kernel size."),
    epochs: int = typer.Option(20, help="Epochs per model."),
    batch_size: int = typer.Option(2, help="Mini-batch size."),
    seeds: int = typer.Option(1, help="Seeds to average (selection uses their mean)."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    csv_out: Path | None = typer.Option(None, "--csv", help="Write every row as CSV here."),
    json_out: bool = typer.Option(False, "--json", metavar="", help="Print the selected rows as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", metavar="", help="No progress bar."),
) -> None:
    """Kernel-size sweep with the paper's Table I protocol (12 x 1000 samples, 6/2/4 split, φ̄ selection)."""
    from dataclasses import asdict

    from sancodec._atomic import write_text_atomic
    from sancodec.io import read_channel
    from sancodec.paper.segments import paper_segments
    from sancodec.train.activations import ACTIVATIONS
    from sancodec.train.sweep import sweep as run_sweep

    if m_min < 1 or m_max < m_min:
        raise SanConfigError(f"need 1 <= --m-min <= --m-max, got {m_min}..{m_max}")
    train_set, val_set, test_set = paper_segments(read_channel(record, channel))
    if m_max > train_set.shape[-1]:  # a kernel longer than a segment (train refuses it too): dead, its φ̄ noise
        raise SanConfigError(f"--m-max {m_max} is longer than the protocol's {train_set.shape[-1]}-sample segments")
    result = run_sweep(
        train_set, val_set, test_set, activations=activation or ACTIVATIONS,
        kernel_sizes=range(m_min, m_max + 1), epochs=epochs, batch_size=batch_size,
        seeds=tuple(range(seeds)), device=device, progress=not quiet,
    )
    if csv_out is not None:
        write_text_atomic(csv_out, result.to_csv())
    if json_out:
        typer.echo(json.dumps({k: asdict(v) for k, v in result.selected().items()}))
        return
    typer.echo(result.to_markdown())
    typer.echo(f"{result.seconds:.1f} s on {result.device}")


@app.command()
@boundary
def export(
    model: Path = typer.Argument(..., help="Model file (JSON) to export."),
    out_dir: Path | None = typer.Argument(None, help="Folder for encoder.onnx, decoder.onnx and manifest.json (or "
                                          "-o, as encode, decode and train name their outputs)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="The folder, as OUT_DIR."),
    fp16: bool = typer.Option(False, "--fp16", metavar="", help="Also write float16 graphs."),
    force: bool = typer.Option(False, "--force", "-f", metavar="", help="Overwrite existing files in OUT_DIR."),
    quiet: bool = typer.Option(False, "--quiet", "-q", metavar="", help="No summary."),
) -> None:
    """Export a model to ONNX for onnxruntime-only devices."""
    from sancodec.san.spec import load_model

    if out_dir is not None and output is not None and out_dir != output:
        raise SanConfigError(f"the folder is given twice, {out_dir} and -o {output}: give one")
    out_dir = out_dir if out_dir is not None else output
    if out_dir is None:
        raise SanConfigError(f"name the folder for the ONNX files: sancodec export {model} OUT_DIR (or -o OUT_DIR)")
    names = ["encoder.onnx", "decoder.onnx", "manifest.json"]
    names += ["encoder_fp16.onnx", "decoder_fp16.onnx"] if fp16 else []
    if out_dir.is_dir():
        check_outputs([out_dir / n for n in names], force, [model])

    try:
        from sancodec.export import export_model
    except ImportError:  # pragma: no cover - depends on the install
        raise SanConfigError("exporting needs the onnx package: pip install sancodec[train]") from None
    manifest = export_model(load_model(model), out_dir, fp16=fp16)
    if not quiet:
        sizes = {name: (out_dir / name).stat().st_size for name in manifest["files"].values()}
        typer.echo(f"{out_dir}: " + ", ".join(f"{k} ({v} bytes)" for k, v in sizes.items()) + ", manifest.json")


@app.command()
@boundary
def reproduce(
    table: str = typer.Argument(..., help="table1 | table2 | table3"),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Folder with the data (e.g. ../shared/data)."),
    out: Path = typer.Option(Path("results"), "--out", help="Folder for CSV, Markdown and figures."),
    figures: Path | None = typer.Option(None, "--figures", help="Table I: folder for the figures (default: --out)."),
    database: list[str] | None = typer.Option(None, "--database", help="Table I: PhysioNet names (default: local)."),
    seeds: int = typer.Option(1, help="Table I: seeds to average."),
    quick: bool = typer.Option(False, "--quick", metavar="",
                               help="Tiny protocol to check the pipeline (numbers are not results)."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    quiet: bool = typer.Option(False, "--quiet", "-q", metavar="", help="No progress bars."),
) -> None:
    """Run one of the paper's experiments and write its tables (and Table I's figures)."""
    from sancodec.paper import reproduce as rp

    if table not in ("table1", "table2", "table3"):
        raise SanConfigError(f"unknown table {table!r}; choose table1, table2 or table3")
    if table != "table1" and data_dir is None:
        raise SanConfigError(f"{table} needs --data-dir")
    if table == "table1":
        text = rp.table1(data_dir, out, quick=quick, databases=database, seeds=seeds, device=device,
                         progress=not quiet, figures_dir=figures)
    else:
        run = rp.table2 if table == "table2" else rp.table3
        text = run(data_dir, out, quick=quick, device=device, progress=not quiet)  # type: ignore[arg-type]
    typer.echo(text)
