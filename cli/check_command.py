"""``check``: whether .san files decode whole, as ``flac -t`` and ``gzip -t`` test theirs, without writing anything."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from sancodec.cli.app import app, boundary, named, shown, source_arguments
from sancodec.codec.api import Salvaged, salvage_json, salvage_text
from sancodec.codec.container import SALVAGE_HINT
from sancodec.errors import SancodecError, SanConfigError, SanFormatError

if TYPE_CHECKING:
    from sancodec.codec.limits import DecodeLimits
    from sancodec.san.spec import SanSpec

console = Console(markup=False, highlight=False)  # (paths and errors are text)
progress_console = Console(stderr=True, markup=False)


@dataclass
class Checked:
    """One file's outcome: what it holds where it decoded whole, else the one-line reason it did not."""

    path: str
    ok: bool
    mode: str | None = None
    samples: int | None = None
    channels: int | None = None
    bytes: int | None = None
    error: str | None = None
    salvageable: dict[str, Any] | None = None  # what decode --salvage recovers of a damaged file (salvage_json)


def san_files(paths: list[Path | str]) -> list[Path | str]:
    """The files ``paths`` name: each file as given (whatever its suffix), each folder's ``*.san`` files, sorted
    (none found in a folder: refused, as a likely typo); ``-`` is standard input; a URL (text) is one file."""
    found: list[Path | str] = []
    for path in paths:
        if isinstance(path, Path) and str(path) != "-" and path.is_dir():
            inside = sorted(p for p in path.rglob("*.san") if p.is_file())
            if not inside:
                raise SanConfigError(f"{path}: holds no .san file")
            found.extend(inside)
        else:
            found.append(path)
    return found


def check_file(path: Path | str, model: SanSpec | None = None, limits: DecodeLimits | None = None,
               threads: int | None = None) -> Checked:
    """``path`` decoded whole and kept nowhere (:meth:`sancodec.SanFile.check`): a :class:`Checked` of what it holds,
    or of the first failure."""
    from sancodec.codec.limits import DEFAULT_LIMITS
    from sancodec.stream import SanFile

    try:
        if str(path) == "-":
            return _check_bytes(sys.stdin.buffer.read(), model, limits or DEFAULT_LIMITS, threads)
        if isinstance(path, Path) and not path.exists():  # (a URL's absence is said by its reader)
            raise SanFormatError(f"{path}: no such file")
        with SanFile(path, model=model, limits=limits or DEFAULT_LIMITS, threads=threads) as f:
            f.check()
            info = f.info
    except (SancodecError, OSError) as exc:
        said = str(exc) if isinstance(exc, SancodecError) else (exc.strerror or str(exc))
        kept = _salvageable(path, limits) if isinstance(exc, SanFormatError) and isinstance(path, Path) and \
            str(path) != "-" else None
        if kept is not None:  # (what is intact, where some frames are, in place of the hint)
            said = said.replace(SALVAGE_HINT, "") + f"; {salvage_text(kept)} (`sancodec decode --salvage` writes them)"
        return Checked(shown(path), False, error=named(said, path),
                       salvageable=None if kept is None else salvage_json(kept))
    from sancodec.codec.header import file_mode

    return Checked(shown(path), True, file_mode(f.header), info["n_samples"], info["n_channels"], info["bytes"])


def _salvageable(path: Path, limits: DecodeLimits | None) -> Salvaged | None:
    """What ``decode --salvage`` would recover of a damaged file (``codec.salvage_extent``), where some frames are
    lost and some are not; else None."""
    from sancodec.codec import salvage_extent
    from sancodec.codec.limits import DEFAULT_LIMITS

    try:
        with open(path, "rb") as fh:
            extent = salvage_extent(fh, limits or DEFAULT_LIMITS)
    except OSError:
        return None
    return extent if extent is not None and 0 < extent.frames < extent.of else None


def _check_bytes(data: bytes, model: SanSpec | None, limits: DecodeLimits, threads: int | None) -> Checked:
    """:func:`check_file` of a .san's bytes (standard input's), decoded at once."""
    from sancodec.codec import decode_file
    from sancodec.codec.header import file_mode

    if not data:
        raise SanFormatError("standard input held no .san file (it was empty)")
    decoded = decode_file(data, model=model, limits=limits, threads=threads)
    return Checked(shown(Path("-")), True, file_mode(decoded.header), decoded.signal.n_samples,
                   decoded.signal.n_channels, len(data))


@app.command()
@boundary
def check(
    paths: list[str] = typer.Argument(..., help=".san files, or folders (every .san under them); - reads one "
                                      "from standard input; a URL (s3://..., https://...) is read through fsspec."),
    model: Path | None = typer.Option(None, "--model", help="Model JSON or exported folder, for files that only "
                                      "reference one."),
    max_values: int | None = typer.Option(None, "--max-values", help="Check files declaring more samples x channels "
                                          "than their size justifies (see docs/FORMAT.md, Limits)."),
    threads: int | None = typer.Option(None, "--threads", help="Frames decoded at once (default: every core)."),
    json_out: bool = typer.Option(False, "--json", metavar="", help="Print each file's outcome as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", metavar="", help="Print the failures only."),
) -> None:
    """Check that .san files decode whole (every frame's checksum, every lossless channel's sample CRC), writing
    nothing, as flac -t and gzip -t do; exit 1 if any fails."""
    from sancodec.codec.limits import DecodeLimits
    from sancodec.san.spec import load_model

    files = san_files(source_arguments(paths))
    if sum(str(p) == "-" for p in files) > 1:
        raise SanConfigError("standard input (-) can be checked once")
    spec = load_model(model) if model else None
    limits = DecodeLimits() if max_values is None else DecodeLimits(max_values=max_values)
    results: list[Checked] = []
    with_bar = not (quiet or json_out) and len(files) > 1 and progress_console.is_terminal
    with Progress(TextColumn("checking"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=progress_console, disable=not with_bar, transient=True) as bar:
        task = bar.add_task("check", total=len(files))
        for path in files:
            results.append(check_file(path, spec, limits, threads))
            bar.advance(task)
            if not json_out:
                _say(results[-1], quiet)
    failed = sum(not r.ok for r in results)
    if json_out:
        typer.echo(json.dumps({"files": [asdict(r) for r in results], "ok": len(results) - failed, "failed": failed}))
    elif not quiet and len(results) > 1:
        console.print(f"{len(results) - failed} ok, {failed} failed")
    if failed:
        raise typer.Exit(1)


def _say(result: Checked, quiet: bool) -> None:
    """One line for ``result``: a failure on standard error, a file that decoded whole (unless ``quiet``) on
    standard output."""
    if not result.ok:
        typer.echo(f"FAILED {result.error}", err=True)
    elif not quiet:
        console.print(f"ok {result.path} ({result.mode}, {result.samples} x {result.channels} samples, "
                      f"{result.bytes} bytes)", soft_wrap=True)
