"""``report --model``: a SAN of the user's own, to encode with now or to decode a .san that only references its model,
whose kernels then count in the paper's φ (W) as an embedded model's do."""

from __future__ import annotations

import json

import numpy as np
from common import numpy_spec
from typer.testing import CliRunner

import sancodec
from sancodec import read_signal
from sancodec.cli import app
from sancodec.report import make_report
from sancodec.san.spec import save_model


def test_report_encodes_with_the_model_given(tmp_path, mitdb_100):
    spec = numpy_spec([20, 33], "peaks", seed=8)
    model = save_model(spec, tmp_path / "model.json")
    src = tmp_path / "part.npy"
    np.save(src, read_signal(mitdb_100).slice(0, 6000).samples)
    runner = CliRunner()
    got = runner.invoke(app, ["report", str(src), "--fs", "360", "--mode", "san", "--model", str(model), "--json"])
    assert got.exit_code == 0, got.output
    assert json.loads(got.stdout)["kernel_sizes_sum"] == 53  # its kernels, not the bundled model's 20 + 20


def test_a_file_that_references_its_model_is_reported_with_it(tmp_path, mitdb_100):
    spec = numpy_spec([20, 33], "peaks", seed=8)
    sig = read_signal(mitdb_100).slice(0, 6000)
    referenced = sancodec.encode(sig, mode="san", model=spec, embed_model=False)
    embedded = make_report(sig, sancodec.encode(sig, mode="san", model=spec))
    rep = make_report(sig, referenced, model=spec)
    assert (rep.kernel_sizes_sum, rep.activations, rep.prdn) == (53, embedded.activations, embedded.prdn)
    assert (rep.cr_inv_paper, rep.phi) == (embedded.cr_inv_paper, embedded.phi)  # the paper's CR counts no bytes
    assert rep.phi == make_report(sig, referenced, model=save_model(spec, tmp_path / "m.json")).phi
    src, san = tmp_path / "part.npy", tmp_path / "part.san"
    np.save(src, sig.samples)
    san.write_bytes(referenced)
    runner = CliRunner()
    without = runner.invoke(app, ["report", str(src), str(san)])
    assert without.exit_code != 0 and "--model on the command line" in without.output
    assert "Traceback" not in without.output
    given = runner.invoke(app, ["report", str(src), str(san), "--model", str(tmp_path / "m.json"), "--json"])
    assert given.exit_code == 0, given.output
    assert json.loads(given.stdout)["kernel_sizes_sum"] == 53
