"""Multi-segment WFDB records (issue 15 item 5): read as one Signal keeping segments, per-segment
channels and gaps; encoded, decoded and written back as multi-segment records."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import wfdb
from multisegment_records import write_fixed, write_multifrequency, write_variable
from typer.testing import CliRunner

import sancodec
from sancodec.batch import find_inputs
from sancodec.cli import app
from sancodec.errors import SanFormatError
from sancodec.io.wfdb import record_files

FIELDS = ("sig_name", "units", "adc_gain", "baseline", "fmt", "adc_res", "adc_zero")


def _written_segments(base: Path) -> list[tuple[str, int]]:
    head = wfdb.rdheader(str(base))
    return [(str(n), int(v)) for n, v in zip(head.seg_name, head.seg_len)]


def _round_trip(tmp_path: Path, name: str, out: str) -> tuple[sancodec.Signal, sancodec.Signal, Path]:
    """Read ``name``, encode, decode, write as ``out`` and read that back."""
    signal = sancodec.read_signal(tmp_path / name)
    decoded = sancodec.decode(sancodec.encode(signal))
    sancodec.write_signal(decoded, tmp_path / "out" / out)
    return signal, sancodec.read_signal(tmp_path / "out" / out), tmp_path / "out" / out


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "out").mkdir()
    return tmp_path


def test_fixed_layout_reads_as_wfdb_joins_it_and_writes_back_segment_for_segment(folder):
    parts = write_fixed(folder)
    signal, back, out = _round_trip(folder, "041s", "fixed")
    joined = wfdb.rdrecord(str(folder / "041s"), physical=False, m2s=True)
    assert np.array_equal(signal.samples, joined.d_signal)
    assert signal.source["layout"] == "fixed" and [e["frames"] for e in signal.source["segments"]] == [1000, 1000]
    assert (signal.base_time, signal.base_date, signal.comments) == ("08:26:04", "1994-10-26",
                                                                     ["a fixed-layout test record"])
    assert _written_segments(out) == [("fixed_0001", 1000), ("fixed_0002", 1000)]
    assert np.array_equal(back.samples, signal.samples)
    for k, original in enumerate(parts.values(), start=1):
        seg = wfdb.rdrecord(str(folder / "out" / f"fixed_000{k}"), physical=False)
        mine = wfdb.rdrecord(str(folder / f"041s0{k}"), physical=False)
        assert np.array_equal(seg.d_signal, original)
        assert [getattr(seg, f) for f in FIELDS] == [getattr(mine, f) for f in FIELDS]  # I's gain differs per segment
    assert (back.base_time, back.base_date, back.comments) == (signal.base_time, signal.base_date, signal.comments)


def test_variable_layout_keeps_gaps_channels_per_segment_and_the_layout_header(folder):
    parts = write_variable(folder)
    signal, back, out = _round_trip(folder, "s25047", "var")
    joined = wfdb.rdrecord(str(folder / "s25047"), physical=False, m2s=True)
    assert np.array_equal(signal.samples, joined.d_signal)
    assert signal.channel_names == ["II", "V", "ABP"]
    assert [(e["frames"], e["channels"]) for e in signal.source["segments"]] == [
        (50, []), (400, [0, 2]), (250, [1]), (125, []), (600, [2, 0, 1])]
    assert np.all(signal.samples[:50] == -32768)  # a gap holds format 16's invalid-sample value, as in wfdb
    assert _written_segments(out) == [("var_layout", 0), ("~", 50), ("var_0001", 400), ("var_0002", 250),
                                      ("~", 125), ("var_0003", 600)]
    assert wfdb.rdrecord(str(out), physical=False, m2s=False).layout == "variable"
    assert np.array_equal(back.samples, signal.samples)
    for (seg, original), k in zip(parts.items(), (1, 2, 3)):
        written = wfdb.rdrecord(str(folder / "out" / f"var_000{k}"), physical=False)
        source = wfdb.rdrecord(str(folder / seg), physical=False)
        assert np.array_equal(written.d_signal, original)
        assert [getattr(written, f) for f in FIELDS] == [getattr(source, f) for f in FIELDS]
    layout, theirs = wfdb.rdheader(str(folder / "out" / "var_layout")), wfdb.rdheader(str(folder / "s25047_layout"))
    for field in ("sig_name", "adc_gain", "baseline", "units", "adc_res", "adc_zero", "init_value", "base_time"):
        assert getattr(layout, field) == getattr(theirs, field), field
    assert back.comments == ["Location: micu"] and back.base_time == signal.base_time


def test_channels_at_several_rates_keep_them_in_every_segment(folder):
    parts = write_multifrequency(folder)
    signal, back, _ = _round_trip(folder, "mf", "mf")
    assert signal.samples_per_frame == [4, 1] and signal.fs == 500.0
    for ch in (0, 1):
        assert np.array_equal(signal.channel(ch, physical=False), np.concatenate([p[ch] for p in parts.values()]))
    assert np.array_equal(back.samples, signal.samples)
    written = wfdb.rdrecord(str(folder / "out" / "mf_0002"), physical=False, smooth_frames=False)
    assert written.samps_per_frame == [4, 1] and np.array_equal(written.e_d_signal[0], parts["mf02"][0])


def test_rates_that_do_not_divide_the_fastest_keep_them_in_every_segment(folder):
    """Segments of 5 and 2 samples per frame (a frame of 10 rows, format 1.14) read, code and write back."""
    parts = write_multifrequency(folder, spf=(5, 2))
    signal, back, _ = _round_trip(folder, "mf", "mf")
    assert signal.samples_per_frame == [5, 2] and signal.frame_size == 10 and signal.fs == 1250.0
    for ch in (0, 1):
        assert np.array_equal(signal.channel(ch, physical=False), np.concatenate([p[ch] for p in parts.values()]))
    assert np.array_equal(back.samples, signal.samples)
    written = wfdb.rdrecord(str(folder / "out" / "mf_0002"), physical=False, smooth_frames=False)
    assert written.samps_per_frame == [5, 2] and np.array_equal(written.e_d_signal[1], parts["mf02"][1])


def test_a_slice_and_a_choice_of_channels_carry_a_matching_segment_map(folder):
    write_variable(folder)
    signal = sancodec.read_signal(folder / "s25047")
    data = sancodec.encode(signal)
    part = sancodec.decode(data, 300, 900)
    assert [(e["frames"], e["channels"]) for e in part.source["segments"]] == [
        (150, [0, 2]), (250, [1]), (125, []), (75, [2, 0, 1])]
    sancodec.write_signal(part, folder / "out" / "part")
    assert np.array_equal(sancodec.read_signal(folder / "out" / "part").samples, signal.samples[300:900])
    picked = signal.select_channels([2, 0])
    assert [(e["frames"], e["channels"]) for e in picked.source["segments"]] == [
        (50, []), (400, [1, 0]), (250, []), (125, []), (600, [0, 1])]
    sancodec.write_signal(picked, folder / "out" / "picked")
    expected = wfdb.rdrecord(str(folder / "s25047"), physical=False, channels=[2, 0])
    assert np.array_equal(sancodec.read_signal(folder / "out" / "picked").samples, expected.d_signal)


def test_the_cli_encodes_and_decodes_a_multisegment_record(folder):
    write_variable(folder)
    runner = CliRunner()
    san = folder / "out" / "v.san"
    assert runner.invoke(app, ["encode", str(folder / "s25047"), "-o", str(san)]).exit_code == 0
    info = runner.invoke(app, ["info", str(san)])
    assert "multi-segment, variable layout: 3 segments, 2 gaps" in " ".join(info.output.split())
    result = runner.invoke(app, ["decode", str(san), "-o", str(folder / "out" / "v")])
    assert result.exit_code == 0, result.output
    assert np.array_equal(sancodec.read_signal(folder / "out" / "v").samples,
                          sancodec.read_signal(folder / "s25047").samples)
    assert {p.name for p in (folder / "out").iterdir()} == {
        "v.san", "v.hea", "v_layout.hea", *(f"v_000{k}.{e}" for k in (1, 2, 3) for e in ("hea", "dat"))}


def test_batch_finds_the_master_record_not_its_segments(folder):
    write_variable(folder)
    write_fixed(folder)
    shutil.copy(Path(sancodec.__file__).parent / "data" / "samples" / "100.hea", folder)
    found = [p.name for p in find_inputs(folder)]
    assert found == ["041s", "100", "s25047"]
    protected = {p.name for p in record_files(folder / "s25047")}
    assert {"s25047.hea", "s25047_layout.hea", "s25047_0001.dat", "s25047_0003.hea"} <= protected


def _edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


@pytest.mark.parametrize(("old", "new", "total", "message"), [
    ("s25047_0002 250", "../s25047_0002 250", 1425, "unreadable WFDB header|not a record name"),
    ("s25047_0002 250", "s25047_0002 251", 1426, "the master header says 251"),
    ("~ 125", "~ 90000000", 1300 + 90000000, "filler"),
    ("s25047_0002 250", "s25047_0002 250\ns25047_0002 250", 1425, "the record says 1425"),
])
def test_a_broken_master_header_is_refused(folder, old, new, total, message):
    write_variable(folder)
    _edit(folder / "s25047.hea", old, new)
    _edit(folder / "s25047.hea", " 125 1425 ", f" 125 {total} ")
    with pytest.raises(SanFormatError, match=message):
        sancodec.read_signal(folder / "s25047")


def test_a_segment_with_a_channel_the_layout_lacks_is_refused(folder):
    write_variable(folder)
    _edit(folder / "s25047_layout.hea", " V\n", " AVR\n")
    with pytest.raises(SanFormatError, match="in the layout"):
        sancodec.read_signal(folder / "s25047")


@pytest.mark.parametrize("damage", [
    lambda s: s["segments"][1].update(frames=401),
    lambda s: s["segments"][1].update(channels=[0, 7]),
    lambda s: s["segments"][2].update(adc_gain=["x"]),
    lambda s: s["segments"][4].pop("units"),
    lambda s: s.update(layout="diagonal"),
])
def test_a_damaged_segment_map_from_a_san_header_is_refused_on_writing(folder, damage):
    write_variable(folder)
    signal = sancodec.read_signal(folder / "s25047")
    damage(signal.source)
    with pytest.raises(SanFormatError, match="multi-segment map"):
        sancodec.write_signal(signal, folder / "out" / "bad")
    assert not any((folder / "out").iterdir())


def test_the_bundled_sample_round_trips_through_the_cli_to_the_same_signal_files(tmp_path):
    sample = Path(sancodec.__file__).parent / "data" / "samples" / "multisegment" / "ms100"
    signal = sancodec.read_signal(sample)
    assert np.array_equal(signal.samples, wfdb.rdrecord(str(sample), physical=False, m2s=True).d_signal)
    runner = CliRunner()
    assert runner.invoke(app, ["encode", str(sample), "-o", str(tmp_path / "ms.san"), "-q"]).exit_code == 0
    assert runner.invoke(app, ["decode", str(tmp_path / "ms.san"), "-o", str(tmp_path / "ms100"), "-q"]).exit_code == 0
    assert (tmp_path / "ms.san").stat().st_size < 0.5 * sum(p.stat().st_size for p in record_files(sample))
    for name in ("ms100_0001.dat", "ms100_0002.dat", "ms100_0003.dat", "ms100.hea"):
        assert (tmp_path / name).read_bytes() == sample.with_name(name).read_bytes(), name


def test_a_layout_channel_no_segment_carries_is_kept_as_invalid_samples(folder):
    write_variable(folder)
    _edit(folder / "s25047_layout.hea", "s25047_layout 3 ", "s25047_layout 4 ")
    with open(folder / "s25047_layout.hea", "a") as f:
        f.write("~ 0 100(0)/NU 12 0 0 0 0 PLETH\n")
    signal = sancodec.read_signal(folder / "s25047")
    assert signal.channel_names == ["II", "V", "ABP", "PLETH"] and np.all(signal.samples[:, 3] == -32768)
    sancodec.write_signal(sancodec.decode(sancodec.encode(signal)), folder / "out" / "four")
    back = sancodec.read_signal(folder / "out" / "four")
    assert back.channel_names == signal.channel_names and np.array_equal(back.samples, signal.samples)
    assert wfdb.rdheader(str(folder / "out" / "four_layout")).sig_name == ["II", "V", "ABP", "PLETH"]


def test_decoding_over_any_existing_segment_file_needs_force(folder):
    write_variable(folder)
    runner = CliRunner()
    san = folder / "out" / "v.san"
    assert runner.invoke(app, ["encode", str(folder / "s25047"), "-o", str(san), "-q"]).exit_code == 0
    (folder / "out" / "v_0002.dat").write_bytes(b"keep me")  # one segment's signal file is already there
    refused = runner.invoke(app, ["decode", str(san), "-o", str(folder / "out" / "v"), "-q"])
    assert refused.exit_code != 0 and "--force" in refused.output
    assert (folder / "out" / "v_0002.dat").read_bytes() == b"keep me" and not (folder / "out" / "v.hea").exists()
    forced = runner.invoke(app, ["decode", str(san), "-o", str(folder / "out" / "v"), "-q", "--force"])
    assert forced.exit_code == 0, forced.output
    assert np.array_equal(sancodec.read_signal(folder / "out" / "v").samples,
                          sancodec.read_signal(folder / "s25047").samples)


def test_a_multisegment_record_streamed_as_decimals_is_written_as_one_record_of_those_values(folder):
    """Its segments' gains were for other integers: a stream of its millivolts at declared decimals drops the
    segment map and decodes to one WFDB record at 1000 units per mV, the same values (it had read back mV off)."""
    write_fixed(folder)
    sig = sancodec.read_signal(folder / "041s")
    mv = np.round(sig.physical(), 3)
    with sancodec.open(folder / "m.san", "w", like=sig, decimals=3) as f:
        f.write(mv)
    sancodec.write_signal(sancodec.decode((folder / "m.san").read_bytes()), folder / "back")
    back = sancodec.read_signal(folder / "back")
    assert back.adc_gain == [1000.0] * 3 and not (back.source or {}).get("segments")
    assert np.array_equal(back.physical(), mv)


def test_batch_finds_inputs_whatever_the_case_of_their_suffix(tmp_path):
    """X.EDF, DATA.NPY and R.SAN are found as x.edf, data.npy and r.san are (a DATA.NPY had been skipped);
    a folder named like a file is not."""
    for name in ("X.EDF", "b.bdf", "DATA.NPY", "t.Csv", "R.SAN", "q.san", "h.WAV"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "dir.edf").mkdir()
    assert [p.name for p in find_inputs(tmp_path, npy=True, csv=True)] == ["DATA.NPY", "X.EDF", "b.bdf", "h.WAV",
                                                                         "t.Csv"]
    assert [p.name for p in find_inputs(tmp_path)] == ["X.EDF", "b.bdf", "h.WAV"]
    assert [p.name for p in find_inputs(tmp_path, decode=True)] == ["R.SAN", "q.san"]


@pytest.mark.parametrize(("line", "counter", "part"), [("360/100(5)", [100, 5], (100, 1005)),
                                                       ("360/62.4725", [62.4725], (62.4725, 624.725))])
def test_a_master_headers_counter_comes_back(tmp_path, line, counter, part):
    """A multi-segment record's counter frequency and base counter value (on its master header's record line) were
    dropped, as a single record's were before; now kept (``counter``) and written back, the master header byte for
    byte; a range starts its count at its first row."""
    sample = Path(sancodec.__file__).parent / "data" / "samples" / "multisegment"
    for f in sample.glob("ms100*"):
        shutil.copy(f, tmp_path / f.name)
    master = tmp_path / "ms100.hea"
    master.write_text(master.read_text().replace("ms100/5 2 360 9720", f"ms100/5 2 {line} 9720"))
    signal = sancodec.read_signal(tmp_path / "ms100")
    assert signal.source["counter"] == counter
    (tmp_path / "out").mkdir()
    data = sancodec.encode(signal)
    sancodec.write_signal(sancodec.decode(data), tmp_path / "out" / "ms100")
    assert (tmp_path / "out" / "ms100.hea").read_bytes() == master.read_bytes()
    sancodec.write_signal(sancodec.decode(data, start=3600, end=7200), tmp_path / "out" / "part")
    head = wfdb.rdheader(str(tmp_path / "out" / "part"))
    assert (head.counter_freq, head.base_counter) == pytest.approx(part) and head.seg_len == [0, 720, 2880]
