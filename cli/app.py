"""The Typer application and its error boundary.

Every command parses arguments and calls the library; a :class:`SancodecError`
becomes one line on stderr and exit code 1 (2 for usage errors), never a
traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

import sancodec
from sancodec.errors import SancodecError, SanConfigError

app = typer.Typer(
    name="sancodec",
    help="Sparsely Activated Networks as a signal codec.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)

_state = {"debug": False}


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


@app.command()
def version() -> None:
    """Print the sancodec version."""
    typer.echo(sancodec.__version__)


@app.command()
def sweep(
    record: Annotated[Path, typer.Argument(help="WFDB record (base path, .hea or .dat) or .npy signal.")],
    channel: Annotated[int, typer.Option(help="Channel index.")] = 0,
    activation: Annotated[
        list[str] | None, typer.Option("--activation", "-a", help="Repeat for several; default all four.")
    ] = None,
    m_min: Annotated[int, typer.Option(help="Smallest kernel size.")] = 1,
    m_max: Annotated[int, typer.Option(help="Largest kernel size.")] = 250,
    epochs: Annotated[int, typer.Option(help="Epochs per model.")] = 20,
    batch_size: Annotated[int, typer.Option(help="Mini-batch size.")] = 2,
    seeds: Annotated[int, typer.Option(help="Seeds to average (selection uses their mean).")] = 1,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Write every row as CSV here.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Kernel-size sweep with the paper's Table I protocol (12 x 1000 samples, 6/2/4 split)."""
    from sancodec.activations import ACTIVATIONS
    from sancodec.loaders import read_channel
    from sancodec.segments import paper_segments
    from sancodec.train import sweep as run_sweep

    if m_min < 1 or m_max < m_min:
        raise SanConfigError(f"need 1 <= --m-min <= --m-max, got {m_min}..{m_max}")
    x = read_channel(record, channel)
    train, val, test = paper_segments(x)
    result = run_sweep(
        train, val, test,
        activations=activation or ACTIVATIONS,
        kernel_sizes=range(m_min, m_max + 1),
        epochs=epochs, batch_size=batch_size, seeds=tuple(range(seeds)),
        device=device, progress=not quiet,
    )
    if csv_out is not None:
        sancodec.write_text_atomic(csv_out, result.to_csv())
    typer.echo(result.to_markdown())
    typer.echo(f"{result.seconds:.1f} s on {result.device}")


def main(argv: list[str] | None = None) -> None:
    """Console entry point with the error boundary."""
    try:
        app(args=argv, standalone_mode=False)
    except SancodecError as exc:
        if _state["debug"]:
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2 if isinstance(exc, SanConfigError) else 1)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(130)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
