"""benchmarks/ab_revision.py weighs the working tree against a commit: the commit checked out beside it with
compiled kernels (copied where its C sources are these), and each side's encodes timed and sized in a process of its
own."""

import subprocess
import sys
from pathlib import Path

import pytest

import sancodec
from sancodec import Signal, read_signal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import ab_revision  # noqa: E402
import lossy_signals  # noqa: E402


def test_each_signal_is_timed_and_sized_as_the_encoder_codes_it(monkeypatch):
    sig = read_signal(Path(sancodec.__file__).parent / "data" / "samples" / "100")
    excerpt = Signal(sig.samples[:8_000, :1], sig.fs, sig.channel_names[:1], sig.units[:1])
    monkeypatch.setattr(lossy_signals, "SIGNALS", [("ECG", "a", "wfdb/a", 0), ("ECG", "b", "wfdb/b", 0)])
    loaded: list[str] = []
    monkeypatch.setattr(lossy_signals, "load", lambda data_dir, path, channel: loaded.append(path) or excerpt)
    got = ab_revision.measure(Path("."), ["b"], "balanced", 2.0, 2, 1)
    assert list(got) == ["b"] and loaded == ["wfdb/b"]  # only the signal named is read
    seconds, size = got["b"]
    assert seconds > 0
    assert size == len(sancodec.encode(excerpt, mode="lossy", prdn=2.0, effort="balanced"))


def test_only_the_signals_a_folder_holds_are_weighed(tmp_path):
    (tmp_path / "wfdb").mkdir()
    (tmp_path / "wfdb" / "a103l.hea").write_text("")
    (tmp_path / "physionet" / "bidmc").mkdir(parents=True)
    (tmp_path / "physionet" / "bidmc" / "bidmc_01_Signals.csv").write_text("")
    held = ab_revision.held(tmp_path, None)
    assert "challenge-2015 a103l II" in held and "challenge-2015 a103l PLETH" in held
    assert "bidmc 01 II" in held and "bidmc 01 RESP" in held
    assert "mitdb 100 MLII" in held  # the bundled sample stands in for it
    assert "PTB s0010_re lead i" not in held and "Bonn/UCI set A rows" not in held
    assert lossy_signals.load(tmp_path, "wfdb/s0010_re", 0) is None
    assert ab_revision.held(tmp_path, ["challenge-2015 a103l II"]) == ["challenge-2015 a103l II"]


def test_the_commit_is_checked_out_beside_with_its_kernels(tmp_path):
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    tree = ab_revision.worktree(head, tmp_path / "rev")
    try:
        assert (tree / "sancodec" / "__init__.py").exists()
        built = sorted(p.name for p in (ROOT / "sancodec" / "codec").glob("_kernels*.so"))
        assert sorted(p.name for p in (tree / "sancodec" / "codec").glob("_kernels*.so")) == built
        where = subprocess.run([sys.executable, "-c", "import sancodec; print(sancodec.__file__)"], cwd=tree,
                               env={"PYTHONPATH": str(tree), "PATH": ""}, capture_output=True, text=True, check=True)
        assert Path(where.stdout.strip()).resolve().is_relative_to(tree.resolve())
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True)


def test_cythonize_compiles_each_module_named_as_plain_python(tmp_path, monkeypatch):
    (tmp_path / "pkg").mkdir()
    for name in ("a", "b"):
        (tmp_path / "pkg" / f"{name}.py").write_text("x = 1\n")
    monkeypatch.setattr(ab_revision.shutil, "which", lambda name, path=None: f"/bin/{name}")
    ran: list[list[str]] = []

    def run(command, **kwargs):
        ran.append(command)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(ab_revision.subprocess, "run", run)
    ab_revision.cythonized(tmp_path, ["pkg.a", "pkg.b"])
    assert [c[-1] for c in ran] == [str(tmp_path / "pkg" / "a.py"), str(tmp_path / "pkg" / "b.py")]  # one by one
    assert all(c[0] == "/bin/cythonize" and "-i" in c and "annotation_typing=False" in c for c in ran)


def test_cythonize_names_what_it_cannot_do(tmp_path, monkeypatch):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    with pytest.raises(SystemExit, match="no such module.*nope.py"):
        ab_revision.cythonized(tmp_path, ["pkg.a", "pkg.nope"])
    monkeypatch.setattr(ab_revision.shutil, "which", lambda name, path=None: None)
    with pytest.raises(SystemExit, match="needs Cython"):
        ab_revision.cythonized(tmp_path, ["pkg.a"])
    monkeypatch.setattr(ab_revision.shutil, "which", lambda name, path=None: "/bin/cythonize")
    monkeypatch.setattr(ab_revision.subprocess, "run",
                        lambda command, **kwargs: subprocess.CompletedProcess(command, 1, "crashed here", ""))
    with pytest.raises(SystemExit, match="could not compile .*a.py:\ncrashed here"):
        ab_revision.cythonized(tmp_path, ["pkg.a"])
