"""Atomic file writes: write a temp file beside the target, then ``os.replace``.

A failure midway leaves no partial output and never clobbers an existing file. Temp names
are short (``.san-XXXXXXXX.tmp``) so a target name of any legal length works; files are
created with mode 0666 and the kernel applies the umask (no process-wide umask change).
A multi-file output (a WFDB record) is written into a temp folder and moved into place under
an exclusive lock on the target folder, so concurrent writers never leave a mixed record. Where
there is no flock (Windows), writers of one process still take turns; those of several do not.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from sancodec.errors import SanConfigError

try:
    import fcntl
except ImportError:  # Windows: sancodec still imports, reads and writes (folder_lock says how far it locks)
    fcntl = None  # type: ignore[assignment]

__all__ = ["check_outputs", "folder_lock", "move_into_place", "said_of_output", "temp_folder", "write_bytes_atomic",
           "write_file_atomic", "write_text_atomic"]

_SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")  # numpy's ndarray.tofile, which no errno comes with

#: the errors only a write gives (a full disk or quota, a file past the size allowed), whose OSError names no file
WRITE_ERRNOS = frozenset(e for e in (errno.ENOSPC, getattr(errno, "EDQUOT", None), errno.EFBIG) if e is not None)


def _temp_name(folder: Path, suffix: str = ".tmp") -> Path:
    return folder / f".san-{secrets.token_hex(4)}{suffix}"


_IN_PROCESS = threading.Lock()  # folder_lock where there is no flock


def _fsync_folder(folder: Path) -> None:
    if os.name == "nt":  # a folder cannot be opened, nor synced, there: its entries go to disk with the files
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _said_of(target: Path) -> Iterator[None]:
    """An OSError inside said of ``target``, the path the caller named, not of the temp file or folder beside it
    that failed ("/proc/x.san: No such file or directory", not "/proc/.san-1f2e3d4c.tmp: ..."), nor of nothing (a
    full disk's write names no file)."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None and Path(exc.filename) == target:
            raise
        raise _of(exc, target) from None


def _of(exc: OSError, target: Path) -> OSError:
    """``exc`` said of ``target``: its type, errno and words, ``target`` its file."""
    return type(exc)(exc.errno, exc.strerror or str(exc), str(target))


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, *, fsync: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically; ``fsync`` also flushes the file and its folder to disk."""
    return write_file_atomic(path, lambda fh: fh.write(data), fsync=fsync)


def write_file_atomic(path: str | os.PathLike[str], write: Callable[[BinaryIO], object], *,
                      fsync: bool = False) -> Path:
    """What ``write`` writes to the open file it is handed, put at ``path`` atomically (a file written a piece at a
    time, never held whole in memory, nor half-written at ``path``); ``fsync`` as :func:`write_bytes_atomic`'s."""
    target = Path(path)
    tmp = _temp_name(target.parent)
    with _said_of(target):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
                if fsync:
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(tmp, target)
            if fsync:
                _fsync_folder(target.parent)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return target


def write_text_atomic(path: str | os.PathLike[str], text: str, *, fsync: bool = False) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return write_bytes_atomic(path, text.encode("utf-8"), fsync=fsync)


@contextlib.contextmanager
def said_of_output(target: Path, folder: Path) -> Iterator[None]:
    """An OSError of the work writing ``target`` through the temp ``folder`` said of ``target``: one naming a file in
    ``folder`` ("/data/.san-1f2e3d4c.d/r.dat: No space left on device" is "/data/r: ..."), or naming none where only a
    write gives it (:data:`WRITE_ERRNOS`: a full disk said "No space left on device" and no more). Any other, of an
    input read meanwhile, as it was."""
    try:
        yield
    except OSError as exc:
        name = exc.filename
        inside = isinstance(name, (str, bytes, os.PathLike)) and folder in Path(os.fsdecode(name)).parents
        if inside or (name is None and exc.errno in WRITE_ERRNOS):
            raise _of(exc, target) from None
        if name is None and exc.errno is None and _SHORT_WRITE.fullmatch(str(exc)):  # numpy's tofile, on a full disk
            raise OSError(None, f"could not write it all ({exc}): is the disk full?", str(target)) from None
        raise


@contextlib.contextmanager
def temp_folder(beside: Path) -> Iterator[Path]:
    """A fresh hidden folder in ``beside``'s folder, removed on exit with whatever is left in it; what fails inside
    while writing is said of ``beside`` (:func:`said_of_output`)."""
    folder = _temp_name(beside.parent, ".d")
    with _said_of(beside):
        folder.mkdir()
    try:
        with said_of_output(beside, folder):
            yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``folder`` (flock on the folder itself: no lock file left behind); where there
    is no flock (Windows), a lock of this process alone."""
    if fcntl is None:
        with _IN_PROCESS:
            yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def move_into_place(files: list[tuple[Path, Path]], *, fsync: bool = False) -> list[Path]:
    """Rename every (temp, target) pair under the target folder's lock: readers and other writers
    see the old set or the new one, never a mix of two writers' files."""
    if not files:
        return []
    folder = files[0][1].parent
    if fsync:
        for tmp, _ in files:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    with folder_lock(folder):
        for tmp, target in files:
            with _said_of(target):
                os.replace(tmp, target)
    if fsync:
        _fsync_folder(folder)
    return [target for _, target in files]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(paths: Sequence[Path], force: bool, inputs: Sequence[Path | str] = ()) -> None:
    """Every file a command would write: none may be one of its inputs (with or without --force,
    as flac and gzip refuse; a URL input, text, is none of them), none may exist without --force, and their folder
    must exist."""
    local = [i for i in inputs if isinstance(i, Path)]
    for path in paths:
        if any(_same_file(path, i) or path.resolve() == i.resolve() for i in local):
            raise SanConfigError(f"{path}: is also an input of this command; choose another output")
        if path.is_dir():  # --force replaces files, never a folder (it failed on a temp file's name)
            raise SanConfigError(f"{path}: is a directory; give the output file's name")
        if path.exists() and not force:
            raise SanConfigError(f"{path}: already exists (use --force to overwrite)")
        if not path.parent.exists():
            raise SanConfigError(f"{path.parent}: output folder does not exist")
