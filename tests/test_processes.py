"""Lossy channels on worker processes (``codec.processes``, ``encode(..., processes=True)``, ``--processes``): the
same bytes as on threads, errors that come back as themselves, a dead worker that is an error, not a hang."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from typer.testing import CliRunner

import sancodec
from sancodec import SancodecError, SanConfigError, Signal, read_signal
from sancodec.cli import app
from sancodec.codec import api, lossy, lossyfile, processes

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module", autouse=True)
def _stopped_after():
    yield
    processes.shutdown()


def _three_leads() -> Signal:
    """macecgdb test01_00s's four leads (4000 samples at 250 Hz) less the last."""
    sig = read_signal(DATA / "test01_00s")
    return Signal(sig.samples[:, :3].astype(np.int64), sig.fs, sig.channel_names[:3], sig.units[:3])


@pytest.mark.parametrize("effort", ["balanced", "fast"])
def test_channels_on_processes_code_the_same_file_as_on_threads(monkeypatch, effort):
    sig = _three_leads()
    used = []
    real = lossyfile.ordered_map_processes
    monkeypatch.setattr(lossyfile, "ordered_map_processes", lambda *a: used.append(a[2]) or real(*a))
    on_processes = sancodec.encode(sig, mode="lossy", prdn=3, effort=effort, threads=2, processes=True)
    on_threads = sancodec.encode(sig, mode="lossy", prdn=3, effort=effort, threads=2)
    assert used == [2]  # two workers took the three channels
    assert on_processes == on_threads
    back = sancodec.decode(on_processes).samples
    for ch in range(3):
        assert sancodec.metrics.prdn(sig.samples[:, ch], back[:, ch]) <= 3


def test_one_thread_or_one_channel_codes_without_processes(monkeypatch):
    monkeypatch.setattr(lossyfile, "ordered_map_processes", lambda *a: pytest.fail("no process was needed"))
    sig = _three_leads()
    sancodec.encode(sig, mode="lossy", prdn=3, effort="fast", threads=1, processes=True)
    one = Signal(sig.samples[:, :1], sig.fs, sig.channel_names[:1], sig.units[:1])
    sancodec.encode(one, mode="lossy", prdn=3, effort="fast", threads=2, processes=True)


def test_an_error_in_a_worker_comes_back_as_itself():
    with pytest.raises(SanConfigError, match="effort"):
        list(processes.ordered_map_processes(lossy.check_effort, ["best", "thorough"], 2))


def test_a_worker_that_dies_is_an_error_and_the_next_call_starts_afresh():
    with pytest.raises(SancodecError, match="worker process stopped"):
        list(processes.ordered_map_processes(os._exit, [3, 3], 2))
    assert list(processes.ordered_map_processes(abs, [-1, -2, 3], 2)) == [1, 2, 3]


def _no_pool(workers):
    raise OSError("this platform lacks a functioning sem_open implementation")


@pytest.mark.parametrize("why", ["daemonic", "no semaphores"])
def test_where_no_worker_can_start_the_channels_go_on_threads(monkeypatch, why):
    """A multiprocessing pool's worker (daemonic: it may not have children) or a platform without process
    semaphores codes the same file on threads."""
    if why == "daemonic":
        monkeypatch.setattr(processes.multiprocessing, "current_process", lambda: SimpleNamespace(daemon=True))
    else:
        monkeypatch.setattr(processes, "_pool", _no_pool)
    assert processes.ordered_map_processes(abs, [-1], 2) is None
    sig = _three_leads()
    on_threads = sancodec.encode(sig, mode="lossy", prdn=3, effort="fast", threads=2)
    assert sancodec.encode(sig, mode="lossy", prdn=3, effort="fast", threads=2, processes=True) == on_threads


def test_processes_are_refused_outside_lossy_mode():
    sig = _three_leads()
    with pytest.raises(SanConfigError, match=r"processes \(--processes\) applies to lossy mode"):
        api.encode(sig, mode="lossless", processes=True)


def test_the_cli_codes_channels_on_processes_and_refuses_them_outside_lossy_mode(tmp_path):
    runner = CliRunner()
    rec = DATA / "test01_00s"
    a, b = tmp_path / "a.san", tmp_path / "b.san"
    base = ["encode", str(rec), "--mode", "lossy", "--prdn", "4", "--effort", "fast", "--threads", "2", "-q"]
    assert runner.invoke(app, [*base, "-o", str(a), "--processes"]).exit_code == 0
    assert runner.invoke(app, [*base, "-o", str(b)]).exit_code == 0
    assert a.read_bytes() == b.read_bytes()
    res = runner.invoke(app, ["encode", str(rec), "-o", str(tmp_path / "c.san"), "--processes"])
    assert res.exit_code != 0 and "--processes applies to lossy mode" in res.output
    assert not (tmp_path / "c.san").exists()


def test_a_record_read_a_block_at_a_time_codes_the_same_file_on_processes(monkeypatch):
    """``api.encode_lossy_blocks`` (a long record, never held whole) with each block's channels on processes: the
    file threads make, block for block."""
    monkeypatch.setattr(lossyfile, "LOSSY_BLOCK", 1 << 12)  # read where the blocks are cut: in this process
    sig = read_signal(DATA / "test01_00s")
    x = np.concatenate([sig.samples] * 3)[:11000].astype(np.int64)
    like = Signal(x[:1], sig.fs, sig.channel_names, sig.units)

    def read(rows: int):
        return (x[lo : lo + rows] for lo in range(0, len(x), rows))

    options = {"prdn": 4.0, "effort": "balanced", "frame_len": 1 << 11, "threads": 2}
    on_processes = api.encode_lossy_blocks(like, len(x), read, processes=True, **options)
    assert on_processes is not None and on_processes == api.encode_lossy_blocks(like, len(x), read, **options)
