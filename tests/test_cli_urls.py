"""``sancodec info`` and ``sancodec check`` read a URL through fsspec as ``sancodec.open`` does (fsspec's in-memory
filesystem here: no network), naming it as given (not as a path would fold it), with one-line errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import sancodec
from sancodec.cli import app

fsspec = pytest.importorskip("fsspec")  # (in the dev extra, through distributed and dask: this runs)
runner = CliRunner()


@pytest.fixture(scope="module")
def url(mitdb_100):
    signal = sancodec.read_signal(mitdb_100).slice(0, 20_000)
    with fsspec.open("memory://sancodec-cli/s.san", "wb") as out:
        out.write(sancodec.encode(signal, mode="lossy", prdn=2))
    yield "memory://sancodec-cli/s.san"
    fsspec.filesystem("memory").rm("sancodec-cli", recursive=True)


def test_info_of_a_url(url):
    res = runner.invoke(app, ["info", url])
    assert res.exit_code == 0, res.output
    assert f"{url} (" in res.output and "20000 x 2 at 360.0 Hz" in res.output
    res = runner.invoke(app, ["info", url, "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["header"]["n_samples"] == 20_000
    res = runner.invoke(app, ["info", url, "--bands"])
    assert res.exit_code == 0 and "MLII" in res.output


def test_check_of_a_url(url):
    res = runner.invoke(app, ["check", url])
    assert res.exit_code == 0 and res.output.startswith(f"ok {url} (lossy, 20000 x 2 samples")


@pytest.mark.parametrize("command", ["info", "check"])
def test_a_missing_url_or_an_unknown_scheme_is_one_line(command):
    res = runner.invoke(app, [command, "memory://sancodec-cli/none.san"])
    assert res.exit_code == 1 and "memory://sancodec-cli/none.san: cannot be read" in res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
    res = runner.invoke(app, ["info", "nosuch://x.san"])
    assert res.exit_code == 2 and res.output.startswith("error: nosuch://x.san: ")


def test_decode_of_a_url(url, mitdb_100, tmp_path, monkeypatch):
    """``decode`` of a URL: the whole record (named after the URL's last part, in the working folder) and a range,
    from the frames that cover it only, as the bytes decode."""
    import numpy as np

    monkeypatch.chdir(tmp_path)
    whole = sancodec.read_signal(mitdb_100).slice(0, 20_000)
    with fsspec.open("memory://sancodec-cli/framed.san", "wb") as out:
        out.write(sancodec.encode(whole, frame_len=4096))
    res = runner.invoke(app, ["decode", "memory://sancodec-cli/framed.san"])
    assert res.exit_code == 0, res.output
    assert np.array_equal(sancodec.read_signal(tmp_path / "framed_decoded").samples, whole.samples)
    res = runner.invoke(app, ["decode", "memory://sancodec-cli/framed.san", "-o", "part.npy", "--start", "100",
                              "--end", "200"])
    assert res.exit_code == 0 and "from 1 frame(s)" in res.output
    assert np.array_equal(np.load(tmp_path / "part.npy"), whole.samples[100:200])
    again = runner.invoke(app, ["decode", "memory://sancodec-cli/framed.san", "-o", "part.npy", "--start", "5",
                                "--end", "9"])  # (an existing output: refused without --force, left as it was)
    assert again.exit_code == 2 and "part.npy: already exists (use --force to overwrite)" in again.output
    assert np.array_equal(np.load(tmp_path / "part.npy"), whole.samples[100:200])
    res = runner.invoke(app, ["decode", url, "-o", "lossy.npy"])
    assert res.exit_code == 0 and (tmp_path / "lossy.npy").exists()


def test_decode_of_a_url_opens_it_once(url, mitdb_100, tmp_path, monkeypatch):
    """``decode`` of a URL opens it once (a request for its size, then reads of its header and frames) and reads it
    again from its start where a step needs its header again: it was opened two or three times (the output format's
    choice, the streamed WFDB writer, its summary, the decode), each a round trip, and with s3fs a read-ahead block
    of several MB. The samples are those of one open each."""
    import numpy as np

    import sancodec.io.remote as remote

    monkeypatch.chdir(tmp_path)
    whole = sancodec.read_signal(mitdb_100).slice(0, 20_000)
    with fsspec.open("memory://sancodec-cli/once.san", "wb") as out:
        out.write(sancodec.encode(whole, frame_len=4096))
    opened = []
    real = remote.opened_url
    monkeypatch.setattr(remote, "opened_url", lambda u: opened.append(u) or real(u))
    read = {"rec": lambda: sancodec.read_signal(tmp_path / "rec").samples,  # (the streamed WFDB writer)
            "part.npy": lambda: np.load(tmp_path / "part.npy"),
            "x.edf": lambda: sancodec.read_signal(tmp_path / "x.edf").samples}
    for name, more, rows in (("rec", [], slice(0, 20_000)), ("part.npy", ["--start", "100", "--end", "9000"],
                                                             slice(100, 9000)), ("x.edf", [], slice(0, 20_000))):
        opened.clear()
        res = runner.invoke(app, ["decode", "memory://sancodec-cli/once.san", "-o", name, *more])
        assert res.exit_code == 0, res.output
        assert opened == ["memory://sancodec-cli/once.san"], (name, opened)
        assert np.array_equal(read[name]()[: rows.stop - rows.start], whole.samples[rows]), name  # (EDF: padded)
    opened.clear()
    res = runner.invoke(app, ["decode", url, "-o", "l.csv", "--physical"])
    assert res.exit_code == 0 and opened == [url] and (tmp_path / "l.csv").exists()
