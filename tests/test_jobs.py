"""Decoding pieces side by side (``codec.jobs``): results in order, really on several threads, the first
failure raised, no deadlock when calls nest; and a decode on several threads gives the one-thread samples."""

import os
import sys
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from common import frame_of, rewrap, spy_steps

import sancodec
from sancodec import Signal, read_signal
from sancodec.codec import interchannel, jobs, lossyrate, pipeline, templatesearch, waveletframe
from sancodec.codec.api import decode_file
from sancodec.codec.container import SanReader
from sancodec.codec.entropy import ByteReader
from sancodec.codec.jobs import run_jobs
from sancodec.codec.wavelet import split_bands
from sancodec.errors import SanFormatError


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_results_come_back_in_the_jobs_order(threads):
    values = list(range(9))
    out = run_jobs([lambda v=v: v * v for v in values], [(v * 7) % 5 for v in values], threads)
    assert out == [v * v for v in values]


def test_jobs_run_side_by_side(monkeypatch):
    """Two jobs that each wait for the other: they finish only if they run at once (on a machine of two cores or
    more: run_jobs takes no more threads than there are cores)."""
    monkeypatch.setattr(jobs, "_CORES", max(2, jobs._CORES))
    meet = threading.Barrier(2, timeout=10)
    out = run_jobs([lambda: meet.wait() + 10, lambda: meet.wait() + 10], [1, 1], 2)
    assert sorted(out) == [10, 11]
    assert jobs._BUSY == [0]  # the helper counted itself out


def test_jobs_run_here_in_turn_when_every_core_is_at_work(monkeypatch):
    """A call made while helpers keep the other cores at work (a job's sibling on the other core of two) runs its
    jobs on this thread, in order: more threads than cores only take turns at the interpreter lock."""
    monkeypatch.setattr(jobs, "_CORES", 2)
    monkeypatch.setattr(jobs, "_BUSY", [1])
    seen: list[tuple[int, int]] = []
    run_jobs([lambda k=k: seen.append((k, threading.get_ident())) for k in range(3)], [1, 5, 2], 2)
    assert seen == [(k, threading.get_ident()) for k in range(3)]
    jobs._BUSY[0] = 0  # a core free again: a helper takes a job
    meet = threading.Barrier(2, timeout=10)
    assert sorted(run_jobs([lambda: meet.wait(), lambda: meet.wait()], [1, 1], 2)) == [0, 1]


def test_one_thread_runs_the_jobs_here_in_order():
    seen = []
    run_jobs([lambda k=k: seen.append((k, threading.get_ident())) for k in range(4)], [1, 9, 3, 2], 1)
    assert seen == [(k, threading.get_ident()) for k in range(4)]


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_the_first_failing_job_s_error_is_raised(threads):
    """What running the jobs in order would raise, whichever thread failed first."""
    def fail(k):
        raise SanFormatError(f"job {k}")

    work = [lambda: 1, lambda: fail(1), lambda: 2, lambda: fail(3)]
    with pytest.raises(SanFormatError, match="job 1"):
        run_jobs(work, [1, 1, 1, 50], threads)


def test_nested_calls_finish_when_the_helpers_are_all_busy():
    """Jobs that run jobs of their own, more than the shared pool has threads: a helper that has not started
    is never waited for, so nothing deadlocks."""
    cores = os.cpu_count() or 1

    def inner(k):
        return sum(run_jobs([lambda j=j: j + k for j in range(5)], [1] * 5, 3))

    result = []
    worker = threading.Thread(target=lambda: result.append(
        run_jobs([lambda k=k: inner(k) for k in range(cores + 3)], [1] * (cores + 3), cores + 2)))
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "nested run_jobs deadlocked"
    assert result == [[10 + 5 * k for k in range(cores + 3)]]


def test_a_forked_child_starts_its_own_helpers():
    jobs._pool()
    jobs._forget_pool()
    assert jobs._POOL is None
    assert run_jobs([lambda: 1, lambda: 2], [1, 1], 2) == [1, 2]
    assert jobs._POOL is not None


def _two_leads(rows: int) -> Signal:
    sig = read_signal(Path(sancodec.__file__).parent / "data" / "samples" / "100")
    return Signal(sig.samples[:rows], sig.fs, sig.channel_names, sig.units)


@pytest.mark.parametrize("threads", [2, 4])
def test_a_lossy_file_decodes_the_same_on_any_number_of_threads(threads, monkeypatch):
    """Two long channels in one frame: side by side (2 threads), then each one's bands and prediction too (4);
    the samples and the codings counted are the one-thread decode's, and the pieces did run as jobs."""
    data = sancodec.encode(_two_leads(140_000), mode="lossy", prdn=2.0)
    one = decode_file(data, threads=1)
    calls = []
    real = jobs.run_jobs

    def spy(work, sizes, n):
        calls.append((len(work), n))
        return real(work, sizes, n)

    monkeypatch.setattr(pipeline, "run_jobs", spy)
    monkeypatch.setattr(waveletframe, "run_jobs", spy)
    many = decode_file(data, threads=threads)
    assert np.array_equal(many.signal.samples, one.signal.samples)
    assert many.codings == one.codings
    assert (2, threads) in calls  # the two channels
    assert any(count > 2 and n > 1 for count, n in calls) == (threads == 4)  # a channel's pieces, 2 threads each


def test_a_hostile_frame_fails_the_same_on_several_threads():
    """Both channels of a frame broken in different ways (valid CRCs): every thread count raises the first
    channel's error, as the one-thread decode does."""
    data = sancodec.encode(_two_leads(140_000), mode="lossy", prdn=2.0)
    r = ByteReader(SanReader(data).read_frame(0), "frame")
    first, second = (r.raw(r.varint()) for _ in range(2))
    hostile = rewrap(data, frames=[frame_of([first + b"\x00", second[:-9]])])
    messages = []
    for threads in (1, 2, 4):
        with pytest.raises(SanFormatError) as err:
            decode_file(hostile, threads=threads)
        messages.append(str(err.value))
    assert "unexpected bytes after the wavelet bands" in messages[0]
    assert messages == [messages[0]] * 3


def test_damaged_frames_decode_or_fail_alike_on_one_thread_and_on_four():
    """Bytes of a two-channel lossy frame flipped here and there (valid CRCs): the decode on four threads gives
    the one-thread decode's samples, or its error."""
    import random

    data = sancodec.encode(_two_leads(140_000), mode="lossy", prdn=2.0)
    payload = SanReader(data).read_frame(0)
    rng = random.Random(5)
    outcomes = {_damaged_alike(data, payload, rng, (1, 4)) for _ in range(24)}
    assert outcomes == {True, False}  # both kinds of damage were met


def _damaged_alike(data: bytes, payload: bytes, rng, threads: tuple[int, int]) -> bool:
    """``data`` with its one frame ``payload`` given one or three flipped bits (valid CRCs), decoded on each of
    ``threads``: the second gives the first's samples, or its error; whether it failed."""
    damaged = bytearray(payload)
    for _ in range(rng.choice((1, 3))):
        damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
    hostile = rewrap(data, frames=[bytes(damaged)])
    results = []
    for n in threads:
        try:
            results.append(decode_file(hostile, threads=n).signal.samples)
        except sancodec.SancodecError as exc:
            results.append(f"{type(exc).__name__}: {exc}")
    if isinstance(results[0], str):
        assert results[1] == results[0]
        return True
    assert np.array_equal(results[0], results[1])
    return False


def test_helper_threads_keep_no_lifting_scratch(monkeypatch):
    """The helpers live on between decodes: each drops its lifting scratch when its work ends (so the memory held
    does not grow with the cores); the calling thread keeps its own."""
    from sancodec.codec import kernels

    released = []
    real = jobs.release_scratch

    def spy():
        released.append((threading.get_ident(), bool(kernels._scratch.__dict__)))
        real()
        assert not kernels._scratch.__dict__

    monkeypatch.setattr(jobs, "release_scratch", spy)
    meet = threading.Barrier(2, timeout=10)

    def job():
        meet.wait()
        kernels.scratch(1000)
        return threading.get_ident()

    ran_on = run_jobs([job, job], [1, 1], 2)
    helper = next(ident for ident in ran_on if ident != threading.get_ident())
    assert released == [(helper, True)]
    assert kernels._scratch.__dict__  # the caller's scratch is kept for its next transform


def test_run_pieces_takes_the_threads_piece_threads_gives():
    """Outside ``piece_threads`` one thread; inside it up to its count, and only for pieces of
    ``PIECE_VALUES`` values or more in all; the count is this thread's alone and restored after."""
    meet = threading.Barrier(2, timeout=10)
    big = [jobs.PIECE_VALUES // 2] * 2
    seen = []
    jobs.run_pieces([lambda k=k: seen.append(threading.get_ident()) for k in range(2)], big)
    assert seen == [threading.get_ident()] * 2
    with jobs.piece_threads(2):
        assert sorted(jobs.run_pieces([lambda: meet.wait() + 10, lambda: meet.wait() + 10], big)) == [10, 11]
        seen.clear()
        jobs.run_pieces([lambda: seen.append(threading.get_ident())] * 2, [10, 10])  # too small to share
        assert seen == [threading.get_ident()] * 2
        with jobs.piece_threads(1):
            seen.clear()
            jobs.run_pieces([lambda: seen.append(threading.get_ident())] * 2, big)
            assert seen == [threading.get_ident()] * 2
    assert jobs._PIECE_THREADS.get() == 1


def _spy_jobs(monkeypatch, where=jobs) -> list[tuple[int, list[str]]]:
    """Record each ``run_jobs`` call (``where``: the module whose name for it is replaced; ``codec.pipeline`` holds
    it by name): the threads it may use and the names of its jobs' functions (a piece is a ``functools.partial``).
    Which thread runs a job depends on when a helper wakes; what was handed over does not."""
    calls: list[tuple[int, list[str]]] = []
    real = jobs.run_jobs

    def spy(work, sizes, n):
        calls.append((n, [getattr(getattr(job, "func", job), "__name__", "?") for job in work]))
        return real(work, sizes, n)

    monkeypatch.setattr(where, "run_jobs", spy)
    return calls


def _shared(calls: list[tuple[int, list[str]]], name: str) -> bool:
    """Whether jobs of the function ``name``, more than one, were handed to ``run_jobs`` with two threads."""
    return any(n == 2 and names.count(name) > 1 for n, names in calls)


@pytest.mark.parametrize("effort", ["best", "balanced", "fast"])
def test_a_lossy_encode_codes_a_channel_s_bands_side_by_side_the_same_bytes(effort, monkeypatch):
    """One long channel on two threads: its bands go to ``run_jobs`` with two threads (the threads its one
    channel leaves free), with the default effort the beat template's windows too (two at a time), not the windows
    weighed on a head (in turn); the file is byte for byte the one-thread encode's; on one thread nothing is
    shared."""
    sig = _two_leads(140_000)
    one_lead = Signal(sig.samples[:, :1], sig.fs, sig.channel_names[:1], sig.units[:1])
    calls = _spy_jobs(monkeypatch)
    alone = sancodec.encode(one_lead, mode="lossy", prdn=2.0, effort=effort, threads=1)
    assert calls and not any(n > 1 for n, _ in calls)
    calls.clear()
    shared = sancodec.encode(one_lead, mode="lossy", prdn=2.0, effort=effort, threads=2)
    assert shared == alone
    assert _shared(calls, "_long_band" if effort != "best" else "_running_band")
    assert _shared(calls, "_weigh_window") == (effort == "best")  # the whole channel's windows, two at a time
    assert not _shared(calls, "fitted_template")  # the head's windows in turn: too little work a window to share


@pytest.mark.parametrize("kind", ["ecg", "noise"])
def test_a_medium_channel_codes_plain_beside_the_template_search_the_same_bytes(kind, monkeypatch):
    """Effort "balanced" on a channel too short for the hum (``lossy.QUICK_MAINS``): its plain coding's rate
    control (made first) goes to ``run_jobs`` with two threads beside the template's search, and the file is the
    one-thread file, whether the template is kept (an ECG) or none is found worth it (noise: the plain coding)."""
    from sancodec.codec import lossy

    rows = 60_000
    monkeypatch.setattr(lossy, "QUICK_MAINS", lossy.PLAIN_AHEAD)  # too short for the hum (as before 2^15 had it)
    assert lossy.PLAIN_FIRST <= rows < lossy.QUICK_MAINS
    ecg = _two_leads(rows)
    samples = ecg.samples[:, :1] if kind == "ecg" else \
        np.random.default_rng(5).normal(0, 40, (rows, 1)).round().astype(np.int64)
    sig = Signal(samples, ecg.fs, ecg.channel_names[:1], ecg.units[:1])
    calls = _spy_jobs(monkeypatch)
    alone = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced", threads=1)
    assert not any(n > 1 for n, _ in calls)
    calls.clear()
    assert sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced", threads=2) == alone
    # ... and the head's look for the exact coding (a channel past lossy.TIME_DOMAIN_ALWAYS), taken by the thread
    # that is free first
    assert rows > lossy.TIME_DOMAIN_ALWAYS
    assert any(n == 2 and names == ["quick_templates", "_plain_controlled", "look_at_head"] for n, names in calls)


@pytest.mark.parametrize("kind", ["ecg", "noise"])
def test_a_medium_channel_without_a_line_codes_plain_after_the_line_search_the_same_bytes(kind, monkeypatch):
    """Effort "balanced" on a channel of ``lossy.QUICK_MAINS`` to ``PLAIN_AHEAD`` samples where no mains line stands
    out: the piece beside the template search makes the first step, looks for the line, and then makes the plain
    coding (``lossy._line_then_plain``), so the file is the one made where the channel is too short for the hum
    (its plain coding beside the search), on one thread and two."""
    from sancodec.codec import lossy
    from sancodec.codec.mains import mains_frequency

    rows = 60_000
    assert lossy.QUICK_MAINS <= rows < lossy.PLAIN_AHEAD
    ecg = _two_leads(rows)
    # the ECG summed over 6 samples (1/60 s at 360 Hz): its 60 Hz line cancelled, its beats kept
    samples = np.convolve(ecg.samples[:, 0], np.ones(6, np.int64), "same")[:, None] if kind == "ecg" else \
        np.random.default_rng(5).normal(0, 40, (rows, 1)).round().astype(np.int64)
    assert mains_frequency(samples[:, 0], ecg.fs, lossy.QUICK_LINE_PADDING) is None
    sig = Signal(samples, ecg.fs, ecg.channel_names[:1], ecg.units[:1])
    calls = _spy_jobs(monkeypatch)
    alone = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced", threads=1)
    assert sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced", threads=2) == alone
    assert any(n == 2 and names == ["quick_templates", "_line_then_plain", "look_at_head"] for n, names in calls)
    callers: list[str] = []
    real = lossy._plain_controlled
    monkeypatch.setattr(lossy, "_plain_controlled",
                        lambda *a: callers.append(sys._getframe(1).f_code.co_name) or real(*a))
    assert sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced", threads=2) == alone
    assert callers == ["_line_then_plain"]  # made once, after the line search, and used as made
    monkeypatch.setattr(lossy, "QUICK_MAINS", lossy.PLAIN_AHEAD)  # no line looked for: the plain coding beside
    assert sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced", threads=2) == alone


@pytest.mark.parametrize("kind", ["emg", "ecg"])
def test_balanced_begins_a_likely_time_domain_coding_beside_the_payloads_the_same_bytes(kind, monkeypatch):
    """Effort "balanced" on two threads: an EMG (its grid codes it smaller than the wavelets at PRDN 2 %) has its
    time-domain coding begun on a guess of the wavelets' bytes beside their payload coding (``lossy._time_domain_
    ahead``: ``timedomain.Work.guess``), and the file is the one-thread file; a short ECG strip, whose bytes to beat
    come from its dependent quantisation (``lossy.QUICK_DEPENDENT``), has none begun."""
    from sancodec.codec import lossy

    if kind == "emg":
        sig = read_signal(Path(__file__).parent / "data" / "emg_healthy")
    else:
        sig = _two_leads(60_000)
        sig = Signal(sig.samples[:, :1], sig.fs, sig.channel_names[:1], sig.units[:1])
        assert sig.n_samples <= lossy.QUICK_DEPENDENT
    calls = _spy_jobs(monkeypatch)
    alone = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced", threads=1)
    assert not any("guess" in names for _, names in calls)
    calls.clear()
    assert sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced", threads=2) == alone
    assert any(n == 2 and names == ["payloads", "guess"] for n, names in calls) == (kind == "emg")
    calls.clear()  # judged against a share of the estimate: against none of it, the time domain cannot pay
    monkeypatch.setattr(lossy, "AHEAD_SHARE", 0.0)
    assert sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced", threads=2) == alone
    assert not any("guess" in names for _, names in calls)


def test_balanced_codes_a_sparse_channel_every_way_beside_its_payloads_the_same_bytes(monkeypatch):
    """Effort "balanced" on two threads, a step signal whose bit estimate says it is sparse (``lossy.SPARSE_BPS``
    raised so that an estimate of a few steps' bands is under it): the every-way coding's rate control runs beside the
    quick coding's payloads (``lossy._every_way_ahead``), then the time domain, weighed on every sparse channel,
    beside the every-way coding's payloads; the file is the one-thread file."""
    from sancodec.codec import lossy

    monkeypatch.setattr(lossy, "SPARSE_BPS", 0.5)
    x = np.repeat(np.array([0, 400, -250], dtype=np.int64), 20_000)
    sig = Signal(x[:, None], 250.0, ["II"], ["mV"])
    calls = _spy_jobs(monkeypatch)
    alone = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced", threads=1)
    calls.clear()
    assert sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced", threads=2) == alone
    beside = [names for n, names in calls if n == 2 and names[0] == "payloads"]
    assert beside == [["payloads", "rate_control"], ["payloads", "guess"]]


@pytest.mark.parametrize("rows", [140_000, 20_000])
def test_quick_bands_code_the_long_bands_beside_the_short_ones_fits_the_same_bytes(rows, monkeypatch):
    """``waveletframe.quick_bands`` on two threads: the bands past ``QUICK_LPC_VALUES`` values each a piece, beside
    one piece that fits the short bands' predictions and codes them (``_short_bands``); a frame without such a band
    has each band a piece of its own after the fits. The bytes are the one-thread bytes either way."""
    sig = _two_leads(rows)
    x = sig.samples[:, 0]
    prepared = lossyrate.Prepared([x], [None])
    q = split_bands(waveletframe.quantise_flat(prepared.flat[0], 9.0), prepared.levels[0])
    streams = [np.diff(q[0], prepend=0), *q[1:]]
    long = [b for b, s in enumerate(streams) if len(s) > waveletframe.QUICK_LPC_VALUES]
    assert bool(long) == (rows > 2 * waveletframe.QUICK_LPC_VALUES)
    calls = _spy_jobs(monkeypatch)
    with jobs.piece_threads(1):
        alone = waveletframe.quick_bands(streams)
    with jobs.piece_threads(2):
        assert waveletframe.quick_bands(streams) == alone
    names = calls[-1][1]
    assert names.count("_short_bands") == (1 if long else 0)
    assert names.count("_long_band") == len(long)
    assert names.count("_quick_band") == (0 if long else len(streams))


@pytest.mark.parametrize("rows", [140_000, 60_000, 20_000])
def test_quick_bands_fit_each_band_once_for_its_pieces_and_the_fitted_stream(rows, monkeypatch):
    """``waveletframe.quick_bands`` with the fitted stream (a dependently quantised frame's): the long bands' pieces,
    the short bands' and the fitted stream's ask for the same bands' fits, which are made once each (by whichever
    piece asks first), on one thread and on two, the same bytes."""
    from sancodec.codec import adaptivebands, bandlpc

    x = _two_leads(rows).samples[:, 0]
    prepared = lossyrate.Prepared([x], [None])
    q = split_bands(waveletframe.quantise_flat(prepared.flat[0], 9.0), prepared.levels[0])
    streams = [np.diff(q[0], prepend=0), *q[1:]]
    fitted: list[int] = []
    real = bandlpc.predicted
    monkeypatch.setattr(bandlpc, "predicted", lambda s: fitted.append(id(s)) or real(s))
    made = []
    for threads in (1, 2):
        fitted.clear()
        with jobs.piece_threads(threads):
            made.append(waveletframe.quick_bands(streams, fitted_stream=True))
        assert len(fitted) == len(set(fitted))  # no band fitted twice
        if rows <= adaptivebands.MAX_VALUES:  # the fitted stream is weighed: it asks for every band's fit
            assert len(fitted) == sum(len(s) >= bandlpc.MIN_LENGTH for s in streams)
    assert made[0] == made[1]


def test_once_is_made_by_the_first_caller_alone_while_the_others_wait(monkeypatch):
    """``jobs.Once``: two pieces that ask at once get the one value, made once; the maker's error reaches the
    caller that asked, and the next caller makes it again."""
    monkeypatch.setattr(jobs, "_CORES", max(2, jobs._CORES))
    made: list[int] = []
    started = threading.Event()

    def make() -> int:
        started.set()
        made.append(1)
        return 42

    once = jobs.Once(make)
    out = run_jobs([once, lambda: started.wait(10) and once()], [1, 1], 2)
    assert out == [42, 42] and made == [1]
    tries: list[int] = []

    def fails_first() -> str:
        tries.append(1)
        if len(tries) == 1:
            raise ValueError("first try")
        return "made"

    flaky = jobs.Once(fails_first)
    with pytest.raises(ValueError, match="first try"):
        flaky()
    assert flaky() == "made" and flaky() == "made" and len(tries) == 2


@pytest.mark.parametrize("flat", [False, True])
def test_a_long_channel_makes_its_first_step_beside_the_beat_detection_the_same_bytes(flat, monkeypatch):
    """Effort "balanced" on a channel long enough for the hum (``lossy.QUICK_MAINS``): the rate control's first step
    (the channel's spread) is made on the thread that then looks for the mains line, beside the template search
    that takes it once its beats are found; the file is the one-thread file, and the step is made once (it is
    remembered). A channel without spread (no step) is coded plain either way."""
    from sancodec.codec import lossy

    rows = lossy.QUICK_MAINS + 5_000
    ecg = _two_leads(rows)
    samples = np.full((rows, 1), 17, np.int64) if flat else ecg.samples[:, :1]
    sig = Signal(samples, ecg.fs, ecg.channel_names[:1], ecg.units[:1])
    steps: list[float | None] = []
    real = lossy.first_step
    monkeypatch.setattr(lossy, "first_step", lambda *a: steps.append(real(*a)) or steps[-1])
    calls = _spy_jobs(monkeypatch)
    alone = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced", threads=1)
    assert len(steps) == 1
    calls.clear()
    steps.clear()
    assert sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced", threads=2) == alone
    assert len(steps) == 1 and (steps[0] == 0.0) == flat
    assert any(n == 2 and names[:2] == ["quick_templates", "_line_then_plain"] for n, names in calls)
    decoded = sancodec.decode(alone).samples
    assert np.array_equal(decoded, samples) if flat else decoded.shape == samples.shape


def test_a_short_channel_weighs_its_other_levels_and_quantisers_side_by_side(monkeypatch):
    """The default effort on a channel short enough for other levels and quantisers (``lossy.LEVEL_CHANNELS``):
    their candidates go to ``run_jobs`` with two threads, and the file is the one-thread file."""
    from sancodec.codec import lossy

    sig = _two_leads(60_000)
    one_lead = Signal(sig.samples[:, :1], sig.fs, sig.channel_names[:1], sig.units[:1])
    calls = _spy_jobs(monkeypatch)
    alone = sancodec.encode(one_lead, mode="lossy", effort="best", prdn=2.0, threads=1)
    names = [name for _, called in calls for name in called]
    assert names.count("_coded_bytes") >= len(lossy.LEVEL_CHOICES) and names.count("_at_error") >= len(lossy.QUANTISERS)
    calls.clear()
    assert sancodec.encode(one_lead, mode="lossy", effort="best", prdn=2.0, threads=2) == alone
    assert _shared(calls, "_coded_bytes") and _shared(calls, "_at_error")


@pytest.mark.parametrize("step", [2.0, 12.0, 60.0, 400.0])
def test_the_gain_and_tap_grids_weighed_ahead_choose_what_one_thread_chooses(step):
    """``templatesearch.gain_grid`` (the first grid and every gain 1 weighed side by side) and ``coarser_taps``
    (two shifts at a time, the second on the first's taps): with a thread to spare, the same grid, taps and
    estimate as one after another, at steps where many tap grids are tried (a channel long enough for pairs:
    ``PAIRED_CANDIDATES``)."""
    sig = _two_leads(templatesearch.PAIRED_CANDIDATES + 10_000)
    x, fs = sig.samples[:, 0], sig.fs
    ref = x.astype(np.float64)
    beats = templatesearch.find_beats(x, fs)
    template = templatesearch.find_template(x, fs, (0.3, 0.45), beats)
    prepared = templatesearch.Prepared([x], [template])
    bits = prepared.estimate(step)
    results = []
    for threads in (1, 2):
        with jobs.piece_threads(threads):
            gained, gained_bits, grid = templatesearch.gain_grid([x], ref, prepared, bits, step)
            tapped, tapped_bits = templatesearch.coarser_taps([x], ref, gained, gained_bits, step)
        t = tapped.templates[0]
        results.append((grid, gained_bits, tapped_bits, t.shift, t.t8.tobytes(), t.g64.tobytes()))
    assert results[0] == results[1]


def test_the_tap_grid_weighed_ahead_is_made_from_the_taps_before_it(monkeypatch):
    """The second shift of a pair is weighed on the first's rounded taps, as one thread makes it after keeping the
    first: taps of 32 k + 10 eighths round twice (to 4, then 16) otherwise than at once, so any other candidate
    shows. Every candidate one thread weighs is among those two threads weigh, which weigh them in pairs on a
    channel of ``PAIRED_CANDIDATES`` values, in turn on a shorter one (the wake and the lock cost more)."""
    from dataclasses import replace

    sig = _two_leads(templatesearch.PAIRED_CANDIDATES + 10_000)
    x, fs = sig.samples[:, 0], sig.fs
    ref = x.astype(np.float64)
    template = templatesearch.find_template(x, fs, (0.3, 0.45), templatesearch.find_beats(x, fs))
    template = replace(template, t8=32 * (template.t8 // 32) + 10)
    prepared = templatesearch.Prepared([x], [template])
    step = 60.0
    weighed: list[bytes] = []
    real = templatesearch._weigh_candidate

    def spy(*args):
        weighed.append(args[-1][0].t8.tobytes())
        return real(*args)

    monkeypatch.setattr(templatesearch, "_weigh_candidate", spy)
    seen = []
    for threads in (1, 2):
        weighed.clear()
        with jobs.piece_threads(threads):
            tapped, _ = templatesearch.coarser_taps([x], ref, prepared, prepared.estimate(step), step)
        seen.append((list(weighed), tapped.templates[0].t8.tobytes()))
    (alone, kept_alone), (shared, kept_shared) = seen
    assert len(alone) >= 2 and set(alone) <= set(shared) and kept_alone == kept_shared
    calls = _spy_jobs(monkeypatch)
    for length, paired in ((len(x), True), (templatesearch.PAIRED_CANDIDATES - 1, False)):
        calls.clear()
        head = x[:length]
        with jobs.piece_threads(2):
            templatesearch.coarser_taps([head], ref[:length], templatesearch.Prepared([head], [template]),
                                        prepared.estimate(step), step)
        assert any(n == 2 and len(names) > 1 for n, names in calls) == paired  # (the candidates weighed: spy)


def test_two_channels_on_four_threads_share_the_spare_ones_between_them(monkeypatch):
    """Two long channels on four threads: each channel's worker gets two for its pieces (``lossyfile.code_block``),
    and the file is the one-thread file; on two threads the channels take one each and share nothing more."""
    sig = _two_leads(140_000)
    alone = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="fast", threads=1)
    calls = []
    real = jobs.run_jobs

    def spy(work, sizes, n):
        calls.append((n, threading.current_thread() is threading.main_thread()))
        return real(work, sizes, n)

    monkeypatch.setattr(jobs, "run_jobs", spy)
    assert sancodec.encode(sig, mode="lossy", prdn=2.0, effort="fast", threads=4) == alone
    assert (2, False) in calls and not any(n > 2 for n, _ in calls)  # pieces on two threads, in the channels' workers
    calls.clear()
    assert sancodec.encode(sig, mode="lossy", prdn=2.0, effort="fast", threads=2) == alone
    assert calls and all(n == 1 for n, _ in calls)


def test_the_beats_are_moved_chunk_by_chunk_side_by_side_to_the_same_places(monkeypatch):
    """``beats.moved_beats`` fits its chunks of beats (``beats.ALIGN_CHUNK``) on the threads ``piece_threads``
    allows: the same positions as one chunk after another."""
    from sancodec.codec import beats

    sig = _two_leads(60_000)
    x, fs = sig.samples[:, 0], sig.fs
    template = templatesearch.find_template(x, fs, (0.3, 0.45), templatesearch.find_beats(x, fs))
    monkeypatch.setattr(beats, "ALIGN_CHUNK", 16)  # several chunks on this excerpt
    calls = _spy_jobs(monkeypatch)
    moved = []
    for threads in (1, 2):
        with jobs.piece_threads(threads):
            moved.append(beats.moved_beats(x, fs, template))
    assert np.array_equal(moved[0], moved[1]) and not np.array_equal(moved[0], template.positions)
    assert _shared(calls, "_best_shift")


def test_a_coding_s_estimate_is_remembered_per_step_and_weighed_side_by_side(monkeypatch):
    """``Prepared.estimate`` is worked out once per step (the encoder weighs a coding at its step more than
    once), forgotten by a copy under another quantiser or of fewer frames; ``lossyrate.estimates`` hands a pair
    to ``run_jobs`` with the threads ``piece_threads`` allows where it holds ``SHARED_ESTIMATES`` values, with the
    values one after another gives."""
    from sancodec.codec import lossyrate

    sig = _two_leads(60_000)
    x = sig.samples[:, 0]
    prepared, plain = lossyrate.Prepared([x[:30_000], x[30_000:]], [None, None]), lossyrate.Prepared([x], [None])
    real = lossyrate.Prepared._estimated
    worked = spy_steps(monkeypatch, lossyrate.Prepared, "_estimated")
    bits = prepared.estimate(8.0)
    assert prepared.estimate(8.0) == bits and worked == [8.0]
    other = prepared.with_quantiser(0.3, 7)
    assert other.estimate(8.0) == real(other, 8.0) != bits
    part = prepared.subset([1])
    assert part.estimate(8.0) == real(part, 8.0) < bits
    calls = _spy_jobs(monkeypatch)
    monkeypatch.setattr(lossyrate, "SHARED_ESTIMATES", 1 << 17)  # more than the pair holds: one after another
    with jobs.piece_threads(2):
        assert lossyrate.estimates([(plain, 5.0), (other, 7.0)]) == [real(plain, 5.0), real(other, 7.0)]
    assert not calls
    monkeypatch.setattr(lossyrate, "SHARED_ESTIMATES", 1 << 16)  # fewer: side by side
    with jobs.piece_threads(2):
        pair = lossyrate.estimates([(plain, 6.0), (other, 9.0)])
    assert pair == [real(plain, 6.0), real(other, 9.0)]
    assert (2, ["estimate", "estimate"]) in calls


def test_the_rate_control_decodes_its_first_step_beside_the_spread_and_the_model(monkeypatch):
    """A modelled rate control (``lossyrate.rate_control``, a long channel) with a thread to spare decodes the step
    it measures first beside the reference's spread and the error model, and uses that decode: the step, the PRDN
    and the number of decodes one thread gives."""
    from sancodec.codec import lossy, lossyrate

    sig = _two_leads(lossyrate.MODELLED + 5000)
    x = sig.samples[:, 0]
    ref = x.astype(np.float64)
    decodes = spy_steps(monkeypatch, lossyrate.Prepared, "decoded_error")
    calls = _spy_jobs(monkeypatch)
    found = []
    for threads in (1, 2):
        decodes.clear()
        prepared = lossyrate.Prepared([x], [None])  # its own bands: the decodes of another's are remembered
        with jobs.piece_threads(threads):
            coded = lossyrate.rate_control(prepared, ref, lossy.LossyTarget(prdn=3.0), scan=False, modelled=True)
        found.append((coded.step, coded.prdn, list(decodes)))
    assert found[0] == found[1] and len(found[0][2]) >= 2
    assert (2, ["squared_error", "_spread_and_model"]) in calls


def _twelve_leads(rows: int) -> Signal:
    """Twelve leads of ``rows`` samples: mitdb 100's two, and combinations of them as a 12-lead ECG's derived leads
    are (some predicted from earlier channels, path 5), each with its own small noise."""
    a, b = (_two_leads(rows).samples[:, k].astype(np.int64) for k in range(2))
    noise = np.random.default_rng(7).integers(-3, 4, size=(rows, 12))
    leads = [a, b, b - a, -(a + b) // 2, a - b // 2, b - a // 2, a + b, 2 * a, 2 * b, a // 2, b // 2, a - b]
    return Signal(np.stack(leads, axis=1) + noise, 360.0, [f"c{k}" for k in range(12)], ["mV"] * 12)


@pytest.mark.parametrize(("mode", "options"), [("lossless", {}), ("near-lossless", {"max_error": 2})])
def test_a_one_frame_record_codes_its_channels_side_by_side_the_same_bytes(mode, options, monkeypatch):
    """A short record of many channels is one frame, which the frame pipeline's threads cannot share: on two threads
    its channels' own codings, their codings from earlier channels where every channel's own coding is exact (so
    each one's references are known up front: a lossless file, a near-lossless one's pass at a max error of 0; the
    near-lossless pass at its max error weighs them in turn, since which channels are exact depends on them) and the
    check decode go to ``run_jobs`` with two threads, and the file is byte for byte the one-thread file. On one
    thread nothing is shared, nor on two in a frame too short to pay for it (``pipeline.CHANNEL_ROWS``)."""
    sig = _twelve_leads(pipeline.CHANNEL_ROWS + 400)
    calls = _spy_jobs(monkeypatch, pipeline)
    alone = sancodec.encode(sig, mode=mode, threads=1, **options)
    assert calls and all(n == 1 for n, _ in calls)
    calls.clear()
    shared = sancodec.encode(sig, mode=mode, threads=2, **options)
    assert shared == alone
    handed = {name for n, names in calls if n == 2 for name in names}
    assert {"_own_coding", "_channel"} <= handed
    assert sum(n == 2 and "cross_channel_candidate" in names for n, names in calls) == 1  # (one pass of exact ones)
    weighed = []
    real = pipeline.cross_channel_candidate
    monkeypatch.setattr(pipeline, "cross_channel_candidate", lambda *a: weighed.append(a[3]) or real(*a))
    calls.clear()
    assert sancodec.encode(sig, mode=mode, threads=2, **options) == alone
    in_jobs = sum(names.count("<lambda>") for n, names in calls if n == 2)
    assert len(weighed) == in_jobs == 11  # each derived lead weighed once, in the jobs (the pass at E = 2 has no
    # exact channel to weigh one against)
    if mode == "lossless":
        assert np.array_equal(sancodec.decode(shared).samples, sig.samples)
    calls.clear()
    short = Signal(sig.samples[: pipeline.CHANNEL_ROWS - 1], sig.fs, sig.channel_names, sig.units)
    assert sancodec.encode(short, mode=mode, threads=2, **options) == \
        sancodec.encode(short, mode=mode, threads=1, **options)
    assert calls and all(n == 1 for n, _ in calls)


def test_a_lossless_record_s_cross_channel_codings_are_the_ones_made_in_turn(monkeypatch):
    """The lossless codings from earlier channels made up front (each channel against every full-rate channel
    before it) are what the serial weighing makes (against the exact channels coded before it, which in a lossless
    file are all of them): the near-lossless path at a max error of 0, which weighs them in turn, gives the lossless
    file's channel payloads byte for byte, and the derived leads were coded from earlier channels."""
    from sancodec.codec.frames import FramePlan

    sig = _twelve_leads(3000)
    digital = np.asarray(sig.samples, dtype=np.int64)
    job = pipeline.FrameJob(digital, digital, [None] * 12)
    lossless = FramePlan("lossless", 0.0, 1.0, None, None)
    coder = pipeline.FrameEncoder(lossless, [1] * 12, None, None, 0.0, threads=2, verify=False)
    parts, _, _ = coder._parts(job, lossless, spare=2)
    in_turn, _, _ = coder._parts(job, replace(lossless, mode="near-lossless"), spare=1)
    assert parts == in_turn
    assert sum(interchannel.nested_difference(p) is not None for p in parts) >= 6


@pytest.mark.parametrize("mode", ["lossless", "lossy"])
def test_a_short_one_frame_record_decodes_its_channels_side_by_side_where_exact(mode, monkeypatch):
    """12 channels of 3000 rows, one frame: a lossless file's channels decode on two threads (their decode is
    compiled work mostly: ``pipeline.EXACT_DECODE_VALUES``), a lossy file's in turn (``jobs.PARALLEL_VALUES``: more of
    it is Python); the samples are the one-thread decode's either way."""
    sig = _twelve_leads(3000)
    data = sancodec.encode(sig, mode=mode, **({"prdn": 2.0} if mode == "lossy" else {}))
    one = decode_file(data, threads=1)
    calls = _spy_jobs(monkeypatch, pipeline)
    two = decode_file(data, threads=2)
    assert np.array_equal(two.signal.samples, one.signal.samples)
    shared = any(n == 2 and len(names) == 12 and set(names) <= {"_placed", "_channel"} for n, names in calls)
    assert shared == (mode == "lossless")


def test_a_damaged_short_lossless_frame_decodes_or_fails_alike_on_one_thread_and_on_two(monkeypatch):
    """A one-frame lossless record of 12 channels of 3000 rows (its channels decoded side by side on two threads:
    ``pipeline.EXACT_DECODE_VALUES``) with bytes flipped here and there and valid CRCs: the two-thread decode gives
    the one-thread decode's samples or its error (the first failing channel's, or the sample checksums'); and a frame
    whose first two channels are broken in different ways raises the first one's error on either."""
    import random

    data = sancodec.encode(_twelve_leads(3000), mode="lossless")
    payload = SanReader(data).read_frame(0)
    calls = _spy_jobs(monkeypatch, pipeline)
    rng = random.Random(11)
    failed = sum(_damaged_alike(data, payload, rng, (1, 2)) for _ in range(16))
    assert failed and any(n == 2 and len(names) == 12 for n, names in calls)  # the channels were decoded side by side
    r = ByteReader(payload, "frame")
    parts = [r.raw(r.varint()) for _ in range(12)]
    parts[0], parts[1] = parts[0] + b"\x00", parts[1][:-5]
    hostile = rewrap(data, frames=[frame_of(parts)])
    messages = []
    for threads in (1, 2):
        with pytest.raises(SanFormatError) as err:
            decode_file(hostile, threads=threads)
        messages.append(str(err.value))
    assert "unexpected trailing bytes" in messages[0] and messages[1] == messages[0]  # (the second: a value past
    # its limit)

@pytest.mark.parametrize("rows", [100, pipeline.CHECKSUM_VALUES // 3 + 5])
def test_the_decode_s_checksums_are_each_channel_s_crc_on_helpers_only_when_long(rows, monkeypatch):
    """``parallel_checksums`` gives ``signal.channel_crc32``'s values, on the shared helpers (``run_jobs``, no pool
    of its own started) only where the block holds ``pipeline.CHECKSUM_VALUES`` samples or more."""
    from sancodec.signal import channel_crc32

    samples = np.random.default_rng(3).integers(-2**40, 2**40, size=(rows, 3))
    calls = _spy_jobs(monkeypatch, pipeline)
    assert pipeline.parallel_checksums(samples, 2) == channel_crc32(samples)
    assert bool(calls) == (samples.size >= pipeline.CHECKSUM_VALUES)
    calls.clear()
    assert pipeline.parallel_checksums(samples, 1) == channel_crc32(samples) and not calls
