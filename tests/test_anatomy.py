"""``codec.anatomy`` and ``sancodec info --bands``: where a lossy file's bytes go, read from the file alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from common import lattice_record, rewrap, without_band_prediction
from typer.testing import CliRunner

import sancodec
from sancodec import SancodecError, SanFormatError, Signal, read_signal
from sancodec.cli import app
from sancodec.codec.anatomy import lossy_anatomy
from sancodec.codec.container import SanReader

ECG = read_signal(Path(sancodec.__path__[0]) / "data" / "samples" / "100").samples[:, 0]


def _parts_add_up(channel) -> float:
    other = sum(size for kind, size in channel.frame_bytes.items() if not kind.startswith("wavelet"))
    parts = channel.head_bytes + channel.template_bytes + channel.mains_bytes
    return other + parts + sum(band.bytes for band in channel.bands.values())


def _tiles(bands, nyquist: float) -> bool:
    """Whether the bands' frequency ranges cover [0, nyquist] end to end without overlap."""
    spans = sorted((b.low_hz, b.high_hz) for b in bands)
    return spans[0][0] == 0 and spans[-1][1] == pytest.approx(nyquist) and all(
        a[1] == pytest.approx(b[0]) for a, b in zip(spans, spans[1:]))


def test_a_wavelet_channel_with_a_template_is_told_apart_byte_for_byte():
    """Bands coded apart: heads, template and bands add up to the channel's bytes exactly; the bands tile
    0 to fs/2 and hold every sample; the long ECG at PRDN 2 % codes its beat template."""
    sig = Signal(ECG[:150_000, None], 360.0, ["MLII"], ["mV"])  # longer than adaptive bands are tried on (1.9)
    data = sancodec.encode(sig, mode="lossy", prdn=2.0)
    (channel,) = lossy_anatomy(data)
    assert channel.name == "MLII" and channel.frames == {"wavelet + template": 1}
    assert channel.template_bytes > 0 and channel.bands_joint == 0
    assert not any(band.estimated for band in channel.bands.values())
    assert _parts_add_up(channel) == channel.bytes
    assert _tiles(channel.bands.values(), 180.0)
    assert sum(band.coefficients for band in channel.bands.values()) == 150_000
    finest = max(channel.bands.values(), key=lambda b: b.high_hz)
    assert finest.name == "d1" and finest.low_hz == 90.0


def test_without_bands_only_the_bits_per_sample_are_read(monkeypatch):
    """What `sancodec encode` prints (bits per sample): the same bytes and values without reading heads,
    templates or bands (an adaptive stream is not decoded)."""
    from sancodec.codec import anatomy

    sig = Signal(ECG[:4000, None], 360.0, ["ecg"], ["mV"])
    data = sancodec.encode(sig, mode="lossy", prdn=9.0)
    (full,) = lossy_anatomy(data)

    def refuse(*args, **kwargs):
        raise AssertionError("read a wavelet frame's bands")

    monkeypatch.setattr(anatomy, "_wavelet_frame", refuse)
    (quick,) = lossy_anatomy(data, bands=False)
    assert (quick.bytes, quick.values, quick.bits_per_sample) == (full.bytes, full.values, full.bits_per_sample)
    assert quick.frames == {"wavelet": 1} and not quick.bands


def test_bands_coded_in_one_blob_get_estimated_shares_that_add_up():
    """A short channel whose bands are coded in one blob: each band's share is estimated (marked so), and
    the shares add up to the blob, the parts to the channel."""
    sig = Signal(ECG[:4000, None], 360.0, ["ecg"], ["mV"])
    (channel,) = lossy_anatomy(sancodec.encode(sig, mode="lossy", prdn=9.0))
    assert channel.bands_joint > 0 and all(band.estimated for band in channel.bands.values())
    assert sum(band.bytes for band in channel.bands.values()) == pytest.approx(channel.bands_joint)
    assert _parts_add_up(channel) == pytest.approx(channel.bytes)
    assert _tiles(channel.bands.values(), 180.0)


def test_a_mixed_file_counts_its_exact_and_wavelet_frames(monkeypatch):
    """A file whose channel codes some frames exactly beside wavelet ones (lattice_record at PRDN 3 %, without
    band prediction)."""
    without_band_prediction(monkeypatch)
    data = sancodec.encode(lattice_record(), mode="lossy", effort="best", prdn=3.0)
    (channel,) = lossy_anatomy(data)
    assert channel.frames.get("time domain", 0) > 0 and sum(channel.frames.values()) == 8
    assert channel.frame_bytes["time domain"] > 0 and _parts_add_up(channel) == channel.bytes
    assert sum(channel.frame_bytes.values()) == channel.bytes


def test_the_papers_san_code_is_named_as_such():
    """A san-mode file (header mode lossy, frames of the SAN's own code) is not a time-domain coding."""
    sig = Signal(ECG[:20000, None], 360.0, ["ecg"], ["mV"])
    data = sancodec.encode(sig, mode="san")
    (channel,) = lossy_anatomy(data)
    assert set(channel.frames) == {"san"} and channel.frame_bytes["san"] == channel.bytes and not channel.bands
    reader = SanReader(data)
    unknown = {**reader.header, "model": {"sha256": "0" * 64, "spec": None}}  # a model this machine lacks
    with pytest.raises(SancodecError):
        sancodec.decode(rewrap(data, header=unknown))
    assert lossy_anatomy(rewrap(data, header=unknown))[0].frames == {"san": 1}


def test_only_lossy_files_and_whole_ones_are_described():
    sig = Signal(ECG[:5000, None], 360.0, ["ecg"], ["mV"])
    with pytest.raises(SanFormatError, match="only a lossy file"):
        lossy_anatomy(sancodec.encode(sig))
    data = bytearray(sancodec.encode(sig, mode="lossy", prdn=2.0))
    with pytest.raises(SanFormatError):
        lossy_anatomy(bytes(data[:-7]))


@pytest.mark.parametrize("seed", range(3))
def test_a_hostile_payload_is_refused_with_a_format_error(seed):
    """Payload bytes changed and the CRCs made valid again: the description refuses with a format error
    (or describes what still parses), never anything else."""
    sig = Signal(ECG[: 1 << 14, None], 360.0, ["ecg"], ["mV"])
    data = sancodec.encode(sig, mode="lossy", prdn=2.0)
    payload = bytearray(SanReader(data).read_frame(0))
    rng = np.random.default_rng(seed)
    for _ in range(200):
        bad = bytearray(payload)
        for i in rng.integers(0, len(bad), rng.integers(1, 4)):
            bad[i] = int(rng.integers(0, 256))
        try:
            lossy_anatomy(rewrap(data, frames=[bytes(bad)]))
        except SanFormatError:
            pass


def test_info_bands_prints_and_writes_json(tmp_path):
    sig = Signal(np.stack([ECG[:20000], ECG[:20000] // 2], axis=1), 360.0, ["a", "b"], ["mV", "mV"])
    path = tmp_path / "x.san"
    path.write_bytes(sancodec.encode(sig, mode="lossy", prdn=2.0))
    runner = CliRunner()
    res = runner.invoke(app, ["info", str(path), "--bands"])
    assert res.exit_code == 0, res.output
    assert "band d1" in res.stdout and "90-180" in res.stdout and res.stdout.count("bytes in") == 2
    res = runner.invoke(app, ["info", str(path), "--bands", "--json"])
    channels = json.loads(res.stdout)["channels"]
    assert [c["name"] for c in channels] == ["a", "b"]
    assert all(c["bands"] and c["bytes"] > 0 for c in channels)
    lossless = tmp_path / "l.san"
    lossless.write_bytes(sancodec.encode(sig))
    res = runner.invoke(app, ["info", str(lossless), "--bands"])
    assert res.exit_code != 0 and "only a lossy file" in res.output and "Traceback" not in res.output


def test_the_beat_template_is_read_from_the_file_and_drawn_by_report_plot(tmp_path):
    """``anatomy.beat_template``: a lossy ECG file's template (the one-kernel SAN fitted to the record), read from the
    file alone, the very template its frame predicts with; None for a lossless file, a lossy file without one (white
    noise) or a channel past the file's. ``report --plot`` draws it in its last panel, where the panel said "no SAN
    kernels used by this file" over empty axes."""
    from sancodec.codec.anatomy import beat_template

    sig = Signal(ECG[:60_000, None], 360.0, ["MLII"], ["mV"])
    data = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced")
    template = beat_template(data)
    assert template is not None and 0 <= template.anchor < len(template.t8)
    assert len(template.positions) > 60 and np.all(np.diff(template.positions) > 0)  # (83 s at about 75 bpm)
    assert beat_template(data, channel=1) is None
    assert beat_template(sancodec.encode(sig)) is None
    noise = Signal(np.random.default_rng(2).integers(-40, 40, (20_000, 1)), 360.0, ["x"], ["mV"])
    assert beat_template(sancodec.encode(noise, mode="lossy", prdn=5.0)) is None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    drawn: list[str] = []
    save = pyplot.Figure.savefig
    pyplot.Figure.savefig = lambda fig, *a, **k: drawn.append(fig.axes[3].get_title()) or save(fig, *a, **k)
    try:
        np.save(tmp_path / "x.npy", sig.samples)
        (tmp_path / "x.san").write_bytes(sancodec.encode(read_signal(tmp_path / "x.npy", fs=360.0), mode="lossy",
                                                         prdn=2.0, effort="balanced"))
        res = CliRunner().invoke(app, ["report", str(tmp_path / "x.npy"), str(tmp_path / "x.san"), "--fs", "360",
                                       "--plot", str(tmp_path / "p.png")])
        assert res.exit_code == 0, res.output
    finally:
        pyplot.Figure.savefig = save
    assert drawn and drawn[0].startswith(f"beat template, channel 0: a one-kernel SAN fitted to the record "
                                         f"({len(template.t8)} taps")


@pytest.mark.parametrize("seed", range(3))
def test_a_hostile_template_is_refused_with_a_format_error(seed):
    """``beat_template`` of a lossy file whose frame bytes lie (changed near its head and template, the CRCs made
    valid again): a template the decoder's checks pass, None, or a format error, never anything else."""
    from sancodec.codec.anatomy import beat_template

    sig = Signal(ECG[:40_000, None], 360.0, ["ecg"], ["mV"])
    data = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced")
    assert beat_template(data) is not None  # (the template's bytes are there to lie)
    payload = bytearray(SanReader(data).read_frame(0))
    rng = np.random.default_rng(seed)
    refused = 0
    for _ in range(300):
        bad = bytearray(payload)
        for i in rng.integers(0, min(len(bad), 400), rng.integers(1, 4)):
            bad[i] = int(rng.integers(0, 256))
        try:
            got = beat_template(rewrap(data, frames=[bytes(bad)]))
        except SanFormatError:
            refused += 1
            continue
        assert got is None or (len(got.t8) >= 1 and 0 <= got.anchor < len(got.t8))
    assert refused > 0
