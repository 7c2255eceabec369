"""Golden .san files pin the format: decoding them and re-encoding their source must not change.

Regenerate (only after an intended format change, with a version bump; move the old files
to a ``vX.Y`` folder first, where they stay as decode-only fixtures):
    SANCODEC_REGENERATE_GOLDEN=1 .venv/bin/pytest tests/test_golden.py
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from common import check_backwards_compatibility, expected_minor

import sancodec
import sancodec.metrics
from sancodec import SanSpec, load_model, read_signal, save_model
from sancodec.codec.container import SanReader
from sancodec.codec.entropy import ByteReader
from sancodec.codec.interchannel import nested_difference
from sancodec.codec.lossy import needs_minor
from sancodec.codec.waveletframe import ADAPTIVE_PARENT, BAND_LPC, DEPENDENT, MAINS, TAP_SECOND

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
REGENERATE = os.environ.get("SANCODEC_REGENERATE_GOLDEN") == "1"
CASES = {
    "test01_00s_lossless.san": {"mode": "lossless"},
    "test01_00s_near2.san": {"mode": "near-lossless", "max_error": 2},
    "test01_00s_lossy.san": {"mode": "san"},
    # One 4000-sample frame: long enough that the encoder picks linear prediction (format 1.1).
    "test01_00s_lossless_lpc.san": {"mode": "lossless", "frame_len": 4096, "n": 4000},
    # EMG on a 50/3-unit grid: the value-table path (format 1.1), two frames.
    "emg_healthy_lossless_table.san": {"mode": "lossless", "frame_len": 4096, "n": 8000, "record": "emg_healthy"},
    # The model's normalisation decides what the SAN sees (san/normalization.py).
    "test01_00s_lossy_none.san": {"mode": "san", "normalization": {"kind": "none"}},
    "test01_00s_lossy_affine.san": {"mode": "san", "normalization": {"kind": "affine", "offset": 40, "scale": 25}},
    # Lossy at a quality target (format 1.2): wavelet frames, every channel at PRDN <= 3 %.
    "test01_00s_lossy_prdn3.san": {"mode": "lossy", "effort": "best", "prdn": 3.0},
    # Lossy with the beat template (1.2): mitdb 100, first 20 000 samples, PRDN <= 9 %.
    "mitdb100_lossy_beats.san": {"mode": "lossy", "effort": "best", "prdn": 9.0, "n": 20000, "record": "mitdb100",
                                 "frame_len": 32768},
    # Constant frames (1.3): channel 1 held at its first value (a lead off), the others as recorded.
    "test01_00s_lossless_constant.san": {"mode": "lossless", "flat_channel": 1},
    # Inter-channel prediction (1.3): channels 2 and 3 derived from 0 and 1 as limb leads III and aVR are.
    "test01_00s_lossless_cross.san": {"mode": "lossless", "derived_leads": True},
    # The sign-sign LMS stage and long-term prediction (1.4): mitdb 100, first 20 000 samples, one frame.
    "mitdb100_lossless_lms.san": {"mode": "lossless", "n": 20000, "record": "mitdb100", "frame_len": 32768},
    # Wavelet bands coded apart, the long ones under running contexts (1.5): mitdb 100, 150 000 samples, PRDN 5 %.
    "mitdb100_lossy_bands.san": {"mode": "lossy", "effort": "best", "prdn": 5.0, "n": 150000, "record": "mitdb100",
                                 "frame_len": 1 << 20},
    # A lossy channel coded in the time domain on a coarser grid (1.6) beside a wavelet one: CTG 1001's fetal
    # heart rate and uterine contractions, first 4000 samples, PRDN 2 %.
    "ctg1001_lossy_grid.san": {"mode": "lossy", "effort": "best", "prdn": 2.0, "n": 4000, "record": "1001",
                               "frame_len": 2048},
    # A lossy file's exact channels predicted from each other (1.6): test01_00s with derived leads, PRDN 0.5 %.
    "test01_00s_lossy_cross.san": {"mode": "lossy", "effort": "best", "prdn": 0.5, "derived_leads": True},
    # Lossy channels coded as their difference from earlier decoded ones (1.10): test01_00s with derived leads,
    # PRDN 5 %: the difference of one coded as wavelets, of the other exactly (path 5 around paths 3 and 0).
    "test01_00s_lossy_leads.san": {"mode": "lossy", "effort": "best", "prdn": 5.0, "derived_leads": True},
    # Running contexts with the split by the last token (1.5): EMG, first 20 000 samples, one frame.
    "emg_healthy_lossless_running.san": {"mode": "lossless", "n": 20000, "record": "emg_healthy",
                                         "frame_len": 32768},
    # LPC without restarts and the long adaptive stages (1.8): a103l (ECG II, V, PLETH at 250 Hz, beats 117
    # samples apart), first 20 000 samples, one frame.
    "a103l_lossless_cascade.san": {"mode": "lossless", "n": 20000, "record": "a103l_20000", "frame_len": 32768},
}
# running contexts (lossless) and beat gaps as differences (lossy) came in
CHANGED_IN_15 = ["mitdb100_lossless_lms.san", "mitdb100_lossy_beats.san", "test01_00s_lossless_cross.san"]
# lossy files whose channels the 1.6 encoder codes in the time domain (exact, or on a coarser grid)
USES_16 = ["ctg1001_lossy_grid.san", "test01_00s_lossy_cross.san", "test01_00s_lossy_prdn3.san"]
# lossy files whose beat templates' taps the 1.7 encoder puts on a coarser grid (v1.6/ keeps them as 1.6 wrote them)
USES_17 = ["mitdb100_lossy_bands.san", "mitdb100_lossy_beats.san"]
# files of one frame, in the one-frame layout of 1.7 (v1.6/ keeps them as 1.6 wrote them)
ONE_FRAME = ["a103l_lossless_cascade.san", "emg_healthy_lossless_running.san", "mitdb100_lossless_lms.san",
             "mitdb100_lossy_bands.san", "mitdb100_lossy_beats.san", "test01_00s_lossless_lpc.san"]
# files whose LPC runs without restarts, with the long adaptive stages or running contexts' MSB mode (1.8;
# v1.7/ keeps the others as 1.7 wrote them: LPC restarting every 4096 samples, running contexts without MSB mode)
USES_18 = ["a103l_lossless_cascade.san", "emg_healthy_lossless_running.san", "mitdb100_lossless_lms.san",
           "test01_00s_lossless.san", "test01_00s_lossless_constant.san", "test01_00s_lossless_lpc.san"]
NEW_IN_18 = ["a103l_lossless_cascade.san"]  # no older folder holds it
NEW_IN_110 = ["test01_00s_lossy_leads.san"]  # nor this one
# lossy files whose wavelet bands the 1.9 encoder codes in one adaptive stream (v1.8/ keeps them as 1.8 wrote them)
USES_19 = ["ctg1001_lossy_grid.san", "mitdb100_lossy_beats.san", "test01_00s_lossy_prdn3.san"]
# lossy files with a channel coded as the wavelets of its difference from earlier decoded ones, or with mains hum
# (1.10; v1.9/ keeps the others as 1.9 wrote them: every channel on its own, no hum)
USES_110 = ["mitdb100_lossy_bands.san", "mitdb100_lossy_beats.san", "test01_00s_lossy_leads.san",
            "test01_00s_lossy_prdn3.san"]
# lossy files with a wavelet band coded as its linear prediction's residual (1.11; v1.10/ keeps them as 1.10 wrote
# them: the same quantised values, so the same samples)
USES_111 = ["mitdb100_lossy_bands.san"]
# lossy files with a wavelet frame quantised dependently or a template's taps as second differences (1.12; v1.11/
# keeps them as 1.11 wrote them)
USES_112 = ["mitdb100_lossy_bands.san"]
# lossy files whose adaptive stream of wavelet bands has parent contexts (1.13; v1.12/ keeps them as 1.12 wrote them)
USES_113 = ["mitdb100_lossy_beats.san"]
OLD_VERSIONS = ["v1.0"]


def _source(name: str):
    record = CASES[name].get("record", "test01_00s")
    path = HERE.parent / "sancodec" / "data" / "samples" / "100" if record == "mitdb100" else HERE / "data" / record
    signal = read_signal(path).slice(0, CASES[name].get("n", 2000))
    if CASES[name].get("derived_leads"):
        s = signal.samples
        s[:, 2] = s[:, 1] - s[:, 0]
        s[:, 3] = -((s[:, 0] + s[:, 1]) >> 1)
    if "flat_channel" in CASES[name]:
        ch = CASES[name]["flat_channel"]
        signal.samples[:, ch] = signal.samples[0, ch]
    return signal


def _options(name: str) -> dict:
    skip = ("n", "record", "normalization", "flat_channel", "derived_leads")
    return {"frame_len": 1024, **{k: v for k, v in CASES[name].items() if k not in skip}}


def _model(name: str | None = None):
    path = GOLDEN / "model.json"
    if REGENERATE and not path.exists():
        from sancodec.train.model import SAN  # (torch: only to make the model anew; the tests decode without it)

        save_model(SAN([11, 24], ["peaks", "max_pool_indices"], seed=5).to_spec(normalization={"kind": "zscore"}),
                   path)
    spec = load_model(path)
    norm = CASES.get(name, {}).get("normalization") if name else None
    return spec if norm is None else SanSpec(spec.kernels, spec.activations, normalization=norm)


def _check_decoded(name: str, data: bytes) -> sancodec.codec.DecodedFile:
    decoded = sancodec.codec.decode_file(data)
    src = _source(name)
    if CASES[name]["mode"] == "lossless":
        np.testing.assert_array_equal(decoded.signal.samples, src.samples)
    elif CASES[name]["mode"] == "lossy":
        for ch in range(src.n_channels):
            assert sancodec.metrics.prdn(src.samples[:, ch], decoded.signal.samples[:, ch]) <= CASES[name]["prdn"]
    elif CASES[name]["mode"] == "near-lossless":
        assert np.abs(decoded.signal.samples - src.samples).max() <= 2
    assert _known_head(decoded.signal) == _known_head(src)
    return decoded


def _known_head(signal: sancodec.Signal) -> dict:
    """``signal.header_dict()`` without how its annotation files began (``Annotations.time_resolution``), which files
    written before sancodec kept it do not hold (mitdb 100's source says its .atr had no time resolution note)."""
    head = signal.header_dict()
    return {**head, "annotations": [{k: v for k, v in a.items() if k != "time_resolution"}
                                    for a in head["annotations"]]}


# Lossy cases an encoder change re-coded at another step or with another beat-template window (same
# format): older files of these decode to what the file of that folder decodes to, each within its target.
# 1.5 chose the template window per record; then the rate control's step search changed (secant, v1.5/).
REFERENCE_FOLDER = {"mitdb100_lossy_beats.san": "v1.4", "test01_00s_lossy_prdn3.san": "v1.5"}
RECODED_BY_THE_STEP_SEARCH = ["mitdb100_lossy_bands.san", "mitdb100_lossy_beats.san", "test01_00s_lossy_prdn3.san"]


def _reference(name: str) -> sancodec.Signal:
    """What an older golden file of ``name`` must decode to: the current golden file's signal, or that
    of the file in :data:`REFERENCE_FOLDER` where a later encoder chose another lossy coding."""
    folder = GOLDEN / REFERENCE_FOLDER[name] if name in REFERENCE_FOLDER else GOLDEN
    return sancodec.decode((folder / name).read_bytes())


def _raw_grid(part: bytes) -> int:
    """The grid step of a raw channel-frame (path 0: first sample, then the grid)."""
    r = ByteReader(part)
    r.varint()
    r.svarint()
    return r.varint()


def _predictor(part: bytes) -> int:
    """The predictor bits of a wavelet channel-frame (path 3)."""
    r = ByteReader(part)
    assert r.varint() == 3
    r.svarint()
    r.raw(4)
    r.varint()
    r.varint()
    return r.varint()


def _channel_parts(data: bytes) -> list[bytes]:
    """Every channel-frame payload of a file."""
    reader = sancodec.codec.container.SanReader(data)
    parts = []
    for i in range(reader.n_frames):
        frame = ByteReader(reader.read_frame(i))
        while frame.remaining():
            parts.append(frame.raw(frame.varint()))
    return parts


def _nested_path(part: bytes) -> int | None:
    """The path of the channel-frame an inter-channel prediction (path 5) nests; None for another path."""
    nested = nested_difference(part)
    return None if nested is None else nested[0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_file(name):
    path = GOLDEN / name
    data = sancodec.encode(_source(name), _model(name), **_options(name))
    if REGENERATE:
        path.write_bytes(data)
        (GOLDEN / (name + ".sha256")).write_text(hashlib.sha256(data).hexdigest() + "\n")
    golden = path.read_bytes()
    assert hashlib.sha256(golden).hexdigest() == (GOLDEN / (name + ".sha256")).read_text().strip()
    assert data == golden, "the encoder's output changed: the format or the coder drifted"
    decoded = _check_decoded(name, golden)
    # Format 1.3 (the binary header) holds every file the encoder writes; 1.4 those with an LMS stage
    # or long-term prediction; 1.5 those with running contexts.
    uses_14 = decoded.codings.get("lms") or decoded.codings.get("ltp")
    uses_15 = decoded.codings.get("running") or any(needs_minor(part) == 5 for part in _channel_parts(golden))
    uses_16 = CASES[name]["mode"] == "lossy" and any(needs_minor(p) == 6 for p in _channel_parts(golden))
    uses_17 = CASES[name]["mode"] == "lossy" and any(needs_minor(p) == 7 for p in _channel_parts(golden))
    uses_18 = decoded.codings.get("lpc_whole") or decoded.codings.get("cascade") or decoded.codings.get("msb")
    uses_19 = CASES[name]["mode"] == "lossy" and any(needs_minor(p) == 9 for p in _channel_parts(golden))
    uses_110 = CASES[name]["mode"] == "lossy" and any(needs_minor(p) == 10 for p in _channel_parts(golden))
    uses_111 = CASES[name]["mode"] == "lossy" and any(needs_minor(p) == 11 for p in _channel_parts(golden))
    uses_112 = CASES[name]["mode"] == "lossy" and any(needs_minor(p) == 12 for p in _channel_parts(golden))
    uses_113 = CASES[name]["mode"] == "lossy" and any(needs_minor(p) == 13 for p in _channel_parts(golden))
    minor = (13 if uses_113 else 12 if uses_112 else 11 if uses_111 else 10 if uses_110 else 9 if uses_19 else 8
             if uses_18 else 7 if uses_17 else 6 if uses_16 else 5 if uses_15 else 4 if uses_14 else 3)
    assert golden[4:6] == bytes([sancodec.codec.container.MAJOR, expected_minor(golden, minor)])
    assert SanReader(golden).one_frame == (name in ONE_FRAME)
    assert (minor == 13) == (name in USES_113)  # a file's minor is the newest of what it uses
    assert (minor == 12) == (name in USES_112 and name not in USES_113)
    assert (minor == 11) == (name in USES_111 and name not in USES_112 + USES_113)
    assert (minor == 10) == (name in USES_110 and name not in USES_111 + USES_113)
    assert (minor == 9) == (name in USES_19 and name not in USES_110)
    assert (minor == 8) == (name in USES_18 and name not in USES_19)
    assert decoded.codings.get("lpc_whole", 0) == decoded.lpc_channel_frames  # the encoder never restarts now
    assert (minor == 7) == (name in USES_17 and name not in USES_19 + USES_110)
    assert (minor == 6) == (name in USES_16 and name not in USES_19 + USES_110)
    newer = USES_17 + USES_18 + USES_19 + USES_110
    assert (minor == 5) == (name not in newer and (name in CHANGED_IN_15 or name.endswith(("_running.san",
                                                                                           "_bands.san"))))
    if name == "ctg1001_lossy_grid.san":  # heart rate on a grid coarser than its own, contractions as wavelets
        assert decoded.codings == {"raw": 2, "wavelet": 2}
        grids = {_raw_grid(p) for p in _channel_parts(golden) if p[0] == 0}  # coarser than the samples' 1
        assert grids and min(grids) > 1
        assert not np.array_equal(decoded.signal.samples[:, 0], _source(name).samples[:, 0])
    if name == "test01_00s_lossy_prdn3.san":  # wavelets with adaptive bands (1.8: two exact), the last two channels
        assert decoded.codings == {"wavelet": 4, "cross": 4}  # as the difference from the first two (1.10)
        assert [_nested_path(p) for p in _channel_parts(golden)] == [None, None, 3, 3] * 2
    if name.startswith("mitdb100_lossy"):  # mitdb 100's 60 Hz line: the hum in every wavelet frame (1.10)
        assert all(_predictor(p) & MAINS for p in _channel_parts(golden) if p[0] == 3)
    if name == "test01_00s_lossy_leads.san":  # channel 2's difference as wavelets, channel 3's exactly, both frames
        assert [_nested_path(p) for p in _channel_parts(golden)] == [None, None, 3, 0] * 2
    if name == "test01_00s_lossy_cross.san":  # the derived leads predicted from the first two, exactly
        assert decoded.codings["cross"] == 4 and decoded.codings["raw"] == 4
        np.testing.assert_array_equal(decoded.signal.samples, _source(name).samples)
    if name.endswith("_bands.san"):  # every channel's frame codes its bands apart (predictor bit 1), some
        assert all(_predictor(part) & 2 for part in _channel_parts(golden))  # under running contexts, some (1.11)
        assert any(_predictor(part) & BAND_LPC for part in _channel_parts(golden))  # as a prediction's residual
        assert decoded.codings == {"wavelet": 2, "running": 2}
    if name.endswith("_running.san"):
        assert decoded.codings == {"table": 1, "lms": 1, "running": 1, "msb": 1}
    if name.endswith("_lms.san"):
        assert decoded.codings["lms"] == decoded.codings["ltp"] == 2
    if name.endswith("_lpc.san"):
        assert decoded.lpc_channel_frames == 3  # every channel-frame but one
    if name.startswith("a103l"):  # every channel: LPC, then the long stages
        assert decoded.codings["cascade"] == decoded.lpc_channel_frames == 3
    else:
        assert "cascade" not in decoded.codings
    if not name.startswith(("test01_00s_lossless", "a103l")):
        assert decoded.lpc_channel_frames == 0
    assert ("table" in decoded.codings) == name.endswith(("_table.san", "_running.san"))
    assert decoded.codings.get("constant", 0) == (2 if name.endswith("_constant.san") else 0)  # 2 frames of 1024
    if name.endswith("_cross.san"):  # the two derived channels in both frames (test01_00s's leads use it too)
        assert decoded.codings.get("cross", 0) >= 4


@pytest.mark.parametrize("name", ["test01_00s_lossy.san", "test01_00s_lossy_none.san", "test01_00s_lossy_affine.san"])
def test_each_san_frame_stores_the_offset_its_model_normalisation_asks_for(name):
    """The first channel-frame of each lossy golden file: path 1 (SAN), then the offset that was
    subtracted: the frame's rounded mean (zscore), 0 (none) or the affine offset 40."""
    reader = sancodec.codec.container.SanReader((GOLDEN / name).read_bytes())
    frame = ByteReader(reader.read_frame(0))
    part = ByteReader(frame.raw(frame.varint()))
    assert part.varint() == 1
    first = _source(name).samples[:1024, 0]
    expected = {"test01_00s_lossy.san": round(float(first.mean())), "test01_00s_lossy_none.san": 0,
                "test01_00s_lossy_affine.san": 40}[name]
    assert part.svarint() == expected
    scale = {"test01_00s_lossy.san": float(first.std()), "test01_00s_lossy_none.san": 1.0,
             "test01_00s_lossy_affine.san": 25.0}[name]
    assert float(np.frombuffer(part.raw(4), "<f4")[0]) == pytest.approx(scale * 0.02, rel=1e-6)


def test_the_lossy_file_of_the_model_declared_none_still_decodes_to_the_same_samples():
    """Before the normalisation was applied, the test model said 'none' while the codec z-scored each
    frame; that file (kept) decodes to exactly the samples of today's 'zscore' golden file."""
    old = sancodec.decode((GOLDEN / "v1.1-none-model" / "test01_00s_lossy.san").read_bytes())
    new = sancodec.decode((GOLDEN / "test01_00s_lossy.san").read_bytes())
    np.testing.assert_array_equal(old.samples, new.samples)


def test_the_files_format_1_2_wrote_still_decode_to_the_same_signals():
    """Every golden case as the format 1.1/1.2 encoder wrote it (JSON headers), kept in v1.2/."""
    def check(name: str, signal: sancodec.Signal) -> None:
        data = (GOLDEN / "v1.2" / name).read_bytes()
        assert data[4:6] in (b"\x01\x01", b"\x01\x02")
        decoded = _check_decoded(name, data)
        assert decoded.signal.header_dict() == signal.header_dict()
        current = _reference(name)
        np.testing.assert_array_equal(signal.samples, current.samples)  # 1.3 changed the header only

    assert check_backwards_compatibility(GOLDEN / "v1.2", check) == sorted(
        n for n in CASES if not n.endswith(("_constant.san", "_cross.san", "_lms.san", "_running.san", "_bands.san",
                                            "_grid.san")) and n not in NEW_IN_18 + NEW_IN_110)


def test_the_files_format_1_3_wrote_still_decode_to_the_same_signals():
    """Every golden case as the format 1.3 encoder wrote it (before the LMS stage), kept in v1.3/."""
    def check(name: str, signal: sancodec.Signal) -> None:
        data = (GOLDEN / "v1.3" / name).read_bytes()
        assert data[4:6] == b"\x01\x03"
        assert _check_decoded(name, data).signal.header_dict() == signal.header_dict()
        np.testing.assert_array_equal(signal.samples, _reference(name).samples)

    expected = sorted(n for n in CASES if not n.endswith(("_lms.san", "_running.san", "_bands.san", "_grid.san"))
                      and n != "test01_00s_lossy_cross.san" and n not in NEW_IN_18 + NEW_IN_110)
    assert check_backwards_compatibility(GOLDEN / "v1.3", check) == expected


def test_the_files_format_1_4_wrote_still_decode_to_the_same_signals():
    """The golden cases whose bytes format 1.5 changed, as the format 1.4 encoder wrote them (v1.4/)."""
    def check(name: str, signal: sancodec.Signal) -> None:
        data = (GOLDEN / "v1.4" / name).read_bytes()
        assert data[4:6] in (b"\x01\x03", b"\x01\x04")
        decoded = _check_decoded(name, data)
        assert decoded.signal.header_dict() == signal.header_dict() and not decoded.codings.get("running")
        np.testing.assert_array_equal(signal.samples, _reference(name).samples)

    assert check_backwards_compatibility(GOLDEN / "v1.4", check) == CHANGED_IN_15


def test_the_lossy_files_of_the_bisection_step_search_still_decode_to_the_same_signals():
    """The lossy golden cases as format 1.5 wrote them before the rate control's step search became a
    secant (v1.5/): same format, another step; each decodes within its target, to the signal it always
    did (the 1.3 file's, where 1.5 wrote the same samples as 1.3: all but the beats file, whose window 1.5
    chose anew)."""
    def check(name: str, signal: sancodec.Signal) -> None:
        data = (GOLDEN / "v1.5" / name).read_bytes()
        assert data[4:6] in (b"\x01\x03", b"\x01\x05")
        assert _check_decoded(name, data).signal.header_dict() == signal.header_dict()
        if (GOLDEN / "v1.3" / name).exists() and REFERENCE_FOLDER.get(name) != "v1.4":
            then = sancodec.decode((GOLDEN / "v1.3" / name).read_bytes())
            np.testing.assert_array_equal(signal.samples, then.samples)

    assert check_backwards_compatibility(GOLDEN / "v1.5", check) == RECODED_BY_THE_STEP_SEARCH


# lossy files the 1.7 encoder re-coded at other wavelet levels (lossy.LEVEL_CHOICES; same format)
RECODED_AT_OTHER_LEVELS = ["ctg1001_lossy_grid.san", "test01_00s_lossy_prdn3.san"]
# What 1.6 files decode to (sha256 of their samples as little-endian int64), pinned when 1.7 came
DECODED_16 = {"mitdb100_lossy_beats.san": "d2dd84b56c08ea1f5c97591e038b6224d8ad6b785297a9b3fc89ee73d613da15",
              "test01_00s_lossy_prdn3.san": "2540a9bd97fc0ffcb35490d783d5577a3d3b1b889c37001c984a34997f40fae7",
              "ctg1001_lossy_grid.san": "70323d1ef16e1a75c060c2460a95a193e27c1c11706999381029b96d2c168422"}


def test_the_files_format_1_6_wrote_still_decode_to_the_same_signals():
    """The golden cases of one frame as the 1.6 encoder wrote them, before the one-frame layout, the
    lossy ones before their templates' taps went on a coarser grid, and those 1.7 re-coded at other
    wavelet levels (v1.6/, minor 4 to 6, with frame head, index and trailer): the lossless ones to their
    source, the lossy ones within their targets, the bands file to the samples of today's (its taps were
    on that grid already, so 1.7 wrote the same prediction), the others to what they decoded to then."""
    def check(name: str, signal: sancodec.Signal) -> None:
        data = (GOLDEN / "v1.6" / name).read_bytes()
        assert data[4:6] in (b"\x01\x04", b"\x01\x05", b"\x01\x06") and not SanReader(data).one_frame
        assert _check_decoded(name, data).signal.header_dict() == signal.header_dict()
        assert not any(_predictor(p) & 8 for p in _channel_parts(data) if p[0] == 3)
        if name in DECODED_16:
            samples = np.ascontiguousarray(signal.samples, dtype="<i8").tobytes()
            assert hashlib.sha256(samples).hexdigest() == DECODED_16[name]
        else:  # (the bands file: today's before 1.10 added mains hum to it, v1.9/)
            today = GOLDEN / ("v1.9" if name == "mitdb100_lossy_bands.san" else "") / name
            np.testing.assert_array_equal(signal.samples, sancodec.decode(today.read_bytes()).samples)

    assert check_backwards_compatibility(GOLDEN / "v1.6", check) == sorted(
        n for n in ONE_FRAME + RECODED_AT_OTHER_LEVELS if n not in NEW_IN_18 + NEW_IN_110)


@pytest.mark.parametrize("version", OLD_VERSIONS)
def test_files_of_older_minor_versions_still_decode(version):
    def check(name: str, signal: sancodec.Signal) -> None:
        data = (GOLDEN / version / name).read_bytes()
        assert data[4:6] == bytes(int(v) for v in version[1:].split("."))
        assert signal.header_dict() == _check_decoded(name, data).signal.header_dict()

    names = check_backwards_compatibility(GOLDEN / version, check)
    assert names == ["test01_00s_lossless.san", "test01_00s_lossy.san", "test01_00s_near2.san"]


def test_the_files_format_1_7_wrote_still_decode_to_their_source():
    """The lossless golden cases 1.8 re-coded, as the 1.7 encoder wrote them (v1.7/): their LPC restarting
    every 4096 samples, their running contexts without MSB mode; they decode to the samples they were made
    from."""
    def check(name: str, signal: sancodec.Signal) -> None:
        data = (GOLDEN / "v1.7" / name).read_bytes()
        assert data[4:6] in (b"\x01\x03", b"\x01\x04", b"\x01\x05", b"\x01\x07")
        decoded = _check_decoded(name, data)
        assert decoded.lpc_channel_frames or decoded.codings.get("running")
        assert not decoded.codings.get("lpc_whole") and not decoded.codings.get("msb")
        np.testing.assert_array_equal(signal.samples, _source(name).samples)

    assert check_backwards_compatibility(GOLDEN / "v1.7", check) == sorted(n for n in USES_18 if "a103l" not in n)


# What 1.8 files decode to (sha256 of their samples as little-endian int64), pinned when 1.9 came
DECODED_18 = {"ctg1001_lossy_grid.san": "82e070223d556a39e16e98008fe2392e79f4be9795048de529e7f0483bac3aa1",
              "mitdb100_lossy_beats.san": "61abf03ebb04747ada9305cf06b77fd3e65d546cf1366fe30de238f09c8cf62b",
              "test01_00s_lossy_prdn3.san": "8499577ae471e939b926d6f99a9aa686681bbcdb7bb5ae92da759dcf77417dc8"}


def test_the_files_format_1_8_wrote_still_decode_to_the_same_signals():
    """The lossy golden cases 1.9 re-coded with adaptive bands, as the 1.8 encoder wrote them (v1.8/, bands
    coded with tables): within their targets, to the samples they decoded to then."""
    def check(name: str, signal: sancodec.Signal) -> None:
        data = (GOLDEN / "v1.8" / name).read_bytes()
        assert data[4] == 1 and data[5] < 9
        assert not any(_predictor(p) & 16 for p in _channel_parts(data) if p[0] == 3)
        assert _check_decoded(name, data).signal.header_dict() == signal.header_dict()
        samples = np.ascontiguousarray(signal.samples, dtype="<i8").tobytes()
        assert hashlib.sha256(samples).hexdigest() == DECODED_18[name]

    assert check_backwards_compatibility(GOLDEN / "v1.8", check) == sorted(USES_19)


# What the 1.9 files decode to (sha256 of their samples as little-endian int64), pinned when 1.10 came
DECODED_19 = {"mitdb100_lossy_bands.san": "36f5681809b155d096677cec0fa4609c9bef3f843b8115d52348e2c0e2b45e7b",
              "mitdb100_lossy_beats.san": "a3ac3db905714a747aa9eec52cfe9e7c4ea99dc4664b99385967a5d34495abc3",
              "test01_00s_lossy_prdn3.san": "752914e9cdc7c30e30ddc5f96af7f477437738b153a90ad2e5d91f2047ae127f"}


def test_the_files_format_1_9_wrote_still_decode_to_the_same_signals():
    """The lossy golden cases 1.10 re-coded, with channels as differences from earlier decoded ones or with
    mains hum, as the 1.9 encoder wrote them (v1.9/, minor 7 or 9: every channel on its own, no hum): within
    their targets, to the samples they decoded to then."""
    def check(name: str, signal: sancodec.Signal) -> None:
        data = (GOLDEN / "v1.9" / name).read_bytes()
        assert data[4] == 1 and data[5] in (7, 9)
        assert all(nested_difference(p) is None for p in _channel_parts(data))
        assert not any(_predictor(p) & MAINS for p in _channel_parts(data) if p[0] == 3)
        assert _check_decoded(name, data).signal.header_dict() == signal.header_dict()
        samples = np.ascontiguousarray(signal.samples, dtype="<i8").tobytes()
        assert hashlib.sha256(samples).hexdigest() == DECODED_19[name]

    assert check_backwards_compatibility(GOLDEN / "v1.9", check) == sorted(USES_110[:2] + USES_110[3:])


def _older_files_decode_as_pinned(version: str, minor: int, unused_bits: int, pinned: dict[str, str]) -> list[str]:
    """Check every file of ``tests/golden/<version>/``: its checksum, format 1.``minor``, no wavelet frame with a
    predictor bit of ``unused_bits`` (what the newer encoder added), its header as the source's, and its decoded
    samples' SHA-256 (little-endian int64) as ``pinned`` says; returns the names checked."""
    def check(name: str, signal: sancodec.Signal) -> None:
        data = (GOLDEN / version / name).read_bytes()
        assert data[4] == 1 and data[5] == minor
        assert not any(_predictor(p) & unused_bits for p in _channel_parts(data) if p[0] == 3)
        assert _check_decoded(name, data).signal.header_dict() == signal.header_dict()
        samples = np.ascontiguousarray(signal.samples, dtype="<i8").tobytes()
        assert hashlib.sha256(samples).hexdigest() == pinned[name]

    return check_backwards_compatibility(GOLDEN / version, check)


# What the 1.10 files decode to (sha256 of their samples as little-endian int64): the samples the 1.11 encoder's
# files decoded to when band prediction came, pinned when the beat template became the beats' interquartile mean
DECODED_110 = {"mitdb100_lossy_bands.san": "f980f8fbfb813ef83aac7105914c5bbc2b037d0d7b9e40a3f2bdede3e3cb5985"}


def test_the_files_format_1_10_wrote_still_decode_to_the_same_signals():
    """The lossy golden cases 1.11 re-coded with bands as their linear prediction's residual, as the 1.10 encoder
    wrote them (v1.10/, minor 10, no band predicted): the prediction is of the quantised values, so they decode to
    the very samples the 1.11 files decoded to then (pinned: today's encoder makes its beat templates otherwise)."""
    assert _older_files_decode_as_pinned("v1.10", 10, BAND_LPC, DECODED_110) == USES_111


# What the 1.11 files decode to (sha256 of their samples as little-endian int64), pinned when 1.12 came
DECODED_111 = {"mitdb100_lossy_bands.san": "4ad10d78d8ab68b55f0ddd96e5c95dafdc0407915748afed25bfae62bc3213ae"}


def test_the_files_format_1_11_wrote_still_decode_to_the_same_signals():
    """The lossy golden cases 1.12 re-coded (their detail bands quantised dependently, their template's taps as
    second differences) as the 1.11 encoder wrote them (v1.11/, minor 11): within their targets, to the samples they
    decoded to then."""
    assert _older_files_decode_as_pinned("v1.11", 11, (DEPENDENT | TAP_SECOND), DECODED_111) == USES_112


# What the 1.12 files decode to (sha256 of their samples as little-endian int64), pinned when 1.13 came
DECODED_112 = {"mitdb100_lossy_beats.san": "1caff108c410b1605bb87ebc0ae5521e8e45384a3ec49b3a5393a107806a1a8c"}


def test_the_files_format_1_12_wrote_still_decode_to_the_same_signals():
    """The lossy golden cases 1.13 re-coded (their adaptive stream with parent contexts) as the 1.12 encoder wrote
    them (v1.12/, minor 10: the beats file's hum, its stream without parent contexts): within their targets, to the
    samples they decoded to then."""
    assert _older_files_decode_as_pinned("v1.12", 10, ADAPTIVE_PARENT, DECODED_112) == USES_113
