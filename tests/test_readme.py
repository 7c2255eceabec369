"""The README's Python example runs as written (on the bundled sample record), so the front page cannot
drift from the API."""

from __future__ import annotations

import re
from pathlib import Path

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
