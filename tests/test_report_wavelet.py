"""``report`` of a lossy file sets the reference wavelet coder beside it, at the PRDN each channel decodes to
(``refwavelet.bytes_at``, ``rd.wavelet_bytes``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

import sancodec
import sancodec.rd
from sancodec import Signal, read_signal, refwavelet
from sancodec.cli import app
from sancodec.metrics import prdn
from sancodec.rd import wavelet_bytes
from sancodec.report import make_report

DATA = Path(__file__).parent / "data"
X = read_signal(Path(sancodec.__path__[0]) / "data" / "samples" / "100").samples[:30000, 0]


def _best(step: float) -> tuple[int, float]:
    """The reference coder's bytes and PRDN at ``step``, the smaller of its level counts."""
    size, y = min((refwavelet.code(X, step, lv) for lv in refwavelet.LEVELS), key=lambda r: r[0])
    return size, prdn(X.astype(float), y)


def test_the_wavelet_coders_bytes_at_a_prdn_are_its_coarsest_step_that_meets_it():
    for bound in (1.0, 3.0, 8.0):
        size = refwavelet.bytes_at(X, bound)
        assert size is not None
        steps = [s for s in np.geomspace(0.5, 300, 160) if _best(s)[1] <= bound]
        coarsest = _best(max(steps))[0]
        assert 0.97 * coarsest <= size <= 1.03 * coarsest  # (the search stops within 1 % of the crossing)
        assert _best(min(steps))[0] > size  # a finer step that meets it costs more
    assert refwavelet.bytes_at(X, 0.0) is None and refwavelet.bytes_at(X[:0], 2.0) is None


def test_the_wavelet_bytes_of_a_record_sum_its_channels_at_their_own_prdns(monkeypatch):
    sig = read_signal(DATA / "mixedsignals_1000f")  # (a slow channel, and dropouts left out of the PRDN)
    data = sancodec.encode(sig, mode="lossy", prdn=4.0, effort="fast")
    prdns = make_report(sig, data).prdn_per_channel
    total = wavelet_bytes(sig, list(prdns))
    assert total is not None and total > 0
    one = [wavelet_bytes(sig.select_channels([ch]), [p]) for ch, p in enumerate(prdns)]
    assert total == sum(one)  # type: ignore[arg-type]
    assert wavelet_bytes(sig, [0.0] * sig.n_channels) is None  # an exact channel: no step meets it
    noise = Signal(np.random.default_rng(0).normal(size=(3000, 1)), 250.0, ["x"], ["V"])
    assert wavelet_bytes(noise, [5.0]) is None  # floats on no decimal grid
    monkeypatch.setattr(sancodec.rd, "WAVELET_VALUES", sig.n_values - 1)
    assert wavelet_bytes(sig, list(prdns)) is None  # past the samples it codes


def test_report_sets_the_wavelet_coder_beside_a_lossy_file_and_not_a_lossless_one(tmp_path):
    for f in DATA.glob("test01_00s.*"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    rec = tmp_path / "test01_00s"
    lossy = CliRunner().invoke(app, ["report", str(rec), "--mode", "lossy", "--prdn", "3", "--json"])
    assert lossy.exit_code == 0, lossy.output
    said = json.loads(lossy.stdout)
    sig = read_signal(rec)
    assert said["wavelet_at_prdn"] == wavelet_bytes(sig, said["prdn_per_channel"]) and said["wavelet_at_prdn"] > 0
    table = CliRunner().invoke(app, ["report", str(rec), "--mode", "lossy", "--prdn", "3"])
    row = next(line for line in table.stdout.splitlines() if "wavelet coder, same PRDNs" in line)
    assert str(said["wavelet_at_prdn"]) in row
    exact = CliRunner().invoke(app, ["report", str(rec), "--json"])
    assert json.loads(exact.stdout)["wavelet_at_prdn"] is None
    assert "wavelet coder" not in CliRunner().invoke(app, ["report", str(rec)]).stdout
