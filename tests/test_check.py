"""``sancodec check``: .san files decoded whole and kept nowhere, as ``flac -t`` tests FLAC files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

import sancodec
from sancodec.cli import app

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def _archive(tmp_path: Path) -> Path:
    """A folder of .san files: a record lossless and lossy, an array of decimals, and one in a subfolder."""
    for f in DATA.glob("test01_00s.*"):
        shutil.copy(f, tmp_path / f.name)
    archive = tmp_path / "archive"
    (archive / "sub").mkdir(parents=True)
    for out, args in ((archive / "rec.san", []), (archive / "sub" / "rec_lossy.san", ["--mode", "lossy", "--prdn",
                                                                                         "3"])):
        assert runner.invoke(app, ["encode", str(tmp_path / "test01_00s"), "-o", str(out), "-q", *args]).exit_code == 0
    np.save(tmp_path / "mv.npy", np.round(np.sin(np.arange(3000) / 7.0), 3))
    assert runner.invoke(app, ["encode", str(tmp_path / "mv.npy"), "--fs", "250", "-o", str(archive / "mv.san"),
                               "-q"]).exit_code == 0
    return archive


def _listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_folder_of_good_files_checks_ok_and_nothing_is_written(tmp_path):
    archive = _archive(tmp_path)
    before = _listing(tmp_path)
    res = runner.invoke(app, ["check", str(archive)])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[-1] == "3 ok, 0 failed"
    assert [line.split()[1] for line in lines[:-1]] == [str(archive / "mv.san"), str(archive / "rec.san"),
                                                        str(archive / "sub" / "rec_lossy.san")]
    assert "(lossy, 4000 x 4 samples" in lines[2] and "(lossless, 3000 x 1 samples" in lines[0]
    assert _listing(tmp_path) == before
    res = runner.invoke(app, ["check", "-"], input=(archive / "rec.san").read_bytes())
    assert res.exit_code == 0 and res.stdout.startswith("ok standard input (lossless, 4000 x 4 samples"), res.output


def test_damaged_files_fail_one_line_each_and_the_rest_are_still_checked(tmp_path):
    archive = _archive(tmp_path)
    data = (archive / "rec.san").read_bytes()
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x10
    (archive / "flipped.san").write_bytes(bytes(flipped))
    (archive / "cut.san").write_bytes(data[: len(data) - 40])
    (archive / "empty.san").write_bytes(b"")
    res = runner.invoke(app, ["check", str(archive), str(tmp_path / "missing.san")])
    assert res.exit_code == 1
    failed = res.stderr.splitlines()
    assert [line.split(":")[0] for line in failed] == [f"FAILED {archive / name}" for name in
                                                       ("cut.san", "empty.san", "flipped.san")] + \
        [f"FAILED {tmp_path / 'missing.san'}"]
    assert "checksum" in failed[2] and "no such file" in failed[3] and "Traceback" not in res.output
    assert res.stdout.splitlines()[-1] == "3 ok, 4 failed"
    res = runner.invoke(app, ["check", str(archive), "--json"])
    report = json.loads(res.stdout)
    assert res.exit_code == 1 and (report["ok"], report["failed"]) == (3, 3)
    assert {Path(r["path"]).name: r["ok"] for r in report["files"]} == {
        "cut.san": False, "empty.san": False, "flipped.san": False, "mv.san": True, "rec.san": True,
        "rec_lossy.san": True}
    res = runner.invoke(app, ["check", str(archive), "-q"])  # the failures alone
    assert res.exit_code == 1 and res.stdout == "" and len(res.stderr.splitlines()) == 3


def test_a_lossless_file_whose_samples_miss_their_crc_fails(tmp_path, monkeypatch):
    """Every frame's checksum can hold while the samples decoded are not those coded (a decoder's fault, or a
    file made so): the whole pass checks each lossless channel's sample CRC as well."""
    archive = _archive(tmp_path)
    from sancodec import stream

    original = stream.SanFile._check_crcs
    seen = []

    def checked(self, crcs):
        seen.append(list(crcs))
        return original(self, [c ^ 1 for c in crcs])  # as if one sample had decoded otherwise

    monkeypatch.setattr(stream.SanFile, "_check_crcs", checked)
    res = runner.invoke(app, ["check", str(archive / "rec.san")])
    assert res.exit_code == 1 and seen and "FAILED" in res.stderr, res.output


def test_no_san_file_in_a_folder_is_a_usage_error(tmp_path):
    (tmp_path / "empty").mkdir()
    res = runner.invoke(app, ["check", str(tmp_path / "empty")])
    assert res.exit_code == 2 and "holds no .san file" in res.stderr


def test_a_file_that_needs_its_model_says_so_and_checks_with_it(tmp_path):
    """A SAN-mode file that references its model (not embedded) fails without it, and checks with --model."""
    from common import numpy_spec

    from sancodec.san.spec import save_model

    spec = numpy_spec([9, 15])
    save_model(spec, tmp_path / "m.json")
    x = np.cumsum(np.random.default_rng(0).integers(-3, 4, (4000, 1)), axis=0)
    signal = sancodec.Signal(x, 250.0, ["a"], ["mV"])
    (tmp_path / "s.san").write_bytes(sancodec.encode(signal, spec, mode="san", embed_model=False))
    res = runner.invoke(app, ["check", str(tmp_path / "s.san")])
    assert res.exit_code == 1 and "FAILED" in res.stderr and "model" in res.stderr, res.output
    res = runner.invoke(app, ["check", str(tmp_path / "s.san"), "--model", str(tmp_path / "m.json")])
    assert res.exit_code == 0 and "(san, 4000 x 1 samples" in res.stdout, res.output


def test_sanfile_check_is_the_library_side_of_it(tmp_path):
    """``SanFile.check()`` decodes the whole file and keeps nothing; a damaged frame raises a SanFormatError."""
    import pytest

    archive = _archive(tmp_path)
    with sancodec.open(archive / "rec.san") as f:
        assert f.check() is None
    data = bytearray((archive / "rec.san").read_bytes())
    data[len(data) // 2] ^= 0x10
    (tmp_path / "bad.san").write_bytes(bytes(data))
    with sancodec.open(tmp_path / "bad.san") as f, pytest.raises(sancodec.SanFormatError, match="checksum"):
        f.check()


def test_files_with_valid_checksums_and_lying_contents_fail_in_one_line(tmp_path):
    """The container's CRCs hold (``common.rewrap`` rebuilds them), its contents lie: more samples than the frames
    hold, a frame's payload replaced by another's, a header field of the wrong type. Each is one FAILED line, the
    good file beside them still checked, and no traceback."""
    from common import rewrap

    from sancodec.codec.container import SanReader

    archive = _archive(tmp_path)
    data = (archive / "rec.san").read_bytes()
    header = SanReader(data).header
    lying = {
        "more.san": rewrap(data, header={**header, "n_samples": header["n_samples"] * 2}),
        "payload.san": rewrap(data, frames=[(archive / "mv.san").read_bytes()[-200:]]),
        "field.san": rewrap(data, header={**header, "frame_len": "64"}),
    }
    for name, made in lying.items():
        (tmp_path / name).write_bytes(made)
    res = runner.invoke(app, ["check", *(str(tmp_path / n) for n in lying), str(archive / "rec.san")])
    assert res.exit_code == 1 and "Traceback" not in res.output
    failed = res.stderr.splitlines()
    assert [line.split(":")[0] for line in failed] == [f"FAILED {tmp_path / n}" for n in lying]
    assert res.stdout.splitlines()[-1] == "1 ok, 3 failed"
