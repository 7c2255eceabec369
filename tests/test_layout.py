"""The layout's promises: the device packages never need torch or onnx, and a custom model
encodes and decodes through the numpy engine when torch, onnx and onnxruntime are all missing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sancodec
from sancodec import SanSpec, read_signal, save_model

REPO = Path(__file__).resolve().parents[1]
#: Packages that may train (torch); every other module must import without torch or onnx.
MAY_TRAIN = ("train", "paper")

BLOCKER = """
import sys
BLOCKED = {blocked!r}
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is blocked in this test")
sys.meta_path.insert(0, _Block())
"""


def _device_modules() -> list[str]:
    names = []
    for path in sorted((REPO / "sancodec").rglob("*.py")):
        rel = path.relative_to(REPO / "sancodec").with_suffix("")
        if rel.parts[0] in MAY_TRAIN or rel.name == "__main__":
            continue
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        names.append(".".join(("sancodec", *parts)))
    return names


def _run_blocked(code: str, blocked: tuple[str, ...], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCKER.format(blocked=set(blocked)) + code], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_every_device_module_imports_with_torch_and_onnx_blocked(tmp_path):
    modules = _device_modules()
    assert {"sancodec.codec.frames", "sancodec.san.runtime", "sancodec.io.wfdb", "sancodec.metrics"} <= set(modules)
    code = "import importlib\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    code += "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'onnx')))"
    out = _run_blocked(code, ("torch", "onnx"), tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_custom_model_encodes_and_decodes_through_the_numpy_engine_with_nothing_else(tmp_path, mitdb_100):
    torch = pytest.importorskip("torch")  # the reference below (what it checks runs without torch)
    from sancodec.train.model import SAN

    spec = SAN([9, 31], ["peaks", "max_pool_indices"], seed=3).to_spec(normalization={"kind": "zscore"})
    save_model(spec, tmp_path / "custom.json")
    code = f"""
import json, numpy as np, sancodec
from sancodec.san.runtime import engine_for
sig = sancodec.read_signal({str(mitdb_100)!r}).slice(0, 20000)
spec = sancodec.load_model({str(tmp_path / 'custom.json')!r})
lossy = sancodec.encode(sig, {str(tmp_path / 'custom.json')!r}, mode="san", frame_len=4096)
exact = sancodec.encode(sig, spec, mode="lossless", predictor="san", frame_len=4096)
back = sancodec.decode(exact)
open({str(tmp_path / 'lossy.san')!r}, "wb").write(lossy)
print(json.dumps({{"engine": list(engine_for(spec).providers),
                  "exact": bool(np.array_equal(back.samples, sig.samples)),
                  "activations": sancodec.codec.decode_file(lossy).activations}}))
"""
    out = _run_blocked(code, ("torch", "onnx", "onnxruntime"), tmp_path)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["engine"] == ["numpy"] and result["exact"]
    # The reference: torch's SAN on the same z-scored frames keeps the same activations
    # (those whose amplitude quantises to at least one step).
    sig = read_signal(mitdb_100).slice(0, 20000)
    expected = 0
    model = SAN.from_spec(spec).eval()
    for ch in range(sig.n_channels):
        for start in range(0, sig.n_samples, 4096):
            f = sig.samples[start : start + 4096, ch].astype(np.float64)
            x = (f - np.rint(f.mean())) / (f.std() or 1.0)
            with torch.no_grad():
                alpha = model.encode(torch.from_numpy(x[None].astype(np.float32))).numpy()
            expected += int((np.rint(alpha / 0.02) > 0).sum())
    assert result["activations"] == expected
    decoded = sancodec.decode((tmp_path / "lossy.san").read_bytes())
    assert decoded.samples.shape == sig.samples.shape
    header = sancodec.codec.read_info((tmp_path / "lossy.san").read_bytes())["header"]
    assert SanSpec.from_dict(header["model"]["spec"]) == spec
