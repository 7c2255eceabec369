"""ONNX export and the torch-free runtime: parity with torch, a second runtime, packaging, no torch."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import tract
from common import numpy_spec
from onnx.reference import ReferenceEvaluator

import sancodec
from sancodec import SanConfigError, read_signal
from sancodec.export import OPSET, build_decoder, build_encoder, export_model
from sancodec.san.runtime import NumpyEngine, SanRuntime, _scatter_is_cheaper

ACTS = ["identity", "max_activations", "max_pool_indices", "peaks"]


def _pair(spec):
    return SanRuntime.from_spec(spec, providers="cpu")


@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("sizes", [[7], [8], [5, 12]])
@pytest.mark.parametrize("n", [3, 50, 101])
def test_torch_and_onnxruntime_agree_1d(activation, sizes, n):
    torch = pytest.importorskip("torch")  # (a device without torch runs the rest)
    from sancodec.train.model import SAN

    model = SAN(sizes, activation, seed=sum(sizes) + n)
    spec = model.to_spec()
    x = np.random.default_rng(n).normal(size=(3, n)).astype(np.float32)  # batch > 1; n < m, n % m != 0
    with torch.no_grad():
        x_hat_t, alpha_t = model(torch.from_numpy(x))
    rt = _pair(spec)
    alpha = rt.encode(x)
    a_t = alpha_t.numpy()
    np.testing.assert_array_equal(alpha != 0, a_t != 0)
    np.testing.assert_allclose(alpha, a_t, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rt.decode(alpha), x_hat_t.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("sizes", [[3], [4], [2, 5]])
def test_torch_and_onnxruntime_agree_2d(activation, sizes):
    torch = pytest.importorskip("torch")  # (a device without torch runs the rest)
    from sancodec.train.model import SAN

    model = SAN(sizes, activation, dim=2, seed=3)
    x = np.random.default_rng(1).normal(size=(2, 13, 9)).astype(np.float32)
    with torch.no_grad():
        x_hat_t, alpha_t = model(torch.from_numpy(x))
    rt = _pair(model.to_spec())
    alpha = rt.encode(x)
    np.testing.assert_array_equal(alpha != 0, alpha_t.numpy() != 0)
    np.testing.assert_allclose(alpha, alpha_t.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rt.decode(alpha), x_hat_t.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dim", [1, 2])
def test_graphs_give_the_same_outputs_on_a_second_runtime(dim):
    spec = numpy_spec([3, 6], "peaks", dim=dim, seed=2)
    shape = (2, 40) if dim == 1 else (2, 9, 11)
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    enc, dec = build_encoder(spec), build_decoder(spec)
    s_ref = ReferenceEvaluator(enc).run(None, {"x": x})[0]
    rt = _pair(spec)
    np.testing.assert_allclose(rt.similarity(x), s_ref, rtol=1e-5, atol=1e-5)
    alpha = rt.encode(x)
    np.testing.assert_allclose(rt.decode(alpha), ReferenceEvaluator(dec).run(None, {"alpha": alpha})[0],
                               rtol=1e-5, atol=1e-5)



def _run_tract(model_path, x: np.ndarray) -> np.ndarray:
    model = tract.onnx().load(str(model_path))
    model.set_input_fact(0, ",".join(map(str, x.shape)) + ",f32")
    return model.into_model().into_runnable().run([x])[0].to_numpy()


@pytest.mark.parametrize("dim", [1, 2])
def test_exported_files_run_on_tract_an_edge_engine(tmp_path, dim):
    """tract (an embedded inference engine with fewer ops than onnxruntime) runs the shipped graphs."""
    spec = numpy_spec([4, 9], ["peaks", "max_pool_indices"], dim=dim, seed=5)
    files = export_model(spec, tmp_path)["files"]
    shape = (3, 257) if dim == 1 else (2, 15, 12)
    x = np.random.default_rng(4).normal(size=shape).astype(np.float32)
    rt = _pair(spec)
    s = _run_tract(tmp_path / files["encoder"], x)
    np.testing.assert_allclose(s, rt.similarity(x), rtol=1e-5, atol=1e-5)
    alpha = rt.encode(x)
    np.testing.assert_allclose(_run_tract(tmp_path / files["decoder"], alpha), rt.decode(alpha), rtol=1e-5, atol=1e-5)


def test_bundled_default_model_runs_on_tract(mitdb_100):
    folder = Path(sancodec.__file__).parent / "data" / "models" / "default"
    x = read_signal(mitdb_100).samples[:4000].T.astype(np.float32)
    runtime = SanRuntime.from_dir(folder, providers="cpu")
    np.testing.assert_allclose(_run_tract(folder / "encoder.onnx", x), runtime.similarity(x), rtol=1e-5, atol=1e-4)


def test_numpy_engine_matches_onnxruntime():
    spec = numpy_spec([9, 20], ["peaks", "max_pool_indices"], seed=1)
    x = np.random.default_rng(2).normal(size=(2, 500)).astype(np.float32)
    np.testing.assert_allclose(NumpyEngine(spec).similarity(x), _pair(spec).similarity(x), rtol=1e-4, atol=1e-5)


def test_exported_files_are_checked_self_contained_and_labelled(tmp_path):
    spec = numpy_spec([11, 6], ["peaks", "identity"], seed=0, normalization={"kind": "zscore"})
    manifest = export_model(spec, tmp_path, fp16=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "decoder.onnx", "decoder_fp16.onnx", "encoder.onnx", "encoder_fp16.onnx", "manifest.json"]
    for name in ("encoder.onnx", "decoder.onnx"):
        model = onnx.load(str(tmp_path / name), load_external_data=False)
        onnx.checker.check_model(model, full_check=True)
        assert model.opset_import[0].version == OPSET >= 17
        assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
        props = {p.key: p.value for p in model.metadata_props}
        assert props["model_sha256"] == spec.sha256()
        assert json.loads(props["kernel_sizes"]) == [11, 6]
        assert json.loads(props["activations"]) == ["peaks", "identity"]
        assert json.loads(props["normalization"]) == {"kind": "zscore"}
        assert props["sancodec_version"] == sancodec.__version__
    assert json.loads((tmp_path / "manifest.json").read_text())["model_sha256"] == manifest["model_sha256"]
    # Dynamic batch and length: one session serves any shape.
    rt = SanRuntime.from_dir(tmp_path, providers="cpu")
    for shape in [(1, 5), (4, 333)]:
        assert rt.encode(np.ones(shape, np.float32)).shape == (shape[0], 2, shape[1])


def test_fp16_variant_parity(tmp_path):
    export_model(numpy_spec([20, 20], "peaks", seed=4), tmp_path, fp16=True)
    x = np.random.default_rng(3).normal(size=(2, 2000)).astype(np.float32)
    full = SanRuntime.from_dir(tmp_path, providers="cpu")
    half = SanRuntime.from_dir(tmp_path, fp16=True, providers="cpu")
    s32, s16 = full.similarity(x), half.similarity(x)
    assert np.abs(s32 - s16).max() / np.abs(s32).max() < 5e-3
    alpha = full.encode(x)
    r32, r16 = full.decode(alpha), half.decode(alpha)
    assert np.abs(r32 - r16).max() / np.abs(r32).max() < 5e-3


def test_providers_and_log_line(caplog):
    spec = numpy_spec([5])
    with caplog.at_level(logging.INFO, logger="sancodec"):
        rt = SanRuntime.from_spec(spec)
    assert "CPUExecutionProvider" in rt.providers
    assert "onnxruntime providers" in caplog.text
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        with pytest.raises(SanConfigError, match="CUDA"):
            SanRuntime.from_spec(spec, providers="cuda")
    rt1 = SanRuntime.from_spec(spec, providers="cpu", threads=1)
    assert rt1.encode(np.ones((1, 10), np.float32)).shape == (1, 1, 10)


BLOCK_TORCH = textwrap.dedent(
    """
    import sys
    class _NoTorch:
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ImportError("torch is blocked in this test")
            return None
    sys.meta_path.insert(0, _NoTorch())
    """
)


def test_san_round_trip_without_torch_matches_the_torch_path(tmp_path, mitdb_100):
    torch = pytest.importorskip("torch")  # (a device without torch runs the rest)
    from sancodec.train.model import SAN

    script = BLOCK_TORCH + textwrap.dedent(
        f"""
        import sancodec, sancodec.san.runtime
        sig = sancodec.read_signal({str(mitdb_100)!r}).slice(0, 70000)
        data = sancodec.encode(sig, mode="san")
        back = sancodec.decode(data)
        lossless = sancodec.decode(sancodec.encode(sig, mode="lossless"))
        assert (lossless.samples == sig.samples).all()
        open({str(tmp_path / "out.san")!r}, "wb").write(data)
        print("torch" in sys.modules, back.n_samples)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "70000"]

    import sancodec.codec.pipeline as codec  # where the encoder looks the SAN up

    def torch_activations(spec, frames):
        model = SAN.from_spec(spec).eval()
        with torch.no_grad():
            return model.encode(torch.from_numpy(np.ascontiguousarray(frames, dtype=np.float32))).numpy()

    sig = read_signal(mitdb_100).slice(0, 70000)
    original = codec.san_activations
    codec.san_activations = torch_activations
    try:
        torch_bytes = sancodec.encode(sig, mode="san")
    finally:
        codec.san_activations = original
    assert (tmp_path / "out.san").read_bytes() == torch_bytes


def test_sparse_decode_path_matches_the_decoder_graph():
    spec = numpy_spec([150, 231], "peaks", seed=8)
    rt = _pair(spec)
    x = np.random.default_rng(4).normal(size=(3, 3000)).astype(np.float32)
    alpha = rt.encode(x)
    assert _scatter_is_cheaper(alpha, spec.kernel_sizes)  # the scatter path is taken
    (graph,) = rt._dec.run(None, {"alpha": alpha})
    np.testing.assert_allclose(rt.decode(alpha), graph, rtol=1e-5, atol=1e-5)


def test_dense_or_short_kernel_activations_take_the_graph():
    sizes = (20, 20)
    dense = np.ones((1, 2, 1000), dtype=np.float32)
    sparse = np.zeros_like(dense)
    sparse[0, :, ::50] = 1.0  # 2 % non-zero, short kernels: the dense conv is cheaper
    assert not _scatter_is_cheaper(dense, sizes) and not _scatter_is_cheaper(sparse, sizes)
    very_sparse = np.zeros((1, 2, 100_000), dtype=np.float32)
    very_sparse[0, :, ::5000] = 1.0
    assert _scatter_is_cheaper(very_sparse, sizes)


def test_providers_are_a_choice_or_real_provider_names():
    """A provider name given as a string was taken letter by letter ('tpu': providers 't', 'p' and 'u', which
    onnxruntime warned of on stderr and fell back from); an unknown name in a list was the same."""
    spec = numpy_spec([5])
    with pytest.raises(SanConfigError, match="providers must be 'auto', 'cpu', 'cuda' or a list"):
        SanRuntime.from_spec(spec, providers="tpu")
    with pytest.raises(SanConfigError, match="no provider 'TpuExecutionProvider'"):
        SanRuntime.from_spec(spec, providers=["TpuExecutionProvider"])
    assert SanRuntime.from_spec(spec, providers=["CPUExecutionProvider"]).providers == ["CPUExecutionProvider"]


@pytest.mark.parametrize("engine", ["onnxruntime", "numpy"])
def test_inputs_the_graphs_cannot_take_are_refused_in_our_words(engine):
    """Were onnxruntime's InvalidArgument or numpy's 'shapes not aligned' (a raw exception, not a SancodecError),
    and NaN went through the graph into the sparse selection."""
    spec = numpy_spec([9, 20], seed=1)
    rt = _pair(spec) if engine == "onnxruntime" else NumpyEngine(spec)
    good = np.random.default_rng(2).normal(size=(2, 300)).astype(np.float32)
    assert rt.decode(rt.encode(good)).shape == (2, 300)
    for bad, message in ((good[0], "2 dimensions, got shape"), (good[None], "2 dimensions"),
                         (np.full((1, 50), np.nan, np.float32), "NaN or infinity"), (good.astype(str), "numbers")):
        with pytest.raises(SanConfigError, match=message):
            rt.encode(bad)
    alpha = rt.encode(good)
    with pytest.raises(SanConfigError, match="activations of 3 kernels for a model of 2"):
        rt.decode(np.concatenate([alpha, alpha[:, :1]], axis=1))
    with pytest.raises(SanConfigError, match="3 dimensions, got shape"):
        rt.decode(alpha[:, 0])
    with pytest.raises(SanConfigError, match="NaN or infinity"):
        rt.decode(np.where(alpha > 0, np.inf, 0).astype(np.float32))


BLOCK_ONNX_AND_TORCH = textwrap.dedent(
    """
    import sys
    class _Device:  # a device's install: onnxruntime, no onnx package and no torch
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("torch", "onnx"):
                raise ImportError(name + " is blocked in this test")
            return None
    sys.meta_path.insert(0, _Device())
    """
)


def test_an_exported_folder_is_a_model_whose_graphs_run_it(tmp_path, mitdb_100):
    """``sancodec export`` then ``encode --model FOLDER`` on a device (onnxruntime, no onnx package to build graphs
    in memory): the folder's graphs run the model, not the numpy engine, and the file is the training machine's,
    byte for byte; its manifest.json names the model as well."""
    spec = numpy_spec([20, 33], "peaks", seed=5)
    folder = tmp_path / "exported"
    export_model(spec, folder)
    sig = read_signal(mitdb_100).slice(0, 20000)
    here = sancodec.encode(sig, mode="san", model=spec)  # graphs built in memory (onnx is installed here)
    assert sancodec.encode(sig, mode="san", model=folder) == here
    assert sancodec.encode(sig, mode="san", model=folder / "manifest.json") == here
    script = BLOCK_ONNX_AND_TORCH + textwrap.dedent(
        f"""
        import sancodec
        from sancodec.san.runtime import engine_for
        from sancodec.san.spec import load_model
        spec = load_model({str(folder)!r})
        sig = sancodec.read_signal({str(mitdb_100)!r}).slice(0, 20000)
        open({str(tmp_path / "device.san")!r}, "wb").write(sancodec.encode(sig, mode="san", model={str(folder)!r}))
        print(type(engine_for(spec)).__name__, "onnx" in sys.modules, "torch" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["SanRuntime", "False", "False"]
    assert (tmp_path / "device.san").read_bytes() == here
    # the command line takes the folder too, to encode and where a file only references its model, to decode
    from typer.testing import CliRunner

    from sancodec.cli import app

    runner = CliRunner()
    src = tmp_path / "part.npy"
    np.save(src, sig.samples)
    made = runner.invoke(app, ["encode", str(src), "--fs", "360", "--mode", "san", "--model", str(folder), "-o",
                               str(tmp_path / "cli.san")])
    assert made.exit_code == 0, made.output
    back = runner.invoke(app, ["decode", str(tmp_path / "cli.san"), "--model", str(folder), "-o",
                               str(tmp_path / "back.npy")])
    assert back.exit_code == 0, back.output
    assert np.load(tmp_path / "back.npy").shape == sig.samples.shape


def test_an_exported_folder_whose_graphs_hold_other_weights_is_refused(tmp_path, mitdb_100):
    """A graph that names the model in its metadata (swapped graphs are refused by that) but holds other weights would
    code every frame with kernels the file does not carry: refused when its engine is made, in our words."""
    spec = numpy_spec([20, 20], "peaks", seed=6)
    export_model(spec, tmp_path)
    graph = onnx.load(str(tmp_path / "encoder.onnx"))
    for tensor in graph.graph.initializer:
        if tensor.name == "weight":
            tensor.CopyFrom(onnx.numpy_helper.from_array(-onnx.numpy_helper.to_array(tensor), "weight"))
    onnx.save(graph, str(tmp_path / "encoder.onnx"))
    sig = read_signal(mitdb_100).slice(0, 5000)
    with pytest.raises(sancodec.ModelFileError, match="do not compute the model"):
        sancodec.encode(sig, mode="san", model=tmp_path)


def test_a_folder_without_a_manifest_is_not_a_model(tmp_path):
    from sancodec.san.spec import load_model

    with pytest.raises(sancodec.ModelFileError, match="no manifest.json"):
        load_model(tmp_path)


def test_a_file_that_references_its_model_decodes_with_the_model_given_every_way(tmp_path, mitdb_100):
    """``encode(..., embed_model=False)``'s file names its model by SHA-256 alone: ``decode`` and ``open`` take the
    model as a SanSpec, a model file's path or an exported folder's (the error said to pass the model, which
    ``sancodec.decode`` had no way to take)."""
    from sancodec.san.spec import save_model

    spec = numpy_spec([20, 25], "peaks", seed=7)
    sig = read_signal(mitdb_100).slice(0, 8000)
    data = sancodec.encode(sig, mode="san", model=spec, embed_model=False)
    with pytest.raises(sancodec.SanFormatError, match="model= a SanSpec"):
        sancodec.decode(data)
    want = sancodec.decode(sancodec.encode(sig, mode="san", model=spec)).samples
    export_model(spec, tmp_path / "exported")
    for model in (spec, save_model(spec, tmp_path / "model.json"), str(tmp_path / "exported"),
                  tmp_path / "exported" / "manifest.json"):
        assert np.array_equal(sancodec.decode(data, model=model).samples, want)
        with sancodec.open(data, model=model) as f:
            assert np.array_equal(f[2000:3000], want[2000:3000])
    with pytest.raises(SanConfigError, match="model= takes a SanSpec"):
        sancodec.decode(data, model=3)
