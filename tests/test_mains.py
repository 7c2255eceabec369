"""Mains hum as a predictor of lossy wavelet frames (format 1.10, ``codec.mains``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from common import numpy_only, rewrap
from hypothesis import given, settings
from hypothesis import strategies as st

import sancodec
from sancodec import Signal
from sancodec.codec import decode_file, lossy, mains
from sancodec.codec.anatomy import lossy_anatomy
from sancodec.codec.container import SanReader
from sancodec.codec.entropy import ByteReader, ByteWriter, encode_arrays
from sancodec.codec.mains import MAX_AMPLITUDE, Mains, fit_mains, mains_frequency, read_mains
from sancodec.codec.waveletframe import MAINS, read_head
from sancodec.errors import SanFormatError
from sancodec.metrics import prdn


def test_the_sine_table_is_the_rounded_sine_and_the_prediction_a_sinusoid():
    assert [int(v) for v in mains.SINE] == [round(16384 * math.sin(2 * math.pi * i / 1024)) for i in range(1024)]
    fs, f0, n = 500.0, 50.0, 5000
    hum = Mains(round(f0 / fs * 2**32), 1000, np.array([800, 0, -400, 0, 0]), np.array([0, 800, 0, 0, 240]))
    t = np.arange(n) / fs
    k = np.arange(n) // 1000
    want = hum.a[k] / 8 * np.cos(2 * np.pi * f0 * t) + hum.b[k] / 8 * np.sin(2 * np.pi * f0 * t)
    assert np.abs(hum.prediction(n) - want).max() <= 100 * 2 * math.pi / 1024 + 1e-9  # a table step of phase
    assert hum.prediction(n).dtype == np.float64 and np.array_equal(hum.prediction(n), hum.prediction(n))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3000), st.integers(1, 5000), st.integers(0, 2**31))
def test_the_hum_reads_back_as_written(step, block, length, seed):
    block = min(block, length)
    rng = np.random.default_rng(seed)
    count = -(-length // block)
    a, b = (rng.integers(-MAX_AMPLITUDE, MAX_AMPLITUDE + 1, count) for _ in range(2))
    hum = Mains(step, block, a, b)
    w = ByteWriter()
    hum.write(w)
    back = read_mains(ByteReader(w.getvalue()), length)
    assert (back.step, back.block) == (step, block)
    np.testing.assert_array_equal(back.a, a)
    np.testing.assert_array_equal(back.b, b)
    np.testing.assert_array_equal(back.prediction(length), hum.prediction(length))
    assert float(np.abs(hum.prediction(length)).max()) <= 2 * MAX_AMPLITUDE * 2**14 / mains.SCALE


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([0, 1, 2**22 - 1, 2**22, 2**31, 2**32 - 1, 716_896_321]), st.integers(1, 700),
       st.integers(0, 3000), st.integers(0, 2**31))
def test_the_compiled_hum_is_the_integer_formula(step, block, length, seed):
    """The C kernel (a running 32-bit phase, float64 products) and numpy's give the format's integer sum."""
    rng = np.random.default_rng(seed)
    count = max(1, -(-length // block))
    hum = Mains(step, block, *(rng.integers(-MAX_AMPLITUDE, MAX_AMPLITUDE + 1, count) for _ in range(2)))
    t = np.arange(length, dtype=object)
    phase = [int(v) * step % 2**32 >> 22 for v in t]  # Python integers: no wrap anywhere
    k = [int(v) // block for v in t]
    exact = [(int(hum.a[j]) * int(mains.SINE[(p + 256) % 1024]) + int(hum.b[j]) * int(mains.SINE[p])) / 2**17
             for j, p in zip(k, phase)]
    np.testing.assert_array_equal(hum.prediction(length), np.array(exact, dtype=np.float64))
    with pytest.MonkeyPatch.context() as m:
        numpy_only(m)
        np.testing.assert_array_equal(hum.prediction(length), np.array(exact, dtype=np.float64))


def _hostile(block: int, da: list[int], db: list[int], step: bytes = b"\0\0\0\0") -> ByteReader:
    w = ByteWriter()
    w.raw(step)
    w.varint(block)
    blob = encode_arrays([np.array(da, dtype=np.int64), np.array(db, dtype=np.int64)], [False, False])
    w.varint(len(blob))
    w.raw(blob)
    return ByteReader(w.getvalue())


@pytest.mark.parametrize("block, da, db, match", [
    (0, [], [], "blocks of 0"),
    (10, [MAX_AMPLITUDE + 1], [0], "too large"),
    (10, [-(MAX_AMPLITUDE + 1)], [0], "too large"),
    (5, [MAX_AMPLITUDE, MAX_AMPLITUDE], [0, 0], "too large"),  # each difference in range, their sum not
    (5, [2**62, -(2**62)], [0, 0], "too large"),  # a sum that would wrap back into range
])
def test_a_hostile_hum_is_refused(block, da, db, match):
    with pytest.raises(SanFormatError, match=match):
        read_mains(_hostile(block, da, db), 10)


@pytest.mark.parametrize("data", [b"\0\0\0\0\x03\x7f",  # amplitudes' blob longer than what is left
                                  b"\0\0\0\0\x0b",  # a block longer than the frame
                                  b"\0\0\0"])  # no room for the step
def test_a_truncated_hum_is_refused(data):
    with pytest.raises(SanFormatError):
        read_mains(ByteReader(data), 10)


def _ecg_with_hum(n: int = 60000, fs: float = 360.0, f0: float = 59.98, seed: int = 0) -> Signal:
    """Beats, baseline wander, a little noise, and a mains line whose amplitude drifts."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    phase = t % 0.83
    beats = 900 * np.exp(-((phase - 0.3) ** 2) / 1.5e-4) - 150 * np.exp(-((phase - 0.55) ** 2) / 3e-3)
    hum = (25 + 10 * np.sin(2 * np.pi * t / 70)) * np.sin(2 * np.pi * f0 * t + 0.4)
    x = np.rint(beats + 40 * np.sin(2 * np.pi * 0.2 * t) + hum + rng.normal(0, 3, n)).astype(np.int64)
    return Signal(x[:, None], fs, ["MLII"], ["mV"], adc_gain=[200.0], baseline=[0], fmt=["16"])


def test_the_line_is_found_and_fitted():
    sig = _ecg_with_hum()
    x = sig.samples[:, 0]
    f0 = mains_frequency(x, sig.fs)
    assert f0 is not None and abs(f0 - 59.98) < 0.01
    hum = fit_mains([x], sig.fs, f0, [None])[0]
    assert hum.block == 3600 and len(hum.a) == 17
    amplitude = np.hypot(hum.a, hum.b) / 8  # 25 ± 10 over 70 s
    assert 13 < amplitude.min() and amplitude.max() < 37
    rng = np.random.default_rng(1)
    assert mains_frequency(rng.normal(size=60000), 360.0) is None  # no line in white noise
    assert mains_frequency(x, 100.0) is None  # nor where 60 Hz and its surroundings pass Nyquist
    assert mains_frequency(x[:3000], 1e9) is None  # nor where no bin falls within the search (it was an error)
    # balanced's spectrum, padded to the next power of two only (lossy.QUICK_LINE_PADDING): the same line, placed
    # within one of its wider bins, and still none in noise
    coarse = mains_frequency(x, sig.fs, 1)
    assert coarse is not None and abs(coarse - f0) <= sig.fs / (1 << (len(x) - 1).bit_length())
    assert mains_frequency(rng.normal(size=60000), 360.0, 1) is None


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([1, 2**22 - 1, 2**22, 2**31, 2**32 - 1, 716_896_321]), st.integers(1, 500),
       st.integers(1, 2500), st.integers(0, 2**31))
def test_the_compiled_normal_equations_are_numpy_s(step, size, n, seed):
    """``kernels.mains_sums`` (one pass, a running phase) gives the sums of ``mains.normal_equations``, the numpy
    reference (zero-padded design rows), a short last block timed from its own middle; the same hum is fitted."""
    from sancodec.codec import kernels

    if not kernels.COMPILED:
        pytest.skip("the C kernels are not built: nothing to compare numpy's sums with")
    r = np.random.default_rng(seed).normal(0, 100, n)
    gram, rhs = mains.normal_equations(step, r, size)
    compiled = kernels.mains_sums(mains.SINE_F, mains.COSINE_F, step, r, size)
    assert compiled is not None
    np.testing.assert_allclose(compiled[0], gram, rtol=1e-12, atol=1e-9 * max(size, 1) ** 2)
    np.testing.assert_allclose(compiled[1], rhs, rtol=1e-12, atol=1e-9 * float(np.abs(r).sum() + 1) * size)
    assert compiled[0].shape == (-(-n // size), 4, 4) and compiled[1].shape == (-(-n // size), 4)


@pytest.mark.parametrize(("step", "n"), [(716_896_321, 2**18 + 1234), (2**32 - 1, 2**18 + 3600 * 5), (1, 2**19)])
def test_a_long_frame_s_sums_made_in_halves_are_the_whole_pass_s(step, n):
    """``mains._block_sums`` on two threads (a frame of ``SHARED_SUMS`` samples or more): the second half's blocks
    start at the phase the whole pass reaches there (wrapping mod 2^32), so every block's sums are the same bits;
    with a short last block or none."""
    from sancodec.codec import jobs, kernels

    if not kernels.COMPILED:
        pytest.skip("the C kernels are not built: nothing is summed in halves")
    r = np.random.default_rng(n).normal(0, 100, n)
    assert n >= mains.SHARED_SUMS
    whole = kernels.mains_sums(mains.SINE_F, mains.COSINE_F, step, r, 3600)
    calls: list[int] = []
    real = kernels.mains_sums
    with pytest.MonkeyPatch.context() as spy:
        spy.setattr(kernels, "mains_sums", lambda *a: calls.append(len(a[3])) or real(*a))
        with jobs.piece_threads(2):
            halves = mains._block_sums(step, r, 3600)
    assert len(calls) == 2 and sum(calls) == n and calls[0] % 3600 == 0
    assert halves is not None and whole is not None
    assert halves[0].tobytes() == whole[0].tobytes() and halves[1].tobytes() == whole[1].tobytes()


def test_the_compiled_fit_is_numpy_s(monkeypatch):
    """The hum fitted on a record with a drifting line: the same amplitudes from the compiled sums as from numpy's."""
    sig = _ecg_with_hum(n=50000)  # the last block shorter than the others
    x = sig.samples[:, 0]
    compiled = fit_mains([x], sig.fs, 59.98, [None])[0]
    numpy_only(monkeypatch)
    reference = fit_mains([x], sig.fs, 59.98, [None])[0]
    assert compiled.block == reference.block == 3600 and len(compiled.a) == 14
    np.testing.assert_array_equal(compiled.a, reference.a)
    np.testing.assert_array_equal(compiled.b, reference.b)


@pytest.mark.parametrize("fs", [1e9, 1e6, 121.0])
def test_any_sampling_rate_a_header_holds_codes_lossy(fs):
    x = np.round(100 * np.sin(np.arange(3000) / 7.0)).astype(np.int64)[:, None]
    sig = Signal(x, fs, ["a"], ["NU"])
    assert prdn(x[:, 0], sancodec.decode(sancodec.encode(sig, mode="lossy", prdn=2)).samples[:, 0]) <= 2


@pytest.mark.parametrize("target", [1.0, 2.0, 5.0])
def test_a_channel_with_hum_codes_smaller_with_it(target, monkeypatch):
    sig = _ecg_with_hum()
    data = sancodec.encode(sig, mode="lossy", prdn=target)
    assert prdn(sig.samples[:, 0], sancodec.decode(data).samples[:, 0]) <= target
    parts = _wavelet_parts(data)
    assert parts and all(read_head(_after_path(p), None).predictor & MAINS for p in parts)
    assert data[5] in (10, 11, 12, 13)  # 1.10's hum; 1.11 where a band is coded as its prediction's residual too,
    # 1.12 where the frame is quantised dependently, 1.13 where its adaptive stream has parent contexts
    channel = lossy_anatomy(data)[0]
    counted = channel.head_bytes + channel.template_bytes + channel.mains_bytes
    assert channel.mains_bytes > 0
    assert channel.bytes == pytest.approx(counted + sum(b.bytes for b in channel.bands.values()))
    monkeypatch.setattr(lossy, "mains_frequency", lambda x, fs, *padding: None)
    without = sancodec.encode(sig, mode="lossy", prdn=target)
    assert len(data) < 0.97 * len(without)
    numpy_only(monkeypatch)  # the reference kernels rebuild the same samples
    np.testing.assert_array_equal(sancodec.decode(data).samples, decode_file(data).signal.samples)


def test_the_template_and_hum_prediction_is_numpy_s_bit_for_bit(monkeypatch):
    """frame_prediction with both: the compiled template sum over 512, the hum added to it in place, is the
    numpy reference's ``acc / 512.0 + hum``; a prediction it may not add to is refused."""
    from sancodec.codec import kernels
    from sancodec.codec.beats import BeatTemplate
    from sancodec.codec.waveletframe import frame_prediction

    rng = np.random.default_rng(11)
    length = 30011
    positions = np.sort(rng.choice(length, 90, replace=False)).astype(np.int64)
    template = BeatTemplate(rng.integers(-(1 << 18), 1 << 18, 250), 100, positions, rng.integers(-100, 200, 90))
    blocks = -(-length // 3600)
    hum = Mains(int(rng.integers(0, 1 << 32)), 3600, rng.integers(-(1 << 30), 1 << 30, blocks),
                rng.integers(-(1 << 30), 1 << 30, blocks))
    compiled = [frame_prediction(t, m, length).tobytes() for t, m in ((template, hum), (None, hum), (template, None))]
    numpy_only(monkeypatch)
    assert [frame_prediction(t, m, length).tobytes() for t, m in ((template, hum), (None, hum), (template, None))] \
        == compiled
    monkeypatch.undo()
    if kernels.COMPILED:
        with pytest.raises(ValueError, match="add_to"):
            hum.prediction(length, add_to=np.zeros(length, dtype=np.float32))


def test_the_compiled_and_numpy_decoders_agree_on_hum(monkeypatch):
    data = sancodec.encode(_ecg_with_hum(n=20000), mode="lossy", prdn=2.0)
    compiled = sancodec.decode(data).samples
    numpy_only(monkeypatch)
    np.testing.assert_array_equal(sancodec.decode(data).samples, compiled)


def test_a_frame_with_hostile_hum_is_refused():
    """A hum of blocks of 0 samples put in a frame's place (a channel without beats: the hum follows the head)."""
    rng = np.random.default_rng(2)
    t = np.arange(20000) / 360.0
    x = np.rint(30 * np.sin(2 * np.pi * 60.0 * t) + 50 * np.sin(2 * np.pi * 0.3 * t) + rng.normal(0, 5, len(t)))
    data = sancodec.encode(Signal(x.astype(np.int64)[:, None], 360.0, ["x"], ["mV"]), mode="lossy", prdn=5.0,
                           effort="best")
    [part] = _wavelet_parts(data)
    r = _after_path(part)
    assert read_head(r, None).predictor & (MAINS | 1) == MAINS
    start = len(part) - r.remaining()
    read_mains(r, 20000)
    end = len(part) - r.remaining()
    w = ByteWriter()
    w.raw(b"\0\0\0\0")
    w.varint(0)  # blocks of 0 samples
    frame = ByteWriter()
    hostile = part[:start] + w.getvalue() + part[end:]
    frame.varint(len(hostile))
    frame.raw(hostile)
    with pytest.raises(SanFormatError, match="blocks of 0"):
        decode_file(rewrap(data, frames=[frame.getvalue()]))


def test_the_hum_is_weighed_on_the_plain_coding_where_it_saved_nothing_on_the_template_s(monkeypatch):
    """A beatless channel with a 60 Hz hum: its "beats" are noise, and a template of them is a piece of the hum, so
    the hum fitted after that template saves nothing; the default weighs the hum on the plain coding then, and keeps
    it there (the template's coding without the hum is a fifth larger)."""
    rng = np.random.default_rng(2)
    t = np.arange(20000) / 360.0
    x = np.rint(30 * np.sin(2 * np.pi * 60.0 * t) + 50 * np.sin(2 * np.pi * 0.3 * t) + rng.normal(0, 5, len(t)))
    sig = Signal(x.astype(np.int64)[:, None], 360.0, ["x"], ["mV"])
    weighed: list[tuple[bool, int | None]] = []  # (on a template's coding, the hum's coding's bytes)
    real = lossy._hum_coding

    def spy(coded, *args, **kwargs):
        out = real(coded, *args, **kwargs)
        size = None if out is None else sum(map(len, out.payloads()))
        weighed.append((coded.prepared.templates[0] is not None, size))
        return out

    monkeypatch.setattr(lossy, "_hum_coding", spy)
    data = sancodec.encode(sig, mode="lossy", effort="best", prdn=5.0, threads=1)
    assert [on_template for on_template, _ in weighed] == [True, False]
    [part] = _wavelet_parts(data)
    assert read_head(_after_path(part), None).predictor & (MAINS | 1) == MAINS  # the hum, no template
    assert prdn(x, sancodec.decode(data).samples[:, 0]) <= 5.0
    with monkeypatch.context() as m:  # the hum weighed on the template's coding alone: larger
        m.setattr(lossy, "_hum_coding", lambda coded, *a, **k: real(coded, *a, **k)
                  if coded.prepared.templates[0] is not None else None)
        assert len(sancodec.encode(sig, mode="lossy", effort="best", prdn=5.0, threads=1)) > 1.1 * len(data)


def _after_path(part: bytes) -> ByteReader:
    r = ByteReader(part, "frame")
    r.varint()
    return r


def _wavelet_parts(data: bytes) -> list[bytes]:
    reader = SanReader(data)
    parts = []
    for i in range(reader.n_frames):
        frame = ByteReader(reader.read_frame(i))
        while frame.remaining():
            part = frame.raw(frame.varint())
            if part[0] == 3:
                parts.append(part)
    return parts


def test_balanced_codes_the_hum_on_long_channels_and_fast_never(monkeypatch):
    """Effort balanced looks for the hum on channels of lossy.QUICK_MAINS samples or more and codes it where its
    bit estimate says it pays; fast never looks (its speed)."""
    sig = _ecg_with_hum(n=lossy.QUICK_MAINS + 4000)
    balanced = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced")
    assert all(read_head(_after_path(p), None).predictor & MAINS for p in _wavelet_parts(balanced))
    assert prdn(sig.samples[:, 0], sancodec.decode(balanced).samples[:, 0]) <= 2.0
    fast = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="fast")
    assert not any(read_head(_after_path(p), None).predictor & MAINS for p in _wavelet_parts(fast))
    monkeypatch.setattr(lossy, "QUICK_MAINS", 1 << 40)
    assert len(balanced) < 0.97 * len(sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced"))
    monkeypatch.undo()
    short = _ecg_with_hum(n=lossy.QUICK_MAINS - 4000)  # under QUICK_MAINS: balanced leaves it out
    data = sancodec.encode(short, mode="lossy", prdn=2.0, effort="balanced")
    assert not any(read_head(_after_path(p), None).predictor & MAINS for p in _wavelet_parts(data))


def test_the_hum_is_looked_for_beside_the_rate_control_and_not_again(monkeypatch):
    """The default effort, with a thread to spare: the hum for the template's coding is handed to ``run_jobs`` with
    two threads beside that coding's rate control (``lossy._controlled_with_hum``), and used as made: no more fits
    than on one thread, where it is fitted after; the file is the one-thread file."""
    from sancodec.codec import jobs

    effort = "best"
    sig = _ecg_with_hum(n=60000)
    fitted, handed = [], []
    real, real_jobs = lossy._hum_candidate, jobs.run_jobs

    def spy(*args):
        fitted.append(args)
        return real(*args)

    def spy_jobs(work, sizes, threads):
        handed.append((threads, [getattr(getattr(job, "func", job), "__name__", "?") for job in work]))
        return real_jobs(work, sizes, threads)

    monkeypatch.setattr(lossy, "_hum_candidate", spy)
    monkeypatch.setattr(jobs, "run_jobs", spy_jobs)
    alone = sancodec.encode(sig, mode="lossy", prdn=2.0, effort=effort, threads=1)
    assert fitted and not any("spy" in names for _, names in handed)
    one_thread = len(fitted)
    fitted.clear()
    shared = sancodec.encode(sig, mode="lossy", prdn=2.0, effort=effort, threads=2)
    assert shared == alone
    assert len(fitted) == one_thread  # fitted once, the candidate made ahead used
    assert (2, ["rate_control", "spy"]) in handed  # beside the template coding's rate control
    parts = _wavelet_parts(shared)
    assert all(read_head(_after_path(p), None).predictor & (MAINS | 1) == MAINS | 1 for p in parts)  # template, hum


def test_balanced_looks_for_the_line_in_the_channel_beside_its_beat_detection(monkeypatch):
    """Effort balanced looks for the mains line once per channel, in the channel's own samples (not less its
    template), handed to ``run_jobs`` with two threads beside ``quick_templates`` (after the first step, on the same
    thread); the file is the one-thread file, with the template and the hum."""
    from sancodec.codec import jobs

    sig = _ecg_with_hum(n=lossy.QUICK_MAINS + 4000)
    looked, handed = [], []
    real, real_jobs = lossy.mains_frequency, jobs.run_jobs

    def spy(x, fs, padding=4):
        looked.append(np.array(x))
        return real(x, fs, padding)

    def spy_jobs(work, sizes, threads):
        handed.append((threads, [getattr(getattr(job, "func", job), "__name__", "?") for job in work]))
        return real_jobs(work, sizes, threads)

    monkeypatch.setattr(lossy, "mains_frequency", spy)
    monkeypatch.setattr(jobs, "run_jobs", spy_jobs)
    alone = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced", threads=1)
    # the raw channel (its first lossy.QUICK_LINE_SAMPLES samples), once
    assert len(looked) == 1 and np.array_equal(looked[0], sig.samples[: lossy.QUICK_LINE_SAMPLES, 0])
    looked.clear()
    shared = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced", threads=2)
    assert shared == alone and len(looked) == 1
    # the line looked for once the first step is made (lossy._line_then_plain), and the exact coding's look at the head
    assert (2, ["quick_templates", "_line_then_plain", "look_at_head"]) in handed
    parts = _wavelet_parts(shared)
    assert all(read_head(_after_path(p), None).predictor & (MAINS | 1) == MAINS | 1 for p in parts)  # template, hum


def test_balanced_decides_the_hum_on_the_head_and_runs_one_rate_control(monkeypatch):
    """Effort balanced fits the hum on the templated head first (``templatesearch.QUICK_HEAD`` samples) and, where
    it lowers the head's estimate under ``QUICK_MAINS_GAIN`` of its estimate without, on the whole channel, which
    then goes through one rate control (the default codes with and without the hum, each through rate control);
    where the head says no, no channel fit and no hum in the file."""
    from sancodec.codec import templatesearch

    sig = _ecg_with_hum(n=templatesearch.QUICK_HEAD + 4000)  # past the head (and QUICK_MAINS)
    fits, controls = [], []
    real_fit, real_control = lossy.fit_mains, lossy.rate_control
    monkeypatch.setattr(lossy, "fit_mains",
                        lambda frames, *a: fits.append(sum(map(len, frames))) or real_fit(frames, *a))
    monkeypatch.setattr(lossy, "rate_control", lambda *a, **k: controls.append(1) or real_control(*a, **k))
    data = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced")
    assert fits == [templatesearch.QUICK_HEAD, len(sig.samples)] and controls == [1]
    assert all(read_head(_after_path(p), None).predictor & MAINS for p in _wavelet_parts(data))
    assert prdn(sig.samples[:, 0], sancodec.decode(data).samples[:, 0]) <= 2.0
    fits.clear()
    monkeypatch.setattr(lossy, "QUICK_MAINS_GAIN", 0.0)  # no estimate falls under 0: the head says no
    data = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced")
    assert fits == [templatesearch.QUICK_HEAD]
    assert not any(read_head(_after_path(p), None).predictor & MAINS for p in _wavelet_parts(data))


def _whole_spectrum_candidates(x: np.ndarray, fs: float) -> list[tuple[float, float, float]]:
    """``mains.line_candidates`` as ``mains_frequency`` was written first: from the whole spectrum's power and
    ``np.fft.rfftfreq``'s frequencies (the reference)."""
    x = np.asarray(x[: mains.SPECTRUM_SAMPLES], dtype=np.float64)
    if len(x) < 64 or not fs > 0:
        return []
    size = min(1 << (4 * len(x) - 1).bit_length(), mains.SPECTRUM_SIZE)
    power = np.abs(np.fft.rfft(x - x.mean(), size)) ** 2
    freqs = np.fft.rfftfreq(size, 1 / fs)
    width = max(1, round(2 * size / len(x)))
    out = []
    for nominal in mains.NOMINAL:
        if nominal + mains.FLOOR >= fs / 2:
            continue
        near = np.flatnonzero(np.abs(freqs - nominal) <= mains.SEARCH)
        if not len(near):
            continue
        peak = int(near[np.argmax(power[near])])
        line = float(power[max(peak - width, 0) : peak + width + 1].sum())
        level = float(np.median(power[np.abs(freqs - freqs[peak]) <= mains.FLOOR])) * (2 * width + 1)
        out.append((float(freqs[peak]), line, level))
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(64, 40000), st.sampled_from([100.5, 111.0, 128.0, 250.0, 360.0, 1000.0, 8000.0, 1e9]),
       st.sampled_from([50.0, 60.0]), st.floats(-1.5, 1.5), st.floats(0.0, 3.0), st.integers(0, 2**32 - 1))
def test_the_line_is_looked_for_near_the_nominal_frequencies_only_with_the_same_values(n, fs, nominal, off,
                                                                                      amplitude, seed):
    """``mains.line_candidates`` squares and searches only the bins around 50 and 60 Hz: the frequencies, line
    powers and levels the whole spectrum gives, bit for bit, at any rate (the bins clipped at 0 and Nyquist), so
    ``mains_frequency`` finds the lines it found."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n) + amplitude * np.sin(2 * np.pi * (nominal + off) * np.arange(n) / fs + rng.uniform(0, 6))
    x += np.cumsum(rng.normal(0, 0.05, n))  # a spectrum that falls with frequency: the level's window matters
    assert mains.line_candidates(x, fs) == _whole_spectrum_candidates(x, fs)
