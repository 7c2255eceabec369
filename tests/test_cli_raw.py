"""``sancodec encode --raw TYPE:CHANNELS``: headerless interleaved samples from a file or a pipe, coded as they are
read (``io.raw``, ``cli.streaming.stream_raw``)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

import sancodec
from sancodec.cli import app
from sancodec.io.raw import RAW_TYPES, RawReader, raw_layout
from sancodec.metrics import prdn

runner = CliRunner()


def values_of(kind: str, rows: int, channels: int, seed: int = 0) -> np.ndarray:
    """A random walk within the type's range, rows x channels, in the type numpy reads it into."""
    size, holder = RAW_TYPES[kind]
    bits = 8 * size
    low, high = (0, 2**bits - 1) if kind.startswith("u") else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    high = min(high, 2**40)  # (int64: walks within a range the codec holds exactly)
    low = max(low, -(2**40))
    walk = np.cumsum(np.random.default_rng(seed).integers(-3, 4, (rows, channels)), axis=0) + (low + high) // 2
    return np.clip(walk, low, high).astype(holder)


def raw_bytes(x: np.ndarray, kind: str, big: bool = False) -> bytes:
    """``x`` laid out as a raw stream of ``kind``."""
    order = ">" if big else "<"
    if kind != "int24":
        return x.astype(order + RAW_TYPES[kind][1]).tobytes()
    b = x.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]
    return (b[:, ::-1] if big else b).tobytes()


@pytest.mark.parametrize("kind", list(RAW_TYPES))
@pytest.mark.parametrize("big", [False, True])
def test_every_type_comes_back_exactly(tmp_path, kind, big):
    x = values_of(kind, 3000, 3)
    (tmp_path / "d.bin").write_bytes(raw_bytes(x, kind, big))
    res = runner.invoke(app, ["encode", str(tmp_path / "d.bin"), "--raw", f"{'>' if big else ''}{kind}:3",
                              "--fs", "250", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["samples"] == 3000 and summary["channels"] == 3 and summary["output"].endswith("d.bin.san")
    res = runner.invoke(app, ["decode", str(tmp_path / "d.bin.san"), "-o", str(tmp_path / "d.npy"), "-q"])
    assert res.exit_code == 0, res.output
    back = np.load(tmp_path / "d.npy")
    assert back.dtype == np.dtype(RAW_TYPES[kind][1]) and np.array_equal(back, x)
    res = runner.invoke(app, ["decode", str(tmp_path / "d.bin.san"), "-q"])  # by default: the raw file again
    assert res.exit_code == 0, res.output
    assert (tmp_path / "d.bin_decoded.bin").read_bytes() == (tmp_path / "d.bin").read_bytes()
    res = runner.invoke(app, ["info", str(tmp_path / "d.bin.san")])
    assert f"raw {kind}, {'big' if big else 'little'}-endian" in res.output


def test_a_pipe_is_coded_as_it_comes_in_pieces(tmp_path, mitdb_100):
    """A real pipe, written in pieces of odd sizes (rows cut anywhere): the samples come back; the file is the one
    the same bytes make from a file of them."""
    x = sancodec.read_signal(mitdb_100).samples[:200_000].astype(np.int16)
    data = raw_bytes(x, "int16")
    out = tmp_path / "p.san"
    proc = subprocess.Popen([sys.executable, "-m", "sancodec", "encode", "-", "--raw", "int16:2", "--fs", "360",
                             "-o", str(out), "-q"], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    for s in range(0, len(data), 7777):
        proc.stdin.write(data[s : s + 7777])
        proc.stdin.flush()
    proc.stdin.close()
    assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
    with sancodec.open(out) as f:
        assert np.array_equal(f.read(), x)


def test_lossy_from_standard_input_meets_the_target(tmp_path, mitdb_100):
    x = sancodec.read_signal(mitdb_100).samples[:150_000]
    res = runner.invoke(app, ["encode", "-", "--raw", "int16:2", "--fs", "360", "--mode", "lossy", "--prdn", "3",
                              "--frame-len", str(1 << 16), "-o", str(tmp_path / "l.san"), "--json"],
                        input=raw_bytes(x, "int16"))
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["mode"] == "lossy" and max(summary["prdn_per_channel"]) <= 3.0
    back = sancodec.decode((tmp_path / "l.san").read_bytes()).samples
    got = [prdn(x[:, ch].astype(np.float64), back[:, ch].astype(np.float64)) for ch in range(2)]
    assert max(got) <= 3.0 and got == pytest.approx(summary["prdn_per_channel"], abs=2e-6)


def test_channels_picked_and_a_cut_last_row(tmp_path):
    x = values_of("int16", 5000, 4, seed=1)
    data = raw_bytes(x, "int16") + b"\x01\x02\x03"  # three bytes of a fifth row of eight
    res = runner.invoke(app, ["encode", "-", "--raw", "int16:4", "--fs", "500", "--channels", "3,1",
                              "-o", str(tmp_path / "c.san"), "-q"], input=data)
    assert res.exit_code == 0, res.output
    assert "the input ended 3 bytes into a row of 8; those bytes were left out" in res.stderr
    with sancodec.open(tmp_path / "c.san") as f:
        assert np.array_equal(f.read(), x[:, [3, 1]])


@pytest.mark.parametrize("args, message", [
    (["--raw", "float32"], "must be one of int8"),
    (["--raw", "int16:0"], "whole number from 1"),
    (["--raw", "int16:x"], "whole number from 1"),
    (["--raw", "int16:2", "--fs", "0"], "must be positive"),
    (["--raw", "int16:2"], "give it with --fs"),
    (["--raw", "int16:2", "--fs", "360", "--keep-header-text"], "have none"),
    (["--raw", "int16:2", "--fs", "360", "--mode", "lossy", "--prdn", "2", "--processes"], "as they are read"),
    (["--raw", "int16:2", "--fs", "360", "--channels", "2"], "outside"),
])
def test_raw_options_that_cannot_go_are_one_line_errors(tmp_path, args, message):
    (tmp_path / "d.bin").write_bytes(raw_bytes(values_of("int16", 100, 2), "int16"))
    res = runner.invoke(app, ["encode", str(tmp_path / "d.bin"), *args])
    assert res.exit_code != 0 and message in res.output and "Traceback" not in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.bin"]
    res = runner.invoke(app, ["encode", "-", "--raw", "int16:2", "--fs", "360", "-o", "-"], input=b"\0" * 8)
    assert res.exit_code != 0 and "give -o FILE" in res.output


def test_a_stream_refused_midway_leaves_no_file(tmp_path):
    """Values the codec cannot hold (past 2^53) in the last block: an error, and nothing written."""
    x = values_of("int64", 70_000, 1)
    x[-5:] = 2**60
    (tmp_path / "big.bin").write_bytes(raw_bytes(x, "int64"))
    res = runner.invoke(app, ["encode", str(tmp_path / "big.bin"), "--raw", "int64", "--fs", "100"])
    assert res.exit_code != 0 and "2**53" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.bin"]


class Trickle(io.RawIOBase):
    """A pipe that gives at most a few bytes a read."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at, self.reads = data, 0, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        take = min(size, 1 + self.reads % 5)
        part = self.data[self.at : self.at + take]
        self.at += len(part)
        return part


def test_the_reader_takes_short_reads_and_yields_blocks_of_whole_rows():
    x = values_of("int24", 1000, 3, seed=2)
    reader = RawReader(Trickle(raw_bytes(x, "int24") + b"\x07"), raw_layout("i3:3"), rows=128)
    blocks = list(reader)
    assert [len(b) for b in blocks] == [128] * 7 + [104] and reader.left_over == 1 and reader.rows_read == 1000
    assert np.array_equal(np.concatenate(blocks), x)


def test_a_lossy_raw_file_decodes_to_its_layout_clipped_and_other_sources_are_not_raw(tmp_path, mitdb_100):
    """A lossy decode laid out as its raw source (a .raw keeps its suffix), its overshoot clipped to the type's range
    (never wrapped); a record from another format is refused as raw output, nothing written."""
    t = np.arange(40_000)[:, None] / 360
    wave = 40_000 * np.sin(2 * np.pi * np.array([1.1, 0.7]) * t) + np.random.default_rng(4).normal(0, 300, (40_000, 2))
    x = np.clip(wave, -32768, 32767).astype(np.int16)
    (tmp_path / "c.raw").write_bytes(raw_bytes(x, "int16", big=True))  # railed at both ends: a lossy overshoot
    res = runner.invoke(app, ["encode", str(tmp_path / "c.raw"), "--raw", ">int16:2", "--fs", "360", "--mode", "lossy",
                              "--prdn", "5", "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["decode", str(tmp_path / "c.raw.san"), "-q"])
    assert res.exit_code == 0, res.output
    back = np.frombuffer((tmp_path / "c.raw_decoded.raw").read_bytes(), dtype=">i2").reshape(-1, 2)
    assert back.shape == x.shape and max(prdn(x[:, c].astype(float), back[:, c].astype(float)) for c in (0, 1)) <= 5
    decoded = sancodec.decode((tmp_path / "c.raw.san").read_bytes()).samples
    assert decoded.max() > 32767 and decoded.min() < -32768  # the reconstruction overshoots the type's range ...
    assert (back[x == 32767] > 0).all() and (back[x == -32768] < 0).all()  # ... clipped, never wrapped
    sancodec.write_signal(sancodec.read_signal(mitdb_100).slice(0, 1000), tmp_path / "r")
    assert runner.invoke(app, ["encode", str(tmp_path / "r"), "-q"]).exit_code == 0
    res = runner.invoke(app, ["decode", str(tmp_path / "r.san"), "-o", str(tmp_path / "r.bin")])
    assert res.exit_code != 0 and "raw output writes samples back as a raw source" in res.output
    assert not (tmp_path / "r.bin").exists()


def test_report_reads_raw_samples_beside_their_san(tmp_path, mitdb_100):
    """``report --raw``: the raw file as ``encode --raw`` read it, compared with its .san (the rate taken from it) or
    coded now (with --fs)."""
    x = sancodec.read_signal(mitdb_100).samples[:30_000].astype(np.int16)
    (tmp_path / "r.bin").write_bytes(raw_bytes(x, "int16"))
    assert runner.invoke(app, ["encode", str(tmp_path / "r.bin"), "--raw", "int16:2", "--fs", "360", "--mode",
                               "lossy", "--prdn", "2", "-q"]).exit_code == 0
    res = runner.invoke(app, ["report", str(tmp_path / "r.bin"), str(tmp_path / "r.bin.san"), "--raw", "int16:2",
                              "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    back = sancodec.decode((tmp_path / "r.bin.san").read_bytes()).samples
    assert report["n_samples"] == 30_000 and report["original_bytes"] == 120_000
    assert report["prdn"] == pytest.approx(max(prdn(x[:, c].astype(float), back[:, c].astype(float)) for c in (0, 1)),
                                           abs=0.02)
    res = runner.invoke(app, ["report", str(tmp_path / "r.bin"), "--raw", "int16:2", "--fs", "360", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["prdn"] == 0.0  # lossless, coded now
    res = runner.invoke(app, ["report", str(tmp_path / "r.bin"), "--raw", "int16:2"])
    assert res.exit_code != 0 and "--fs" in res.output


@pytest.mark.parametrize("raw, said", [({"type": "int99", "big_endian": False, "suffix": ".bin"}, "refused"),
                                       ({"type": "int16", "big_endian": "yes", "suffix": ".bin"}, "refused"),
                                       ({"type": "int16", "big_endian": True, "suffix": "/../../x"}, ".bin")])
def test_a_raw_layout_a_header_lies_about_is_refused_or_named_safely(tmp_path, raw, said):
    """A .san whose header (its checksums whole) holds a raw layout no reader wrote: a type or byte order that is
    none is refused as raw output in one line, nothing written; a suffix that is none of .bin and .raw (a path out of
    the folder) names nothing: the output takes .bin."""
    from sancodec.io.arrays import npy_source

    x = values_of("int16", 500, 1)
    signal = sancodec.Signal(x, 100.0, ["a"], ["NU"], source={**npy_source(x), "raw": raw})
    (tmp_path / "h.san").write_bytes(sancodec.encode(signal))
    out = tmp_path / "out"
    out.mkdir()
    res = runner.invoke(app, ["decode", str(tmp_path / "h.san"), "-o", str(out)])
    if said == "refused":
        assert res.exit_code != 0 and "raw output writes samples back as a raw source" in res.output
        assert list(out.iterdir()) == []
    else:
        assert res.exit_code == 0, res.output
        assert [p.name for p in out.iterdir()] == ["h.bin"]
        assert (out / "h.bin").read_bytes() == x.astype(">i2").tobytes()


def test_raw_outputs_that_exist_are_left_without_force(tmp_path):
    x = values_of("int16", 500, 2)
    (tmp_path / "d.bin").write_bytes(raw_bytes(x, "int16"))
    (tmp_path / "d.bin.san").write_bytes(b"kept")
    res = runner.invoke(app, ["encode", str(tmp_path / "d.bin"), "--raw", "int16:2", "--fs", "100"])
    assert res.exit_code != 0 and "already exists" in res.output and (tmp_path / "d.bin.san").read_bytes() == b"kept"
    assert runner.invoke(app, ["encode", str(tmp_path / "d.bin"), "--raw", "int16:2", "--fs", "100", "-f",
                               "-q"]).exit_code == 0
    (tmp_path / "back.bin").write_bytes(b"kept")
    res = runner.invoke(app, ["decode", str(tmp_path / "d.bin.san"), "-o", str(tmp_path / "back.bin")])
    assert res.exit_code != 0 and "already exists" in res.output and (tmp_path / "back.bin").read_bytes() == b"kept"
