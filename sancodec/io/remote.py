"""A recording at a URL (``s3://bucket/night.edf``, ``https://host/db/100``), fetched through fsspec into a local
folder with every file it is made of, so that the readers take it as a local one: a WFDB record's header, the signal
files it lists (a multi-segment record's segments too) and its annotations; any other recording, its one file.

The readers need whole files (edfio, wfdb-python), and an encode reads a whole recording anyway, so nothing is
lost by fetching first; ``sancodec.open`` reads a ``.san`` at a URL in place, a frame at a time.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TypeGuard

from sancodec.errors import SancodecError, SanConfigError, SanFormatError
from sancodec.io.wfdb import ANNOTATION_EXTENSIONS
from sancodec.io.wfdb_names import RECORD_NAME

__all__ = ["fetched", "fetched_recording", "is_url", "opened_url", "url_name"]

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+://")  # a scheme of two letters or more: "C://x" stays a path
MAX_FILES = 10_000  # a multi-segment record's files fetched at most (its segments' headers name the rest)


def is_url(path: object) -> TypeGuard[str]:
    """Whether ``path`` is a URL (``s3://``, ``https://``, ``memory://``...) read through fsspec, not a local
    path."""
    return isinstance(path, str) and _URL.match(path) is not None


def url_name(url: str) -> str:
    """A URL's last part, its query left out: what the local copy, and an encode's output, are named after."""
    return url.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or "url"


def opened_url(url: str) -> BinaryIO:
    """``url`` opened for reading through fsspec (its filesystem's package installed: s3fs for ``s3://``); a
    :class:`SanConfigError` where fsspec or that package is missing or the scheme unknown, a
    :class:`SanFormatError` where the file cannot be read."""
    fs, path = _filesystem(url)
    try:
        return fs.open(path, "rb")
    except OSError as exc:
        raise SanFormatError(f"{url}: cannot be read ({exc.strerror or exc})") from None


@contextlib.contextmanager
def fetched(url: str, annotators: Sequence[str] = ()) -> Iterator[Path]:
    """The recording at ``url`` fetched into a temporary folder (:func:`fetched_recording`, ``annotators`` its) for
    the block's while: the local path that names it. A :class:`SancodecError` raised in the block that names the
    temporary folder (a reader's refusal of a file there) names the URL's folder instead."""
    with tempfile.TemporaryDirectory(prefix="sancodec-fetched-") as folder:
        try:
            yield fetched_recording(url, Path(folder), annotators)
        except SancodecError as exc:
            said = str(exc)
            if folder not in said:
                raise
            there = url.split("?")[0].rstrip("/").rsplit("/", 1)[0]
            raise type(exc)(said.replace(folder, there)) from None


def fetched_recording(url: str, folder: Path, annotators: Sequence[str] = ()) -> Path:
    """The recording at ``url`` fetched into ``folder`` (as :mod:`sancodec.io.remote` says; a WFDB record's annotation
    files of ``annotators`` too, each required), and the local path that names it as ``url`` did (``rec``, ``rec.hea``
    or ``night.edf``); a :class:`SanConfigError` where fsspec or the scheme's package is missing, a
    :class:`SanFormatError` where a file cannot be read."""
    fs, path = _filesystem(url)
    name = url_name(url)
    folder_url = posixpath.dirname(path.split("?")[0].rstrip("/"))
    base, suffix = posixpath.splitext(name)
    if suffix in (".hea", ".dat") or (not suffix and _exists(fs, f"{folder_url}/{name}.hea")):
        record = base if suffix else name
        _fetch_record(fs, folder_url, record, folder, [0], annotators)
        return folder / name
    _fetch(fs, f"{folder_url}/{name}" if folder_url else name, folder / name, required=True)
    return folder / name


def _filesystem(url: str) -> tuple[Any, str]:
    """fsspec's filesystem for ``url`` and the path within it."""
    try:
        import fsspec
    except ImportError:
        raise SanConfigError(f"{url}: reading a URL needs fsspec (pip install fsspec, and s3fs for s3://, gcsfs for "
                             "gs://...)") from None
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:  # a scheme without its package, or unknown
        raise SanConfigError(f"{url}: {exc}") from None


def _exists(fs: Any, path: str) -> bool:
    try:
        return bool(fs.exists(path))
    except OSError:
        return False


def _fetch(fs: Any, path: str, local: Path, required: bool) -> bool:
    """``path`` copied to ``local``; False where it is missing and not ``required`` (else a SanFormatError)."""
    try:
        with fs.open(path, "rb") as remote, open(local, "wb") as out:
            while chunk := remote.read(1 << 22):
                out.write(chunk)
        return True
    except FileNotFoundError:
        local.unlink(missing_ok=True)
        if required:
            raise SanFormatError(f"{fs.unstrip_protocol(path)}: no such file") from None
        return False
    except OSError as exc:
        local.unlink(missing_ok=True)
        raise SanFormatError(f"{fs.unstrip_protocol(path)}: cannot be read ({exc.strerror or exc})") from None


def _fetch_record(fs: Any, folder_url: str, record: str, folder: Path, count: list[int],
                  annotators: Sequence[str] = ()) -> None:
    """WFDB record ``record`` of ``folder_url`` fetched into ``folder``: its header, the signal files it lists, a
    multi-segment record's segments (each a record of its own), its annotation files where there are any, and those
    of ``annotators`` (each required)."""
    import wfdb

    if not RECORD_NAME.fullmatch(record):
        raise SanFormatError(f"{record!r}: not a WFDB record name")
    prefix = f"{folder_url}/" if folder_url else ""
    _counted(count)
    _fetch(fs, f"{prefix}{record}.hea", folder / f"{record}.hea", required=True)
    try:
        head = wfdb.rdheader(str(folder / record))
    except Exception:  # noqa: BLE001 - the reader says what is wrong with the header, from the local copy
        return
    for name in dict.fromkeys(getattr(head, "file_name", None) or []):
        if name in (None, "~"):  # (a layout header's channels hold no file)
            continue
        if not RECORD_NAME.fullmatch(posixpath.splitext(str(name))[0]) or "/" in str(name):
            raise SanFormatError(f"{record}.hea: signal file {name!r} is not a file beside its header")
        _counted(count)
        _fetch(fs, f"{prefix}{name}", folder / str(name), required=True)
    for segment in getattr(head, "seg_name", None) or []:
        if str(segment) != "~" and not (folder / f"{segment}.hea").exists():
            _fetch_record(fs, folder_url, str(segment), folder, count)
    for ext in ANNOTATION_EXTENSIONS:
        _fetch(fs, f"{prefix}{record}.{ext}", folder / f"{record}.{ext}", required=False)
    for ext in annotators:
        if ext not in ANNOTATION_EXTENSIONS:
            _counted(count)
            _fetch(fs, f"{prefix}{record}.{ext}", folder / f"{record}.{ext}", required=True)


def _counted(count: list[int]) -> None:
    count[0] += 1
    if count[0] > MAX_FILES:
        raise SanFormatError(f"a record of more than {MAX_FILES} files is not fetched")
