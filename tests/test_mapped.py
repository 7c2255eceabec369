"""Arrays mapped from new files (``sancodec._mapped``): their blocks are taken on disk when they are made, so that a
full disk is one error naming the output, never a SIGBUS ("Bus error", exit 135) when a page of a sparse file is
first written, which killed ``decode`` to EDF, WAV, ``.npy`` or CSV on a nearly full disk and left its temporary
folder behind (seen on a 2 MB tmpfs)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import sancodec
from sancodec import _mapped, read_signal
from sancodec.cli import app

runner = CliRunner()


def test_a_new_mapped_array_has_its_blocks_allocated(tmp_path, monkeypatch):
    """posix_fallocate is asked for the whole file (its header and every value); the array is a writable ``.npy``."""
    asked: list[tuple[int, int]] = []
    real = os.posix_fallocate

    def fallocate(fd: int, offset: int, length: int) -> None:
        asked.append((offset, length))
        real(fd, offset, length)

    monkeypatch.setattr(os, "posix_fallocate", fallocate)
    array = _mapped.new_mapped_npy(tmp_path / "a.npy", np.int64, (1000, 3))
    array[:] = 7
    array.flush()
    size = (tmp_path / "a.npy").stat().st_size
    assert asked == [(0, size)] and size >= 24_000
    assert (np.load(tmp_path / "a.npy") == 7).all()


def test_a_filesystem_that_cannot_allocate_ahead_gets_a_sparse_array_as_before(tmp_path, monkeypatch):
    def cannot(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(os, "posix_fallocate", cannot)
    array = _mapped.new_mapped_npy(tmp_path / "a.npy", np.float64, (10, 2))
    array[:] = 1.5
    assert array.shape == (10, 2)


@pytest.mark.parametrize("fmt", ["edf", "wav", "npy", "csv", "physical csv", "physical npy"])
def test_decode_on_a_full_disk_is_one_error_naming_the_output_and_leaves_nothing(tmp_path, monkeypatch, fmt):
    """A disk with no room for the decode's mapped array (posix_fallocate answering ENOSPC, as a full tmpfs does):
    ``decode`` says "No space left on device" of the output in one line, exit 1; no output, no temporary folder."""
    record = read_signal(Path(sancodec.__file__).parent / "data" / "samples" / "100").slice(0, 3000)
    san = tmp_path / "rec.san"
    san.write_bytes(sancodec.encode(record))
    out = tmp_path / "out"
    out.mkdir()
    suffix = fmt.split()[-1]
    calls: list[int] = []

    def full(fd: int, offset: int, length: int) -> None:
        calls.append(length)
        if len(calls) == (2 if fmt.startswith("physical") else 1):  # (--physical: its values' array, the second)
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full)
    res = runner.invoke(app, ["decode", str(san), "-o", str(out / f"back.{suffix}"),
                              *(["--physical"] if fmt.startswith("physical") else [])])
    assert res.exit_code == 1, res.output
    assert res.stderr.strip() == f"error: {out / f'back.{suffix}'}: No space left on device", res.output
    assert list(out.iterdir()) == []


def test_decode_to_standard_output_on_a_full_temporary_disk_is_one_error_and_writes_nothing(tmp_path, monkeypatch):
    """``decode -o -`` maps its decode in the temporary folder: a full disk there is the one error naming it, exit 1,
    nothing on standard output (a pipe never gets half a .npy)."""
    import tempfile

    record = read_signal(Path(sancodec.__file__).parent / "data" / "samples" / "100").slice(0, 3000)
    san = tmp_path / "rec.san"
    san.write_bytes(sancodec.encode(record))

    def full(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    res = runner.invoke(app, ["decode", str(san), "-o", "-"])
    assert res.exit_code == 1 and res.stdout_bytes == b"", res.output
    assert res.stderr.strip() == f"error: {tmp_path / 'sancodec-stdout.npy'}: No space left on device"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.san"]
