"""SAN conventions: spike placement, adjointness, shapes, separate mode, kernel recovery."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sancodec.errors import SanConfigError
from sancodec.train.fit import fit
from sancodec.train.model import SAN, same_padding


@pytest.mark.parametrize("m", [1, 2, 5, 6, 15, 16])
def test_single_spike_decodes_to_scaled_kernel_at_convention(m):
    n, t, a = 60, 30, 2.5
    model = SAN([m], "identity", seed=3)
    w = model.kernels()[0]
    alpha = torch.zeros(1, 1, n)
    alpha[0, 0, t] = a
    x_hat = model.decode(alpha).detach().numpy()[0]
    before, _ = same_padding(m)
    expected = np.zeros(n, dtype=np.float32)
    expected[t - before : t - before + m] = a * w  # w[j] lands at t + j - (m - 1) // 2
    np.testing.assert_allclose(x_hat, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("m", [3, 4])
def test_single_spike_2d(m):
    model = SAN([m], "identity", dim=2, seed=1)
    w = model.kernels()[0]
    alpha = torch.zeros(1, 1, 12, 12)
    alpha[0, 0, 5, 7] = -1.5
    x_hat = model.decode(alpha).detach().numpy()[0]
    p = same_padding(m)[0]
    expected = np.zeros((12, 12), dtype=np.float32)
    expected[5 - p : 5 - p + m, 7 - p : 7 - p + m] = -1.5 * w
    np.testing.assert_allclose(x_hat, expected, rtol=1e-6, atol=1e-6)


def test_encoder_is_cross_correlation_with_same_padding():
    m = 4
    model = SAN([m], "identity", seed=0)
    w = model.kernels()[0].astype(np.float64)
    x = np.random.default_rng(0).normal(size=9)
    p = same_padding(m)[0]
    xp = np.concatenate([np.zeros(p), x, np.zeros(m - 1 - p)])
    s = np.array([xp[t : t + m] @ w for t in range(9)])
    got = model.encode_dense(torch.tensor(x, dtype=torch.float32)[None]).detach().numpy()[0, 0]
    np.testing.assert_allclose(got, np.maximum(s, 0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dim", [1, 2])
def test_decoder_is_adjoint_of_encoder_convolution(dim):
    # <conv(x), alpha> == <x, decode(alpha)> for mixed odd/even sizes.
    model = SAN([3, 4, 7], "identity", dim=dim, seed=2)
    shape = (2, 11) if dim == 1 else (2, 9, 10)
    x = torch.randn(shape)
    w = model.masked_weight().unsqueeze(1)
    before, after = same_padding(max(model.kernel_sizes))
    conv = torch.nn.functional.conv1d if dim == 1 else torch.nn.functional.conv2d
    s = conv(torch.nn.functional.pad(x.unsqueeze(1), (before, after) * dim), w)
    alpha = torch.randn_like(s)
    lhs = (s * alpha).sum()
    rhs = (x * model.decode(alpha)).sum()
    torch.testing.assert_close(lhs, rhs, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("activation", ["identity", "max_activations", "max_pool_indices", "peaks"])
@pytest.mark.parametrize("n", [1, 3, 10, 101])
def test_shapes_for_any_length_including_shorter_than_kernel(activation, n):
    model = SAN([5, 12], activation, seed=0)
    x = torch.randn(3, n)
    x_hat, alpha = model(x)
    assert alpha.shape == (3, 2, n)
    assert x_hat.shape == (3, n)
    model2 = SAN([2, 5], activation, dim=2, seed=0)
    x2 = torch.randn(2, n, 4)
    x_hat2, alpha2 = model2(x2)
    assert alpha2.shape == (2, 2, n, 4) and x_hat2.shape == (2, n, 4)


def test_mixed_activations_apply_per_kernel():
    model = SAN([5, 9, 9], ["identity", "peaks", "max_pool_indices"], seed=4)
    x = torch.randn(2, 200)
    s = model.encode_dense(x)
    alpha = model.encode(x)
    from sancodec.train.activations import max_pool_indices, peaks

    torch.testing.assert_close(alpha[:, 0], s[:, 0])
    torch.testing.assert_close(alpha[:, 1:2], peaks(s[:, 1:2], 9))
    torch.testing.assert_close(alpha[:, 2:3], max_pool_indices(s[:, 2:3], 9))


def test_separate_mode_equals_independent_models():
    sep = SAN([3, 8, 13], "peaks", separate=True, seed=5)
    x = torch.randn(2, 120)
    x_hat, alpha = sep(x)
    assert x_hat.shape == (2, 3, 120)
    for i in range(3):
        single = sep.single(i)
        xs, als = single(x)
        torch.testing.assert_close(x_hat[:, i], xs, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(alpha[:, i : i + 1], als, rtol=1e-5, atol=1e-5)


def test_init_is_normal_with_std_0_1_and_seeded():
    a, b = SAN([200] * 50, seed=7), SAN([200] * 50, seed=7)
    k = np.concatenate(a.kernels())
    assert abs(k.std() - 0.1) < 0.005 and abs(k.mean()) < 0.005
    assert all(np.array_equal(x, y) for x, y in zip(a.kernels(), b.kernels()))


def test_spec_round_trip_keeps_kernels_exactly():
    model = SAN([4, 9], ["peaks", "identity"], seed=1)
    spec = model.to_spec(metadata={"note": "t"})
    again = SAN.from_spec(spec)
    for x, y in zip(model.kernels(), again.kernels()):
        np.testing.assert_array_equal(x, y)
    assert again.activations == ("peaks", "identity")


def test_bad_configuration_raises():
    with pytest.raises(SanConfigError):
        SAN([0])
    with pytest.raises(SanConfigError):
        SAN([3], dim=3)
    with pytest.raises(SanConfigError):
        SAN([3], ["peaks", "identity"])
    with pytest.raises(SanConfigError):
        SAN([3])(torch.randn(2, 3, 4))


def _spike_train_signals(m: int, n: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sparse positive spikes (spaced > 2m) convolved with a known zero-mean kernel."""
    rng = np.random.default_rng(seed)
    j = np.arange(m)
    w = np.cos(1.5 * np.pi * j / (m - 1))
    w = (w / np.linalg.norm(w)).astype(np.float32)
    alpha = np.zeros((count, 1, n), np.float32)
    for i in range(count):
        p = int(rng.integers(0, m))
        while p < n:
            alpha[i, 0, p] = rng.uniform(1, 3)
            p += int(rng.integers(2 * m, 4 * m))
    gen = SAN([m], "identity", seed=None)
    gen.set_kernels([w])
    with torch.no_grad():
        x = gen.decode(torch.from_numpy(alpha)).numpy()
    return w, x


@pytest.mark.parametrize("m", [15, 16])
def test_peaks_san_recovers_a_known_kernel(m):
    # Training is non-convex: take 4 restarts and keep the best by validation φ̄
    # (never by the true kernel), as a user would.
    w, x = _spike_train_signals(m, 800, 10, seed=11)
    best = None
    for seed in range(4):
        model = SAN([m], "peaks", seed=seed)
        result = fit(model, x[:8], x[8:], epochs=40, batch_size=2, seed=seed, device="cpu")
        if best is None or result.best_val_phi[0] < best[1].best_val_phi[0]:
            best = (model, result)
    model, result = best
    k = model.kernels()[0]
    corr = float(k @ w / (np.linalg.norm(k) * np.linalg.norm(w)))
    assert corr > 0.9, corr
    assert result.best_val.l_tilde[0] < 0.2


def test_separate_2d_models_equal_independent_models():
    sep = SAN([2, 2, 3, 3], "max_pool_indices", dim=2, separate=True, group_size=2, seed=2)
    x = torch.randn(3, 11, 9)
    x_hat, _ = sep(x)
    assert x_hat.shape == (3, 2, 11, 9)
    for i in range(2):
        torch.testing.assert_close(x_hat[:, i], sep.single(i)(x)[0], rtol=1e-5, atol=1e-5)
