"""Float64 samples near a grid (format 1.19, ``codec.neargrid``): counts scaled in float64 by more than one
multiplication (two roundings, an offset after the scaling, a division by a gain) are lossless, bit for bit, as a
count and a correction in units in the last place; and a decoder trusts none of the grid's fields."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import edfio
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import sancodec
from sancodec.cli import app
from sancodec.codec.container import SanReader
from sancodec.codec.neargrid import LEAST_EXPONENT, NearGrid, near_grid, near_integers, near_values
from sancodec.codec.prepare import LOSSLESS_FLOATS, LosslessFloatsError

GOLDEN = Path(__file__).parent / "golden" / "neargrid_lossless.san"


def _bits(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64).view(np.uint64)


def _counts(seed: int, n: int, c: int = 1, reach: int = 1 << 15) -> np.ndarray:
    """A random walk of integers (an ADC's counts), within ``reach``."""
    rng = np.random.default_rng(seed)
    return np.clip(np.cumsum(rng.integers(-40, 41, (n, c)), axis=0), -reach, reach)


# How float64 physical values are made of counts by the tools users have: none of these is one multiplication
CAL = (3276.7 - -3276.8) / (32767 - -32768)
SCALINGS = {
    "two roundings": lambda k: k * 0.1 / 32767,  # a gain, then a range
    "mne edf": lambda k: (k * CAL + (-3276.8 - CAL * -32768)) * 1e-6,  # MNE's EDF reader: cal, offset, then volts
    "pyedflib": lambda k: (k - (-32768)) * (3276.7 - -3276.8) / (32767 - -32768) + -3276.8,  # digital min to physical
    "wfdb gain 3": lambda k: (k - 12) / 3.0,  # wfdb-python's p_signal: (d - baseline) / gain, 1/3 no double
    "offset after scaling": lambda k: k * 0.00305 + 1.5,
    "temperature": lambda k: 37.0 + k * 0.001,  # every value in one binade: on a step of its unit in the last place too
    "a tiny offset": lambda k: k * 0.195 + 1e-300,  # lost in every value but the counts of 0, which are the offset
}


@pytest.mark.parametrize("name", sorted(SCALINGS))
def test_counts_scaled_in_float64_are_lossless_near_their_step(name):
    """Each scaling's values decode bit for bit from a format 1.19 file whose integers are the counts and a correction
    of a few bits (``near_grid`` in the header), costing at most those bits a sample over the counts' own file;
    before 1.19 lossless mode refused them all (the temperature took integers of 2^52 on its unit in the last place)."""
    k = _counts(1, 20_000)
    x = SCALINGS[name](k)
    data = sancodec.encode(x, fs=250)
    header = SanReader(io.BytesIO(data)).header
    assert data[4:6] == bytes([1, 19]) and header["mode"] == "lossless" and header["near_grid"] is not None
    bits = header["near_grid"][0][3]
    assert 0 <= bits <= 4  # (pyedflib's: none, on a floor of its offset's unit in the last place; the tiny offset's
    # none: its counts of 0 are the offset)
    assert len(data) <= len(sancodec.encode(k, fs=250)) + len(k) * bits / 8 + 64  # (64: the header's grid)
    back = sancodec.decode(data)
    assert back.samples.dtype == np.float64 and np.array_equal(_bits(back.samples), _bits(x))
    assert np.array_equal(_bits(sancodec.decode(data, start=7000, end=7100).samples), _bits(x[7000:7100]))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.integers(3, 3000), st.integers(1, 3),
       st.floats(1e-9, 1e4, allow_nan=False, allow_infinity=False),
       st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False), st.sampled_from(["divided", "times", "twice"]),
       st.sampled_from([1 << 8, 1 << 15, 1 << 20]))
def test_any_float64_counts_decode_to_the_same_doubles_or_are_refused_in_lossless_words(seed, n, c, factor, offset,
                                                                                       how, reach):
    """Counts scaled in float64, any factor, offset and order of operations: lossless mode codes them (decimals, a
    step, or near a step) and they decode to the same doubles, bit for bit, or it refuses them in its own words;
    whenever a near grid is used, its integers are the counts and corrections of at most ``neargrid.MAX_BITS``."""
    k = _counts(seed, n, c, reach)
    x = k * factor + offset if how == "times" else k / (1 / factor) + offset if how == "divided" else \
        k * factor / 7 + offset
    try:
        data = sancodec.encode(x, fs=250)
    except LosslessFloatsError as exc:
        assert str(exc) == LOSSLESS_FLOATS
        return
    back = sancodec.decode(data).physical()
    assert np.array_equal(_bits(back), _bits(x))


def test_a_reach_of_counts_any_of_the_scalings_is_taken():
    """Over the scalings and twenty walks each, every channel finds a grid: a refusal of counts scaled is a bug here."""
    for name, scale in SCALINGS.items():
        for seed in range(20):
            x = scale(_counts(seed, 3000)[:, 0])
            grid = near_grid(x)
            assert grid is not None, (name, seed)
            z = near_integers(x, grid)
            assert z is not None and np.array_equal(_bits(near_values(z, grid)), _bits(x))


@pytest.mark.parametrize("x", [
    np.random.default_rng(0).normal(size=2000),  # noise: no step
    np.array([1.0, -0.0, 2.0]),  # a negative zero, which a count cannot hold
    np.array([1.0, np.inf, 2.0]),
    np.array([1.0, np.nan]),
    np.zeros(0),
])
def test_values_near_no_grid_have_none(x):
    assert near_grid(x) is None


def test_a_channel_on_a_step_goes_as_one_beside_a_channel_near_one():
    """A file of two channels, one on a step (format 1.17's kind) and one near a step: both decode bit for bit, the
    one on its step as a grid of no offset and no correction."""
    k = _counts(2, 10_000, 2)
    x = np.column_stack([k[:, 0] * 0.195, k[:, 1] * 0.1 / 32767])
    data = sancodec.encode(x, fs=250)
    header = SanReader(io.BytesIO(data)).header
    assert header["quantum"][0] == 0.195 and header["near_grid"][0] == [0.0, LEAST_EXPONENT, 0, 0]
    assert header["near_grid"][1][3] > 0
    assert np.array_equal(_bits(sancodec.decode(data).samples), _bits(x))


def test_a_step_of_the_unit_in_the_last_place_gives_way_to_a_near_grid():
    """Values in one binade all lie on its unit in the last place (format 1.17 took them so, integers of 2^52 that
    cost more bytes than the doubles): near a grid of the counts' step the file is a few times smaller."""
    x = 37.0 + _counts(3, 20_000) * 0.001
    data = sancodec.encode(x, fs=250)
    assert SanReader(io.BytesIO(data)).header["near_grid"] is not None
    assert 8 * len(data) / len(x) < 16
    assert np.array_equal(_bits(sancodec.decode(data).samples), _bits(x))


def test_float32_noise_widened_is_held_on_its_common_unit_in_fewer_bytes_than_its_doubles():
    """Float32 noise widened to float64 (what MNE hands over of a float32 recording) lies on no step but on the unit
    every value is a multiple of, in counts of under 2^53: lossless, bit for bit, and smaller than its doubles,
    though larger than its float32s would be as their bits (format 1.18 holds float32 arrays so, not float64 ones)."""
    x = np.random.default_rng(12).normal(size=(4000, 1)).astype(np.float32).astype(np.float64)
    data = sancodec.encode(x, fs=250)
    grid = SanReader(io.BytesIO(data)).header["near_grid"][0]
    assert grid[0] == 0 and grid[3] == 0 and len(data) < x.nbytes
    assert np.array_equal(_bits(sancodec.decode(data).samples), _bits(x))


def test_the_grid_search_takes_the_fewest_correction_bits():
    """Where a grid needs no correction (one multiplication) it has none; where one does, the halvings and floors
    tried find the fewest bits, as the exhaustive grid of their choices does."""
    k = _counts(4, 5000)[:, 0].astype(np.float64)
    assert near_grid(k * 0.005) == NearGrid(0.005, 0.0, LEAST_EXPONENT, 0, 0)
    x = SCALINGS["pyedflib"](k)
    grid = near_grid(x)
    assert grid is not None
    for halvings in range(3):
        for floor in (LEAST_EXPONENT, *range(-50, -38)):
            for bits in range(grid.bits):
                assert near_integers(x, grid._replace(floor=floor, halvings=halvings, bits=bits)) is None


def test_the_format_1_19_golden_file():
    """The golden lossless file of float64 values near their steps (format 1.19): a wfdb-python physical signal (a
    division by 3) and MNE's EDF scaling (an offset, then volts), made by IEEE operations alone (the same on every
    machine). The encoder writes it byte for byte (``SANCODEC_REGENERATE_GOLDEN=1`` rewrites it); it decodes to the
    very doubles."""
    from common import encoded_as_golden

    t = np.arange(6000)
    k = (t % 500) * 7 - 1750 + ((t * t * 7919) % 61 - 30)
    x = np.column_stack([SCALINGS["wfdb gain 3"](k), SCALINGS["mne edf"](((t * 104729) % 201 - 100) * 9)])
    golden = encoded_as_golden(GOLDEN, sancodec.encode(x, fs=250))
    header = SanReader(io.BytesIO(golden)).header
    assert golden[4:6] == bytes([1, 19]) and [entry[3] for entry in header["near_grid"]] == [2, 2]
    assert np.array_equal(_bits(sancodec.decode(golden).samples), _bits(x))


def test_a_hostile_near_grid_is_refused_in_one_error(tmp_path):
    """A ``.san`` header is not trusted (CRCs valid, contents lying): a near grid of the wrong shape, with a field out
    of its range, in a file that is not a lossless one of float64 values on a step, or one that puts a value past the
    float range, is one SanFormatError, whole or streamed."""
    from common import refused_whole_and_opened, rewrap

    data = sancodec.encode(SCALINGS["two roundings"](_counts(5, 3000, 2)), fs=250)
    header = SanReader(io.BytesIO(data)).header
    entry = header["near_grid"][0]
    lies = [{"near_grid": [entry]}, {"near_grid": [entry, entry[:3]]}, {"near_grid": [entry, [*entry[:3], 13]]},
            {"near_grid": [entry, [*entry[:2], 3, entry[3]]]}, {"near_grid": [entry, [entry[0], -1075, 0, 2]]},
            {"near_grid": [entry, [entry[0], 1024, 0, 2]]}, {"near_grid": [entry, ["0", *entry[1:]]]},
            {"near_grid": "yes"},
            {"near_grid": [entry, entry], "quantum": None}, {"near_grid": [entry, entry], "float32": True},
            {"near_grid": [entry, entry], "mode": "near-lossless", "max_error": 1.0, "sample_crc32": None},
            {"near_grid": [entry, [entry[0], 1023, 0, 12]]}]  # (a floor of 2^1023: corrections of 2 units overflow)
    for lie in lies:
        refused_whole_and_opened(rewrap(data, header={**header, **lie}), tmp_path)
    # a step and an offset that are numbers, but others (the CRCs are the integers', which they do not change): other
    # finite doubles, without a warning
    other = rewrap(data, header={**header, "quantum": [1e300, 1e300], "near_grid": [entry, [1e300, *entry[1:]]]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.all(np.isfinite(sancodec.decode(other).samples))


def test_the_cli_gives_back_a_npy_of_float64_near_its_steps_and_edf_of_their_counts(tmp_path):
    """``sancodec encode v.npy`` of MNE-scaled volts: lossless, the decoded ``.npy`` is the source file byte for byte,
    a CSV of it reads back as the same doubles, ``info`` names the step and the offset; EDF and BDF hold the counts,
    the offset in the physical range, and read back (edfio) as the values to within the corrections' last places;
    WFDB, whose baseline is an integer, is one error line and no file where an offset is not whole steps."""
    x = np.column_stack([SCALINGS["mne edf"](_counts(6, 8000)[:, 0]), SCALINGS["offset after scaling"](
        _counts(7, 8000)[:, 0])])
    np.save(tmp_path / "v.npy", x)
    runner = CliRunner()
    res = runner.invoke(app, ["encode", str(tmp_path / "v.npy"), "--fs", "250", "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["decode", str(tmp_path / "v.san"), "-o", str(tmp_path / "back.npy"), "-q"])
    assert res.exit_code == 0 and (tmp_path / "back.npy").read_bytes() == (tmp_path / "v.npy").read_bytes()
    res = runner.invoke(app, ["decode", str(tmp_path / "v.san"), "-o", str(tmp_path / "back.csv"), "-q"])
    assert res.exit_code == 0, res.output
    back = np.loadtxt(tmp_path / "back.csv", delimiter=",", skiprows=1)
    assert np.array_equal(_bits(back), _bits(x))
    res = runner.invoke(app, ["info", str(tmp_path / "v.san")], terminal_width=200)
    said = " ".join(res.stdout.replace("│", " ").split())  # (the table's cells wrapped at the terminal's width)
    assert res.exit_code == 0 and "floats near a step of 1e-07, each within 2-bit corrections" in said, res.output
    assert "floats near a step of 0.00305 from -0.0006" in said, res.output
    for fmt in ("edf", "bdf"):
        res = runner.invoke(app, ["decode", str(tmp_path / "v.san"), "-o", str(tmp_path / f"w.{fmt}"), "-q"])
        assert res.exit_code == 0, res.output
        back = edfio.read_bdf(tmp_path / "w.bdf") if fmt == "bdf" else edfio.read_edf(tmp_path / "w.edf")
        for ch in range(2):
            got = back.signals[ch].data[: len(x)]
            assert np.abs(got - x[:, ch]).max() <= 1e-9 * np.ptp(x[:, ch]), (fmt, ch)
    res = runner.invoke(app, ["decode", str(tmp_path / "v.san"), "-o", str(tmp_path / "w_wfdb"), "--format", "wfdb"])
    assert res.exit_code != 0 and "channel 1's values sit near a step of 0.00305" in res.output
    assert "not a whole number of steps" in res.output and "Traceback" not in res.output
    assert not list(tmp_path.glob("w_wfdb*"))


def test_wfdb_python_s_physical_values_decode_to_wfdb_as_its_record(tmp_path):
    """wfdb-python's ``(d - baseline) / gain`` (a gain of 3: no double's step) sits near a step of 1/3 from a whole
    number of steps: decoded to WFDB it is the record again, its counts and baseline, its values to the last place
    (``io.wfdb.near_grid_as_digital``)."""
    k = _counts(3, 5000)
    x = (k - 12) / 3.0
    np.save(tmp_path / "p.npy", x)
    runner = CliRunner()
    assert runner.invoke(app, ["encode", str(tmp_path / "p.npy"), "--fs", "360", "-q"]).exit_code == 0
    res = runner.invoke(app, ["decode", str(tmp_path / "p.san"), "-o", str(tmp_path / "rec"), "--format", "wfdb",
                              "-q"])
    assert res.exit_code == 0, res.output
    rec = sancodec.read_signal(tmp_path / "rec")
    assert np.abs(rec.physical() - x).max() <= 1e-12 and rec.adc_gain == [3.0]
    assert np.array_equal(rec.samples[:, 0] - rec.baseline[0], k[:, 0] - 12)


def test_a_sanfile_reads_rows_of_a_near_grid_file_as_its_doubles(tmp_path):
    """``sancodec.open`` of a 1.19 file reads rows at random and in blocks as the same doubles, its checksums checked
    on a whole pass."""
    x = SCALINGS["pyedflib"](_counts(8, 50_000, 2))
    (tmp_path / "x.san").write_bytes(sancodec.encode(x, fs=250, frame_len=4096))
    with sancodec.open(tmp_path / "x.san") as f:
        assert f.dtype == np.float64
        assert np.array_equal(_bits(f[[7, 40_000, 123]]), _bits(x[[7, 40_000, 123]]))
        assert np.array_equal(_bits(np.concatenate(list(f.blocks(7000)))), _bits(x))
        f.check()


def test_the_streaming_writer_still_takes_float64_blocks_on_their_steps_alone(tmp_path):
    """The streaming writer looks for no near grid (its later blocks must lie on the first one's): a block near a step
    is refused as before, nothing written; one on the declared step is taken."""
    with pytest.raises(sancodec.SancodecError):
        with sancodec.open(tmp_path / "near.san", "w", fs=250, channels=1) as f:
            f.write(SCALINGS["two roundings"](_counts(9, 4000)))
    assert not (tmp_path / "near.san").exists()
    x = _counts(9, 4000) * 0.195
    with sancodec.open(tmp_path / "on.san", "w", fs=250, channels=1, step=0.195) as f:
        f.write(x)
    assert np.array_equal(_bits(sancodec.decode((tmp_path / "on.san").read_bytes()).samples), _bits(x))


def test_the_numcodecs_codec_gives_back_float64_chunks_near_a_step():
    """The numcodecs codec's lossless float64 chunks of counts scaled twice come back as the same doubles (refused
    before 1.19), in a fraction of their bytes."""
    from sancodec.arraycodec import Sancodec

    x = SCALINGS["two roundings"](_counts(10, 5000, 2))
    codec = Sancodec(fs=250.0)
    data = codec.encode(x)
    back = np.asarray(codec.decode(data))
    assert back.dtype == np.float64 and np.array_equal(_bits(back), _bits(x)) and len(data) < x.nbytes / 4


def test_a_value_rounded_to_zero_from_below_decodes_as_zero_not_minus_zero():
    """``rint(p / u) * u`` of a ``p`` just below 0 is -0.0, which no channel near a grid holds (the encoder refuses a
    -0.0): the decoder gives 0.0, so that a late offset's values on its unit come back bit for bit (pyedflib's scaling
    was held in 3 correction bits, not 0, before)."""
    back = near_values(np.array([0, 10]), NearGrid(0.1, -1e-13, -41, 0, 0))
    assert back[0] == 0 and not np.signbit(back[0])
    x = SCALINGS["pyedflib"](_counts(11, 5000)[:, 0])
    grid = near_grid(x)
    assert grid is not None and grid.bits == 0 and grid.floor > LEAST_EXPONENT


_HOSTILE_SOURCE = sancodec.encode(SCALINGS["two roundings"](_counts(13, 600, 2)), fs=250)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e300, 1e300, allow_nan=False), st.integers(LEAST_EXPONENT, 1023),
                          st.integers(0, 2), st.integers(0, 12)), min_size=2, max_size=2),
       st.lists(st.floats(1e-300, 1e300), min_size=2, max_size=2))
def test_any_near_grid_the_schema_allows_decodes_to_finite_doubles_or_one_error(entries, steps):
    """Any grid a header may hold (CRCs valid, every field within its range, the integers the file's own) decodes to
    finite doubles or is one SanFormatError, without a warning, whole and a row at a time: no overflow escapes."""
    from common import rewrap

    header = SanReader(io.BytesIO(_HOSTILE_SOURCE)).header
    bad = rewrap(_HOSTILE_SOURCE, header={**header, "quantum": steps, "near_grid": [list(e) for e in entries]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            values = sancodec.decode(bad).samples
        except sancodec.SanFormatError:
            return
        assert values.dtype == np.float64 and np.all(np.isfinite(values))
        with sancodec.open(io.BytesIO(bad)) as f:
            assert np.array_equal(_bits(f[[0, 599]]), _bits(values[[0, 599]]))


def test_a_channel_of_many_distinct_values_is_ranked_on_a_sample_and_still_found():
    """A channel of more distinct values than ``neargrid.RANK_SAMPLE`` has its steps ranked and first tried on a
    sample of them (a grid that fails there fails on them all): counts scaled twice over 60 000 distinct counts still
    find their grid, as a search of every value does, and noise is refused."""
    from sancodec.codec import neargrid

    k = np.random.default_rng(14).permutation(60_000) - 30_000
    x = SCALINGS["two roundings"](k)
    assert len(np.unique(x)) > 10 * neargrid.RANK_SAMPLE
    grid = near_grid(x)
    assert grid is not None and grid.bits <= 2
    z = near_integers(x, grid)
    assert z is not None and np.array_equal(_bits(near_values(z, grid)), _bits(x))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(neargrid, "RANK_SAMPLE", 1 << 20)
        assert near_grid(x) == grid
    assert near_grid(np.random.default_rng(15).normal(size=50_000)) is None


def test_near_lossless_floats_near_a_step_are_never_larger_than_their_lossless_file():
    """Near-lossless mode weighs the lossless file of its floats, which counts scaled twice now have (format 1.19):
    at an error bound whose grid costs more, the lossless file is written instead."""
    x = SCALINGS["two roundings"](_counts(16, 20_000))
    lossless = sancodec.encode(x, fs=250)
    for bound in (1e-12, 1e-9, 1e-6, 1e-5):
        data = sancodec.encode(x, fs=250, mode="near-lossless", max_error=bound)
        assert len(data) <= len(lossless)
    assert sancodec.encode(x, fs=250, mode="near-lossless", max_error=1e-12) == lossless  # (its grid far finer)


def test_a_lying_near_grid_gives_one_error_when_decoded_to_edf_and_an_existing_output_is_kept(tmp_path):
    """A 1.19 file rewrapped (checksums valid) with a channel's offset at 1e300: its decode's values are no counts
    EDF or WFDB can hold, one error line and no file; and an EDF already there is not replaced without --force."""
    from common import rewrap

    x = SCALINGS["offset after scaling"](_counts(4, 3000))
    data = sancodec.encode(x, fs=250)
    header = SanReader(io.BytesIO(data)).header
    lie = {**header, "near_grid": [[1e300, *header["near_grid"][0][1:]]]}
    (tmp_path / "lie.san").write_bytes(rewrap(data, header=lie))
    runner = CliRunner()
    for fmt, out in (("edf", "o.edf"), ("wfdb", "o")):
        res = runner.invoke(app, ["decode", str(tmp_path / "lie.san"), "-o", str(tmp_path / out), "--format", fmt])
        assert res.exit_code != 0 and "Traceback" not in res.output and res.output.startswith("error:"), res.output
        assert not list(tmp_path.glob("o*"))
    (tmp_path / "good.san").write_bytes(data)
    (tmp_path / "kept.edf").write_bytes(b"mine")
    res = runner.invoke(app, ["decode", str(tmp_path / "good.san"), "-o", str(tmp_path / "kept.edf")])
    assert res.exit_code != 0 and "already exists" in res.output and (tmp_path / "kept.edf").read_bytes() == b"mine"
