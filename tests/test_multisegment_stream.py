"""A multi-segment WFDB record (MIMIC's waveform records: a layout header, segments carrying some of its channels,
gaps between them) encoded a block of rows at a time (``io.wfdb_multi_stream``), never read whole: the very ``.san``
of the record read whole (``io.wfdb_multi.read_multisegment``), in every mode, with ``--channels`` too; a record with
a segment that does not stream (several rates) read whole as before."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import wfdb
from multisegment_records import write_fixed, write_multifrequency, write_variable
from typer.testing import CliRunner

import sancodec
from sancodec.cli import app

SAMPLES = Path(__file__).parent.parent / "sancodec" / "data" / "samples" / "multisegment"


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def _mimic_like(folder: Path, name: str = "3000009") -> None:
    """A MIMIC-III-style record: a layout of II, V, ABP, PLETH; format 80 segments carrying some of them in their own
    order; a leading gap and gaps between them; segments of odd lengths."""
    layout = (f"{name}_layout 4 125 0 10:44:18.529\n~ 0 29/mV 8 0 0 0 0 II\n~ 0 24/mV 8 0 0 0 0 V\n"
              "~ 0 1(-128)/mmHg 8 0 0 0 0 ABP\n~ 0 100/NU 8 0 0 0 0 PLETH\n")
    (folder / f"{name}_layout.hea").write_text(layout)
    rng = np.random.default_rng(21)
    shapes = [("0001", ["II", "ABP"], 1501), ("0002", ["PLETH", "V", "II"], 999), ("0003", ["ABP"], 2000),
              ("0004", ["II", "V", "ABP", "PLETH"], 3333)]
    lines = [f"{name}/{len(shapes) + 3} 4 125 {75 + 1501 + 999 + 40 + 2000 + 3333}", f"{name}_layout 0", "~ 75"]
    for k, (suffix, names, n) in enumerate(shapes):
        data = np.clip(np.cumsum(rng.integers(-3, 4, (n, len(names))), axis=0), -127, 127)
        data[n // 3 : n // 3 + 5, 0] = -128  # (a dropout)
        wfdb.wrsamp(f"{name}_{suffix}", fs=125, units=["mV"] * len(names), sig_name=names, d_signal=data,
                    fmt=["80"] * len(names), adc_gain=[29.0] * len(names), baseline=[0] * len(names),
                    write_dir=str(folder))
        lines.append(f"{name}_{suffix} {n}")
        if k == 1:
            lines.append("~ 40")
    (folder / f"{name}.hea").write_text("\n".join(lines) + "\n#Location: micu\n")


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("ms")
    write_fixed(folder)
    write_variable(folder)
    write_multifrequency(folder)
    _mimic_like(folder)
    for f in SAMPLES.glob("ms100*"):
        shutil.copy(f, folder / f.name)
    return {"fixed": folder / "041s", "variable": folder / "s25047", "mimic": folder / "3000009",
            "ms100": folder / "ms100", "multirate": folder / "mf"}


MODES = [[], ["--mode", "near-lossless", "--max-error", "2"]]


@pytest.mark.parametrize("kind", ["fixed", "variable", "mimic", "ms100"])
@pytest.mark.parametrize("mode", MODES, ids=["lossless", "near"])
@pytest.mark.parametrize("picked", [None, "1,0"])
def test_a_multisegment_record_streams_to_the_bytes_of_reading_it_whole(records, tmp_path, monkeypatch, kind, mode,
                                                                        picked):
    from sancodec import io
    from sancodec.io import wfdb_multi

    base = records[kind]
    options = {"mode": "near-lossless", "max_error": 2} if mode else {}
    read = sancodec.read_signal(base)
    whole = sancodec.encode(read if picked is None else read.select_channels([1, 0]), **options)
    monkeypatch.setattr(io, "read_signal", lambda *a, **kw: pytest.fail("read whole"))
    monkeypatch.setattr(wfdb_multi, "read_multisegment", lambda *a, **kw: pytest.fail("read whole"))
    res = run("encode", base, "-o", tmp_path / "s.san", "-q", *mode, *(["--channels", picked] if picked else []))
    assert res.exit_code == 0, res.output
    assert (tmp_path / "s.san").read_bytes() == whole
    if picked is None and not mode:  # and back (lossless): the same segments
        monkeypatch.undo()
        assert run("decode", tmp_path / "s.san", "-o", tmp_path / "back", "-q").exit_code == 0
        back = sancodec.read_signal(tmp_path / "back")
        unnamed = lambda segments: [{k: v for k, v in e.items() if k != "file_name"} for e in segments]  # noqa: E731
        assert np.array_equal(back.samples, read.samples)
        assert unnamed(back.source["segments"]) == unnamed(read.source["segments"])  # (named after the output)


def test_a_long_record_in_lossy_mode_goes_a_block_at_a_time(records, tmp_path, monkeypatch):
    """Past one lossy block (made small here), the record's rows laid out a block at a time for every pass the lossy
    coder makes (``api.encode_lossy_blocks``): the bytes of coding it read whole. (A block where a channel is all gap,
    MIMIC's, is coded by reading the record whole, as that coder asks.)"""
    from sancodec import io
    from sancodec.codec import api, lossyfile

    monkeypatch.setattr(lossyfile, "LOSSY_BLOCK", 1 << 10)
    base = records["fixed"]
    whole = sancodec.encode(sancodec.read_signal(base), mode="lossy", prdn=4.0, frame_len=512)
    blockwise = api.encode_lossy_blocks
    made: list[bool] = []
    monkeypatch.setattr(api, "encode_lossy_blocks", lambda *a, **k: made.append(True) or blockwise(*a, **k))
    monkeypatch.setattr(io, "read_signal", lambda *a, **kw: pytest.fail("read whole"))
    res = run("encode", base, "-o", tmp_path / "l.san", "-q", "--mode", "lossy", "--prdn", "4", "--frame-len", "512")
    assert res.exit_code == 0, res.output
    assert made == [True] and (tmp_path / "l.san").read_bytes() == whole


def test_a_record_with_a_segment_of_several_rates_is_read_whole(records, tmp_path):
    from sancodec.io.wfdb_multi_stream import multisegment_stream

    assert multisegment_stream(records["multirate"]) is None
    res = run("encode", records["multirate"], "-o", tmp_path / "m.san", "-q")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "m.san").read_bytes() == sancodec.encode(sancodec.read_signal(records["multirate"]))


def test_a_damaged_segment_is_warned_of_once_and_kept_as_read(records, tmp_path):
    """A segment whose samples miss its header's checksum: one warning naming it, as reading the record whole says
    (the segments' checksums are not kept in a multi-segment record's file), and the same bytes."""
    folder = tmp_path / "dmg"
    shutil.copytree(records["variable"].parent, folder)
    dat = folder / "s25047_0002.dat"
    raw = bytearray(dat.read_bytes())
    raw[0] ^= 0x01
    dat.write_bytes(bytes(raw))
    with pytest.warns(sancodec.SancodecWarning, match="s25047_0002.hea: channel 0"):
        whole = sancodec.encode(sancodec.read_signal(folder / "s25047"))
    res = run("encode", folder / "s25047", "-o", tmp_path / "d.san")
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())
    assert said.count("s25047_0002.hea: channel 0") == 1 and (tmp_path / "d.san").read_bytes() == whole


@pytest.mark.parametrize("kind", ["fixed", "variable", "mimic", "ms100"])
@pytest.mark.parametrize("mode", [[], ["--mode", "lossy", "--prdn", "5"]], ids=["lossless", "lossy"])
def test_a_multisegment_file_decodes_to_wfdb_a_block_at_a_time_as_the_whole_writer_writes_it(records, tmp_path,
                                                                                              monkeypatch, kind, mode):
    """``decode`` of a multi-segment record's file to WFDB: each segment a single-segment record written a block at a
    time (``wfdb_stream.write_blocks``), then the layout and master headers and the annotations: the very files that
    decoding it whole and writing that makes (``io.wfdb_multi.write_segments``), never held whole."""
    from sancodec.io import wfdb_multi

    san = tmp_path / "r.san"
    assert run("encode", records[kind], "-o", san, "-q", *mode).exit_code == 0
    whole = tmp_path / "whole"
    whole.mkdir()
    sancodec.write_signal(sancodec.decode(san.read_bytes()), whole / "rec", format="wfdb")
    monkeypatch.setattr(wfdb_multi, "write_segments", lambda *a, **kw: pytest.fail("written whole"))
    monkeypatch.setattr(sancodec, "decode", lambda *a, **kw: pytest.fail("decoded whole"))
    out = tmp_path / "out"
    out.mkdir()
    res = run("decode", san, "-o", out / "rec", "-q")
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in whole.iterdir())
    assert names == sorted(p.name for p in out.iterdir()) and len(names) > 3
    for name in names:
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name
    if not mode:  # lossless: every segment's signal file as it was
        for f in records[kind].parent.glob(f"{records[kind].name}_*.dat"):
            written = out / f.name.replace(records[kind].name, "rec", 1)
            assert written.read_bytes() == f.read_bytes(), f.name


def _segments(header: dict) -> list[dict]:
    return header["signal"]["source"]["segments"]


LIES = {  # a .san header's segment map changed (its CRCs valid): what the streamed writer is given
    "frames": lambda h: _segments(h)[2].__setitem__("frames", _segments(h)[2]["frames"] + 1),
    "channels": lambda h: _segments(h)[2].__setitem__("channels", [0, 9]),
    "names": lambda h: _segments(h)[2].__setitem__("sig_name", ["x" * 300] * len(_segments(h)[2]["fmt"])),
    "gain": lambda h: _segments(h)[2].__setitem__("adc_gain", [0.0] * len(_segments(h)[2]["fmt"])),
    "time": lambda h: _segments(h)[2].__setitem__("base_time", "25:99"),
    "format": lambda h: _segments(h)[2].__setitem__("fmt", ["16"] * len(_segments(h)[2]["fmt"])),
    "layout": lambda h: h["signal"]["source"].__setitem__("layout", "fixed"),
}


@pytest.mark.parametrize("lie", sorted(LIES))
@pytest.mark.parametrize("ranged", [None, (100, 6001)], ids=["whole", "range"])
def test_a_lying_segment_map_is_refused_or_written_as_the_whole_writer_does(records, tmp_path, lie, ranged):
    """A segment map a decoder must not trust: the streamed writer refuses what the whole writer refuses (one line,
    nothing left but the input; a segment's channel names that the layout does not hold, which a record read back
    would refuse, among them), and writes the same files where that one writes them (another format); a range of the
    record (its map cut to it) alike."""
    import copy
    import json

    from common import with_header_bytes

    from sancodec.codec.container import SanReader

    data = sancodec.encode(sancodec.read_signal(records["mimic"]))
    header = copy.deepcopy(SanReader(data).header)
    LIES[lie](header)
    bad = with_header_bytes(data, json.dumps(header).encode(), 0)
    (tmp_path / "x.san").write_bytes(bad)
    whole = tmp_path / "whole"
    whole.mkdir()
    lo, hi = ranged or (None, None)
    try:
        sancodec.write_signal(sancodec.codec.decode_file(bad, lo, hi).signal, whole / "rec", format="wfdb")
    except sancodec.SancodecError:
        pass
    out = tmp_path / "out"
    out.mkdir()
    res = run("decode", tmp_path / "x.san", "-o", out / "rec", "-q", *(["--start", lo, "--end", hi] if ranged else []))
    written = sorted(p.name for p in whole.iterdir())
    assert sorted(p.name for p in out.iterdir()) == written
    if not written:
        assert res.exit_code != 0 and "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
    else:
        assert res.exit_code == 0 and all((out / n).read_bytes() == (whole / n).read_bytes() for n in written)


@pytest.mark.parametrize("kind", ["fixed", "variable", "mimic"])
@pytest.mark.parametrize("picked", ["1", "2,0", "V,II"])
def test_a_pick_of_a_multisegment_file_decodes_to_wfdb_a_block_at_a_time(records, tmp_path, monkeypatch, kind,
                                                                        picked):
    """``decode --channels`` of a multi-segment record's file to WFDB: its segment map picked as
    ``Signal.select_channels`` picks it (a fixed layout's pick that reorders becomes a variable one), each segment
    written a block at a time: the files of picking them from the whole decode."""
    from sancodec.decoded_output import channel_indices
    from sancodec.io import wfdb_multi

    san = tmp_path / "r.san"
    assert run("encode", records[kind], "-o", san, "-q").exit_code == 0
    decoded = sancodec.decode(san.read_bytes())
    wanted = channel_indices(decoded.channel_names, picked)
    whole = tmp_path / "whole"
    whole.mkdir()
    sancodec.write_signal(decoded.select_channels(wanted), whole / "rec", format="wfdb")
    monkeypatch.setattr(wfdb_multi, "write_segments", lambda *a, **kw: pytest.fail("written whole"))
    out = tmp_path / "out"
    out.mkdir()
    res = run("decode", san, "-o", out / "rec", "--channels", picked, "-q")
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in whole.iterdir())
    assert names == sorted(p.name for p in out.iterdir())
    for name in names:
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name


def test_an_existing_record_is_kept_without_force(records, tmp_path):
    """The streamed writers' outputs (a multi-segment record's files, a range of one) are refused where one exists,
    without ``--force``: one line, the files as they were; with it, written."""
    san = tmp_path / "r.san"
    assert run("encode", records["mimic"], "-o", san, "-q").exit_code == 0
    for args in ([], ["--start", "10s", "--end", "40s"]):
        out = tmp_path / f"out{len(args)}"
        out.mkdir()
        assert run("decode", san, "-o", out / "rec", "-q", *args).exit_code == 0
        before = {p.name: p.read_bytes() for p in out.iterdir()}
        (out / "rec_0001.dat").write_bytes(b"kept")
        res = run("decode", san, "-o", out / "rec", "-q", *args)
        assert res.exit_code != 0 and "already exists (use --force to overwrite)" in res.output
        assert (out / "rec_0001.dat").read_bytes() == b"kept"
        assert run("decode", san, "-o", out / "rec", "-q", "-f", *args).exit_code == 0
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
