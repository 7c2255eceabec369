"""What a device that only encodes and decodes runs on: the runtime imports without torch, and the decoder with numpy
alone (no onnx here either: these run where neither torch nor onnx is installed; tests/test_runtime.py holds the ONNX
graphs' own tests)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

import sancodec
from sancodec import read_signal


def test_importing_runtime_does_not_import_torch():
    out = subprocess.run([sys.executable, "-c", "import sys, sancodec, sancodec.san.runtime, sancodec.san.sparse, "
                          "sancodec.codec; print('torch' in sys.modules)"], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_a_device_decodes_with_numpy_alone(tmp_path, mitdb_100):
    """``pip install --no-deps sancodec`` beside numpy (README, "Decoding on a device"): the decoder imports none of
    the other dependencies (wfdb-python's scipy, pandas and matplotlib are most of a full install's 576 MB on
    aarch64), onnxruntime and torch neither: lossless, near-lossless, lossy and SAN files decode."""
    sig = read_signal(mitdb_100).slice(0, 20000)
    files = {"lossless": sancodec.encode(sig), "lossy": sancodec.encode(sig, mode="lossy", prdn=3),
             "san": sancodec.encode(sig, mode="san")}
    for name, data in files.items():
        (tmp_path / f"{name}.san").write_bytes(data)
    golden = Path(__file__).parent / "golden" / "v1.0"
    script = textwrap.dedent(
        f"""
        import sys
        ONLY_NUMPY = {{"torch", "onnxruntime", "wfdb", "scipy", "pandas", "matplotlib", "edfio", "zstandard", "typer",
                       "rich", "constriction", "soundfile", "numcodecs", "zarr", "distributed", "dask", "onnx"}}
        class _Blocked:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ONLY_NUMPY:
                    raise ImportError(name + " is blocked in this test")
                return None
        sys.meta_path.insert(0, _Blocked())
        from pathlib import Path
        import sancodec
        shapes = []
        for f in [*sorted(Path({str(golden)!r}).glob("*.san")), *sorted(Path({str(tmp_path)!r}).glob("*.san"))]:
            shapes.append(sancodec.decode(f.read_bytes()).samples.shape)
        print(len(shapes), sorted(set(shapes)))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    count = len(list(golden.glob("*.san"))) + len(files)
    assert out.stdout.strip() == f"{count} [(2000, 4), (20000, 2)]"
    back = sancodec.decode(files["lossless"])
    assert np.array_equal(back.samples, sig.samples)


def test_commands_on_files_that_are_no_wfdb_record_do_not_import_wfdb(tmp_path):
    """wfdb-python brings pandas with it (a third of a second, twice that on a slow disk): encode, decode and info of
    a .npy, an EDF or a WAV do not wait on it (an encode's check of which files it must not write over asked for it
    before looking whether its input was a record at all)."""
    np.save(tmp_path / "x.npy", (np.arange(3000) % 97).astype(np.int16))
    script = textwrap.dedent(
        """
        import runpy, sys
        for argv in (["encode", "x.npy", "--fs", "250", "-o", "x.san", "-q"], ["decode", "x.san", "-o", "y.npy", "-q"],
                     ["decode", "x.san", "-o", "y.edf", "-q"], ["decode", "x.san", "-o", "y.wav", "-q"],
                     ["encode", "y.edf", "-o", "e.san", "-q"], ["encode", "y.wav", "-o", "w.san", "-q"],
                     ["info", "x.san"], ["check", "x.san", "-q"]):
            sys.argv = ["sancodec", *argv]
            try:
                runpy.run_module("sancodec", run_name="__main__")
            except SystemExit as exc:
                assert not exc.code, (argv, exc.code)
        print("wfdb" in sys.modules, "pandas" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-2:] == ["False", "False"]
