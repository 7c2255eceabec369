"""benchmarks/bench_row_reads.py times one-row reads with the frames reads decoded kept and without: kept, the
reads of one frame decode it once; not kept, each read decodes it again (the benchmark compares like with like)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import sancodec
from sancodec import stream

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_row_reads  # noqa: E402


def test_one_pass_reads_a_frame_once_where_kept_and_again_where_not(tmp_path):
    path = tmp_path / "f.san"
    path.write_bytes(sancodec.encode(sancodec.Signal(np.arange(5000)[:, None] % 97, fs=100.0)))
    assert bench_row_reads.one_pass(path, 50, stream.CACHE_BYTES)[1] == 1
    assert bench_row_reads.one_pass(path, 50, 0)[1] == 50


def test_frame_lengths_weighs_each_length_next_to_flac(capsys):
    """``--frame-lens``: a row per frame length (the file's bytes grow as frames shrink: each holds its own tables)
    and FLAC's row last."""
    signal = sancodec.Signal((np.sin(np.arange(20_000) / 9.0)[:, None] * [300, 200]).astype(np.int64), fs=360.0)
    bench_row_reads.frame_lengths(signal, [8192, 1024], [5, 19_999, 4000], 1)
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines() if line.startswith("| .san")]
    assert [r[0] for r in rows] == ["| .san lossless, --frame-len 8192", "| .san lossless, --frame-len 1024"]
    assert int(rows[0][1]) < int(rows[1][1])
