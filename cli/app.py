"""The Typer application, shared options and the error boundary.

Every command parses arguments and calls the library. A library error becomes
one line on stderr and exit code 1 (bad data) or 2 (bad usage), never a
traceback unless ``--debug`` is given; outputs are written atomically.
"""

from __future__ import annotations

import contextlib
import functools
import shlex
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import typer

import sancodec
from sancodec._atomic import check_outputs
from sancodec.errors import SancodecError, SancodecWarning, SanConfigError

app = typer.Typer(
    name="sancodec",
    help="Sparsely Activated Networks as a signal codec: encode, decode, inspect and compare recordings.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    rich_markup_mode="markdown",  # docstrings' line breaks reflow; a blank line starts a paragraph
)

_state = {"debug": False}
F = TypeVar("F", bound=Callable[..., Any])


def _print_version(value: bool) -> None:
    if value:
        typer.echo(sancodec.__version__)
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", metavar="", help="Show tracebacks on errors."),
    version: bool = typer.Option(False, "--version", metavar="", callback=_print_version, is_eager=True,
                                 help="Print the sancodec version and exit."),
) -> None:
    _state["debug"] = debug


def fail(message: str, code: int = 1) -> None:
    """Print one error line and exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def said(exc: BaseException) -> tuple[str, int]:
    """The one line (without ``error: ``) and the exit code :func:`boundary` gives a library or OS error: 2 for bad
    usage, 1 otherwise."""
    if isinstance(exc, OSError) and not isinstance(exc, SancodecError):
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return f"{where}{exc.strerror or exc}", 1
    return str(exc), 2 if isinstance(exc, SanConfigError) else 1


def several_into(inputs: Sequence[Path | str], output: Path | None, what: str,
                 target: Callable[[Any], Path]) -> None:
    """Refuse what several inputs cannot share: one ``-o`` file (each needs its own ``what``: -o names a folder, or
    is left out), standard output, standard input (one input alone), or an output that two would write (``target``:
    an input's; a.edf and a.bdf both make a.san, and with --force the second replaced the first)."""
    if len(inputs) < 2:
        return
    refuse_stdin_among(inputs)
    if output is not None and (str(output) == "-" or not output.is_dir()):
        raise SanConfigError(f"{len(inputs)} inputs each make their own {what}: -o names an existing folder to put "
                             f"them in, or leave -o out (got -o {output})")
    seen: dict[Path, Path | str] = {}
    for path in inputs:
        made = target(path)
        if made in seen:
            raise SanConfigError(f"{seen[made]} and {path} would both make {made}: give them apart, or rename one")
        seen[made] = path


def refuse_output_among(inputs: Sequence[Path | str], output: Path | None, command: str,
                        looks_like_output: Callable[[Path], bool]) -> None:
    """Refuse, before any input is read, the slip ``sancodec encode rec out.san`` (``cp``'s order; sancodec takes
    several inputs and names the output with -o): where no -o is given and the last of several inputs is a local
    path that does not exist and ``looks_like_output`` (encode: a .san name), the command would have coded the
    others next to themselves and then said the intended output was missing. The error gives the -o command."""
    if len(inputs) < 2 or output is not None:
        return
    last = inputs[-1]
    if not isinstance(last, Path) or str(last) == "-" or last.exists() or not looks_like_output(last):
        return
    given = " ".join(shlex.quote(str(path)) for path in inputs[:-1])
    raise SanConfigError(f"{last}: no such input (sancodec {command} names its output with -o: sancodec {command} "
                         f"{given} -o {shlex.quote(str(last))})")


def shown(path: Path | str) -> str:
    """How messages name a file argument: its path, or "standard input" for -."""
    return "standard input" if str(path) == "-" else str(path)


def named(message: str, path: Path | str) -> str:
    """``message`` said of the file argument ``path`` (:func:`shown`), unless it names it already."""
    name = shown(path)
    return message if message.startswith(name) else f"{name}: {message}"


def source_arguments(texts: Sequence[str]) -> list[Path | str]:
    """Command-line file arguments as paths, but a URL (``s3://bucket/rec.san``) as the text it is: a path would
    fold its double slash (``info`` and ``check`` read URLs through fsspec, as ``sancodec.open`` does)."""
    from sancodec.stream import is_url

    return [text if is_url(text) else Path(text) for text in texts]


def opened_input(input: Path | str) -> BinaryIO:
    """A file argument opened for reading: a URL through fsspec (``io.remote.opened_url``), else the local file."""
    from sancodec.io.remote import is_url, opened_url

    return opened_url(input) if isinstance(input, str) and is_url(input) else open(input, "rb")


@contextlib.contextmanager
def rewound_input(input: Path | str, opened: BinaryIO | None = None) -> Iterator[BinaryIO]:
    """``input`` opened for reading (:func:`opened_input`, closed after the block), or ``opened``, its file opened
    already (a URL's, opened once for a whole decode), from its start and left open: its opener closes it."""
    if opened is None:
        with opened_input(input) as f:
            yield f
        return
    opened.seek(0)
    yield opened


@contextlib.contextmanager
def fetched_input(source: Path | str, annotators: Sequence[str] = ()) -> Iterator[Path]:
    """A recording argument as a local path: a URL's recording fetched through fsspec into a temporary folder for the
    block's while (``io.remote.fetched``: a WFDB record's files with it, its annotation files of ``annotators`` too),
    else the path itself."""
    from sancodec.io.remote import fetched, is_url

    if not (isinstance(source, str) and is_url(source)):
        yield Path(source)
        return
    with fetched(source, annotators) as local:
        yield local


def annotator_list(text: str | None) -> list[str]:
    """``--annotators``' comma-separated extensions (a leading dot allowed: ``.i,.ii``), checked
    (``io.wfdb.checked_annotators``); none without the option."""
    from sancodec.io.wfdb import checked_annotators

    if text is None:
        return []
    names = [part.strip().removeprefix(".") for part in text.split(",")]
    if not any(names) or "" in names:
        raise SanConfigError(f"--annotators {text!r}: give annotation file extensions separated by commas "
                             "(--annotators i,ii,v1)")
    return checked_annotators(names)


def refuse_stdin_among(inputs: Sequence[Path | str]) -> None:
    """Refuse standard input (-) among several inputs: it is one input alone."""
    if len(inputs) > 1 and any(str(i) == "-" for i in inputs):
        raise SanConfigError("standard input (-) is one input alone")


def each_input(inputs: Sequence[Any], work: Callable[[Any], None]) -> None:
    """``work`` on each of ``inputs``: one alone as ever (its error ends the command); of several, as gzip and flac
    do, each failure said in one ``error:`` line and the others still done, the command then exiting with the
    highest code said."""
    if len(inputs) == 1:
        work(inputs[0])
        return
    worst = 0
    for path in inputs:
        try:
            work(path)
        except (SancodecError, OSError) as exc:
            if _state["debug"]:
                raise
            line, code = said(exc)
            typer.echo(f"error: {line}", err=True)
            worst = max(worst, code)
    if worst:
        raise typer.Exit(worst)


def boundary(fn: F) -> F:
    """Turn library and OS errors into one line and an exit code (2 for bad usage, 1 otherwise)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _say_unasked_slowness()
        try:
            with warnings.catch_warnings():  # (restores showwarning after)
                warnings.simplefilter("always", SancodecWarning)
                warnings.showwarning = _one_line_warning(warnings.showwarning)
                return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except (SancodecError, OSError) as exc:
            if _state["debug"]:
                raise
            fail(*said(exc))
        except Exception as exc:  # a bug or an unforeseen input: still one line, never a traceback
            if _state["debug"]:
                raise
            fail(f"unexpected error ({type(exc).__name__}: {exc}); rerun with --debug for the traceback", 1)

    return wrapper  # type: ignore[return-value]


def _say_unasked_slowness() -> None:
    """A ``warning:`` line on stderr where the numpy reference kernels run unasked (``kernels.unasked_slowness``: an
    install whose C build was skipped), so that a command far slower than it should be says why."""
    from sancodec.codec.kernels import unasked_slowness

    said = unasked_slowness()
    if said is not None:
        typer.echo(f"warning: {said}", err=True)


def _one_line_warning(show: Callable[..., None]) -> Callable[..., None]:
    """``warnings.showwarning`` printing a :class:`SancodecWarning` as one ``warning:`` line on stderr (not Python's
    file, line and source), any other warning as ``show`` does."""
    def shown(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None,
              line: str | None = None) -> None:
        if issubclass(category, SancodecWarning):
            typer.echo(f"warning: {message}", err=True)
        else:
            show(message, category, filename, lineno, file, line)
    return shown


def check_output(path: Path, force: bool, inputs: Sequence[Path | str] = ()) -> None:
    """Refuse to overwrite without --force, to write over an input, and fail early on a missing folder."""
    check_outputs([path], force, inputs)


def input_files(path: Path, annotators: Sequence[str] = ()) -> list[Path]:
    """The files a recording argument stands for: all of a WFDB record's files (its named ``annotators``' too), or the
    file itself."""
    from sancodec.io.wfdb import record_files

    return [path, *record_files(path, annotators=annotators)]


@app.command()
def version(build: bool = typer.Option(False, "--build", metavar="", help="Also say whether the compiled kernels are "
                                       "in use, and from where.")) -> None:
    """Print the sancodec version."""
    typer.echo(sancodec.__version__)
    if build:
        from sancodec.codec.kernels import status

        typer.echo(status())


def main(argv: list[str] | None = None) -> None:
    """Console entry point (``sancodec`` and ``python -m sancodec``)."""
    from sancodec.cli import codec_commands, model_commands  # noqa: F401  (register commands)

    try:
        app(args=argv)
    except KeyboardInterrupt:
        typer.echo("aborted", err=True)
        sys.exit(130)
