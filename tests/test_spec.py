"""Model files: exact round trip, versioning, and clear errors on bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sancodec import ModelFileError, SanConfigError, SanSpec, load_model, save_model


def make_spec() -> SanSpec:
    rng = np.random.default_rng(0)
    return SanSpec(
        kernels=(rng.normal(size=7).astype(np.float32), rng.normal(size=4).astype(np.float32)),
        activations=("peaks", "Max-Pool indices"),
        normalization={"kind": "affine", "offset": 1024, "scale": 200},
        metadata={"trained_on": "mitdb 100"},
    )


def test_round_trip_is_bit_exact(tmp_path):
    spec = make_spec()
    path = save_model(spec, tmp_path / "m.json")
    again = load_model(path)
    assert again == spec
    assert again.sha256() == spec.sha256()
    for a, b in zip(spec.kernels, again.kernels):
        assert a.tobytes() == b.tobytes()
    assert again.activations == ("peaks", "max_pool_indices")
    assert again.normalization == {"kind": "affine", "offset": 1024.0, "scale": 200.0}


def test_file_is_versioned_json_not_pickle(tmp_path):
    path = save_model(make_spec(), tmp_path / "m.json")
    data = json.loads(path.read_text())
    assert data["format"] == "sancodec-model" and data["version"] == 1
    assert data["kernel_sizes"] == [7, 4]


def test_sha256_changes_with_any_kernel_value():
    spec = make_spec()
    k = spec.kernels[0].copy()
    k[3] = np.nextafter(k[3], np.float32(np.inf))
    other = SanSpec((k, spec.kernels[1]), spec.activations, normalization=spec.normalization,
                    metadata=spec.metadata)
    assert other.sha256() != spec.sha256()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(version=99),
        lambda d: d.update(format="other"),
        lambda d: d.update(kernel_sizes=[7, 5]),
        lambda d: d.update(activations=["peaks", "softmax"]),
        lambda d: d.update(kernels=[[1.0, "x"], [2.0]]),
        lambda d: d.update(kernels=[[float("nan")], [1.0]]),
        lambda d: d.pop("kernels"),
        lambda d: d.update(normalization={"kind": "affine", "offset": 0, "scale": 0}),
        lambda d: d.update(metadata={"validation_phi": float("nan")}),  # reached the header writer's ValueError
        lambda d: d.update(metadata={"runs": [{"loss": float("inf")}]}),
        lambda d: d.update(metadata=[1, 2]),
        lambda d: d.update(kernel_sizes=[float("inf"), 5]),  # an OverflowError from int()
    ],
)
def test_invalid_model_files_raise_model_file_error(tmp_path, mutate):
    data = make_spec().to_dict()
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ModelFileError):
        load_model(path)


def test_unreadable_paths(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "missing.json")
    with pytest.raises(ModelFileError, match="directory"):
        load_model(tmp_path)
    (tmp_path / "junk.json").write_bytes(b"\x80\x81 not json")
    with pytest.raises(ModelFileError):
        load_model(tmp_path / "junk.json")


def test_spec_validation():
    with pytest.raises(SanConfigError):
        SanSpec(kernels=(np.ones((3, 2)),), activations=("peaks",), dim=2)
    with pytest.raises(SanConfigError):
        SanSpec(kernels=(), activations=())
    spec2d = SanSpec(kernels=(np.ones((3, 3)),), activations="peaks", dim=2)
    assert spec2d.kernel_sizes == (3,)


def test_save_is_atomic_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    path.write_text("old")
    import os

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        save_model(make_spec(), path)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]
