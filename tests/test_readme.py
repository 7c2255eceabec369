"""The README's Python example runs as written (on the bundled sample record), so the front page cannot
drift from the API; the format documents name the version the reader knows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import sancodec

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_python_example_runs(tmp_path, monkeypatch):
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Python\n", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    sample = Path(sancodec.__path__[0]) / "data" / "samples" / "100"
    assert '"sancodec/data/samples/100"' in code
    code = code.replace('"sancodec/data/samples/100"', repr(str(sample)))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    exec(compile(code, str(README), "exec"), {"__name__": "readme_example"})
    assert (tmp_path / "out" / "100.san").stat().st_size > 0
    assert sancodec.open(tmp_path / "out" / "100_live.san").header["lossy"]["target"] == {"prdn": 2}


def test_the_package_docstrings_example_runs(tmp_path, monkeypatch):
    """``help(sancodec)``'s example runs as written, on a copy of the bundled sample record: each step gives
    what its comment says (the lossless decode the very samples, the stream encode's bytes)."""
    import shutil
    import textwrap

    code = textwrap.dedent(sancodec.__doc__.split("::\n", 1)[1].split("\n\n", 1)[0])
    assert 'read_signal("rec")' in code
    code = code.replace('read_signal("rec")', 'read_signal("100")')  # (its .hea names its own .dat)
    samples = Path(sancodec.__path__[0]) / "data" / "samples"
    for suffix in (".hea", ".dat", ".atr"):
        shutil.copy(samples / f"100{suffix}", tmp_path / f"100{suffix}")
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    names: dict = {}
    exec(compile(code, "sancodec.__doc__", "exec"), names)
    assert (names["back"].samples == names["sig"].samples).all()
    assert names["part"].shape == (3600, 2) and len(names["small"]) < len(names["data"]) / 1.5
    assert (tmp_path / "rec.san").read_bytes() == names["data"]
    assert (sancodec.read_signal(tmp_path / "out" / "rec").samples == names["sig"].samples).all()


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


@pytest.mark.filterwarnings("ignore:Numcodecs codecs are not in the Zarr version 3 specification")
def test_the_multisegment_numcodecs_and_zarr_examples_run(tmp_path, monkeypatch):
    """The README's other self-contained examples (a multi-segment record, the numcodecs codec, the Zarr 3
    serializer, a lazy Dask array) run as written, so that what they print and assert stays true; the ONNX
    runtime's needs an exported model (tests/test_runtime.py runs that path)."""
    pytest.importorskip("zarr")
    samples = Path(sancodec.__path__[0]) / "data" / "samples"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    starts = ("import sancodec\nsig = sancodec.read_signal(\"sancodec/data/samples/multisegment/ms100\")",
              "import numcodecs, numpy as np", "import numpy as np, zarr", "import dask.array as da")
    chosen = [b for b in _blocks() if b.startswith(starts)]
    assert len(chosen) == 4
    for code in chosen:
        code = code.replace('"sancodec/data/samples/', '"' + str(samples) + "/")
        exec(compile(code, str(README), "exec"), {"__name__": "readme_example"})
    assert (tmp_path / "out" / "ms100.hea").exists() and (tmp_path / "out" / "ecg.zarr").is_dir()
    assert (tmp_path / "out" / "100_lazy.san").stat().st_size > 0


def test_the_format_documents_name_the_version_the_reader_knows():
    """``docs/FORMAT.md``'s title and the README's file-format paragraph name the newest minor version (they went
    two versions stale once), and FORMAT.md says what that version adds."""
    from sancodec.codec.container import MAJOR, MINOR

    version = f"{MAJOR}.{MINOR}"
    spec = (README.parent / "docs" / "FORMAT.md").read_text(encoding="utf-8")
    assert spec.splitlines()[0] == f"# The `.san` file format, version {version}"
    assert f"**{version}**" in spec
    assert f"specifies every byte of format {version}:" in README.read_text(encoding="utf-8")
