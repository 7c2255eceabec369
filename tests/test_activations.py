"""Each vectorised activation equals its plain sequential reference (sancodec.paper.reference)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sancodec.errors import SancodecError, SanConfigError
from sancodec.paper.reference import (
    max_activations_ref,
    max_pool_indices_ref,
    peak_candidates_ref,
    peaks_ref,
)
from sancodec.san import sparse
from sancodec.train.activations import (
    apply_activation,
    identity,
    max_activations,
    max_pool_indices,
    normalize_activation_name,
    peaks,
)

# Small integer alphabets produce many ties and plateaus; the float strategy covers the rest.
VALUES = st.one_of(
    st.integers(0, 3).map(float),
    st.floats(0, 10, allow_nan=False, width=32),
)


@st.composite
def maps_1d(draw):
    batch = draw(st.integers(1, 2))
    kernels = draw(st.integers(1, 3))
    n = draw(st.integers(1, 70))
    coarse = draw(st.booleans())
    elems = st.integers(0, 3).map(float) if coarse else VALUES
    data = draw(st.lists(elems, min_size=batch * kernels * n, max_size=batch * kernels * n))
    return np.asarray(data, dtype=np.float32).reshape(batch, kernels, n)


@st.composite
def maps_2d(draw):
    batch = draw(st.integers(1, 2))
    kernels = draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 13)), draw(st.integers(1, 13))
    coarse = draw(st.booleans())
    elems = st.integers(0, 3).map(float) if coarse else VALUES
    data = draw(st.lists(elems, min_size=batch * kernels * h * w, max_size=batch * kernels * h * w))
    return np.asarray(data, dtype=np.float32).reshape(batch, kernels, h, w)


def per_kernel_ref(ref, s: np.ndarray, params: list[int]) -> np.ndarray:
    return np.stack([np.stack([ref(s[b, k], params[k]) for k in range(s.shape[1])]) for b in range(s.shape[0])])


# The torch-free runtime's numpy implementations, checked on every example alongside torch's.
NUMPY_TWIN = {peaks: sparse.peaks, max_pool_indices: sparse.max_pool_indices, max_activations: sparse.max_activations}


def check(fn, ref, s: np.ndarray, params: list[int]) -> None:
    want = per_kernel_ref(ref, s, params)
    np.testing.assert_array_equal(fn(torch.from_numpy(s), params).numpy(), want)
    np.testing.assert_array_equal(NUMPY_TWIN[fn](s, params), want)


@given(maps_1d(), st.data())
def test_peaks_1d_matches_sequential(s, data):
    mpd = data.draw(st.lists(st.integers(1, 90), min_size=s.shape[1], max_size=s.shape[1]))
    check(peaks, peaks_ref, s, mpd)


@given(maps_2d(), st.data())
def test_peaks_2d_matches_sequential(s, data):
    mpd = data.draw(st.lists(st.integers(1, 15), min_size=s.shape[1], max_size=s.shape[1]))
    check(peaks, peaks_ref, s, mpd)


@given(maps_1d(), st.data())
def test_max_pool_indices_1d_matches_sequential(s, data):
    m = data.draw(st.lists(st.integers(1, 90), min_size=s.shape[1], max_size=s.shape[1]))
    check(max_pool_indices, max_pool_indices_ref, s, m)


@given(maps_2d(), st.data())
def test_max_pool_indices_2d_matches_sequential(s, data):
    m = data.draw(st.lists(st.integers(1, 15), min_size=s.shape[1], max_size=s.shape[1]))
    check(max_pool_indices, max_pool_indices_ref, s, m)


@given(maps_1d(), st.data())
def test_max_activations_1d_matches_sequential(s, data):
    k = data.draw(st.lists(st.integers(1, 80), min_size=s.shape[1], max_size=s.shape[1]))
    check(max_activations, max_activations_ref, s, k)


@given(maps_2d(), st.data())
def test_max_activations_2d_matches_sequential(s, data):
    k = data.draw(st.lists(st.integers(1, 200), min_size=s.shape[1], max_size=s.shape[1]))
    check(max_activations, max_activations_ref, s, k)


def test_peaks_plateau_gives_its_first_sample_and_rising_plateau_none():
    s = np.array([0, 1, 3, 3, 3, 1, 0, 2, 2, 5, 1], dtype=np.float32)
    assert peak_candidates_ref(s) == [2, 9]
    out = peaks(torch.from_numpy(s).view(1, 1, -1), 1).view(-1).numpy()
    assert np.flatnonzero(out).tolist() == [2, 9]


def test_peaks_suppression_bound_is_inclusive():
    s = torch.zeros(1, 1, 20)
    s[0, 0, 5], s[0, 0, 8], s[0, 0, 12] = 5.0, 4.0, 3.0
    kept = peaks(s, 3).view(-1).nonzero().view(-1).tolist()
    assert kept == [5, 12]  # 8 is exactly mpd=3 from 5: suppressed; 12 is 4 away from 8's suppressor
    kept = peaks(s, 2).view(-1).nonzero().view(-1).tolist()
    assert kept == [5, 8, 12]


def test_peaks_greedy_chain_needs_order():
    # 10 > 9 > 8: 10 suppresses 9, so 8 (2 from 9, 4 from 10) survives with mpd = 2.
    s = torch.zeros(1, 1, 12)
    s[0, 0, 2], s[0, 0, 4], s[0, 0, 6] = 10.0, 9.0, 8.0
    assert peaks(s, 2).view(-1).nonzero().view(-1).tolist() == [2, 6]


def test_peaks_equal_amplitudes_keep_lower_index():
    s = torch.zeros(1, 1, 10)
    s[0, 0, 2] = s[0, 0, 4] = 7.0
    assert peaks(s, 3).view(-1).nonzero().view(-1).tolist() == [2]


def test_edge_samples_can_be_peaks():
    s = torch.tensor([[[5.0, 1.0, 0.0, 1.0, 6.0]]])
    assert peaks(s, 1).view(-1).nonzero().view(-1).tolist() == [0, 4]


def test_max_pool_indices_keeps_first_max_and_skips_zero_windows():
    s = torch.tensor([[[1.0, 3.0, 3.0, 0.0, 0.0, 0.0, 2.0]]])
    out = max_pool_indices(s, 3).view(-1).tolist()
    assert out == [0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 2.0]


@settings(max_examples=25, deadline=None)
@given(st.integers(sparse.PREFILTER_MIN_LENGTH, 3 * sparse.PREFILTER_MIN_LENGTH), st.integers(1, 400),
       st.integers(0, 2**32 - 1), st.sampled_from([3, 50, 10**6]))
def test_max_activations_on_long_rows_matches_sequential(n, m, seed, levels):
    """Rows long enough for the sampled pre-filter; few levels give many ties at the k-th value."""
    rng = np.random.default_rng(seed)
    s = np.maximum(rng.integers(-levels, levels, size=(2, 2, n)), 0).astype(np.float32)
    check(max_activations, max_activations_ref, s, [max(1, n // m), max(1, n // (m + 7))])


def test_max_activations_prefilter_falls_back_when_the_sample_misleads():
    n = 2 * sparse.PREFILTER_MIN_LENGTH
    s = np.ones((1, 1, n), dtype=np.float32)
    s[..., :: sparse.PREFILTER_STRIDE] = 10.0  # the sample sees only the large values
    s[0, 0, 5] = 3.0
    k = n // 4  # more than the sampled positions: the bound from the sample keeps too few
    check(max_activations, max_activations_ref, s, [k])


def test_max_activations_ties_break_to_lower_index():
    s = torch.tensor([[[1.0, 2.0, 2.0, 2.0, 0.5]]])
    assert max_activations(s, 2).view(-1).tolist() == [0.0, 2.0, 2.0, 0.0, 0.0]


def test_identity_returns_input():
    s = torch.rand(2, 3, 5)
    assert torch.equal(identity(s), s)


@pytest.mark.parametrize("fn", [peaks, max_pool_indices, max_activations])
def test_gradients_flow_to_kept_values_only(fn):
    s = torch.rand(1, 2, 30, requires_grad=True)
    out = fn(s, 4)
    out.sum().backward()
    np.testing.assert_array_equal(s.grad.numpy(), (out.detach() != 0).float().numpy())


def test_apply_activation_derives_parameters_from_kernel_size():
    s = torch.rand(2, 2, 100)
    torch.testing.assert_close(apply_activation("max-activations", s, [10, 30]), max_activations(s, [10, 3]))
    s2 = torch.rand(1, 1, 28, 28)
    got = apply_activation("Max-Activations", s2, [3])
    assert int((got != 0).sum()) == 81  # k = floor(28/3)^2
    torch.testing.assert_close(apply_activation("max_pool", s, [4, 5]), max_pool_indices(s, [4, 5]))
    torch.testing.assert_close(apply_activation("peaks", s, [4, 5]), peaks(s, [4, 5]))
    assert apply_activation("identity", s, [4, 5]) is s


def test_bad_arguments_raise_library_errors():
    with pytest.raises(SanConfigError):
        peaks(torch.rand(3, 4), 2)
    with pytest.raises(SanConfigError):
        max_pool_indices(torch.rand(1, 2, 5), [1, 2, 3])
    with pytest.raises(SanConfigError):
        max_activations(torch.rand(1, 1, 5), 0)
    with pytest.raises(SancodecError):
        normalize_activation_name("softmax")
