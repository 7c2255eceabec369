"""pandas objects in memory (``io.pandas_objects``): a DataFrame's columns as channels named by their labels, its
index's rate and start, missing values as gaps; refusals in our words."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sancodec
from sancodec import SanConfigError, Signal

RNG = np.random.default_rng(11)
WALK = (np.cumsum(RNG.normal(size=(3000, 2)), axis=0) * 10).astype(np.int16)


def test_a_dataframe_codes_as_its_columns_under_their_labels():
    df = pd.DataFrame(WALK, columns=["I", "II"])
    back = sancodec.decode(sancodec.encode(df, fs=250))
    assert back.channel_names == ["I", "II"] and back.fs == 250.0
    assert np.array_equal(back.samples, WALK)
    assert sancodec.encode(df, fs=250) == sancodec.encode(Signal.from_pandas(df, fs=250))
    lossy = sancodec.decode(sancodec.encode(df.astype(np.float64) / 7, fs=250, mode="lossy", prdn=2))
    assert lossy.channel_names == ["I", "II"]


def test_a_series_is_one_channel_named_by_the_series():
    back = sancodec.decode(sancodec.encode(pd.Series(WALK[:, 0], name="ECG"), fs=500))
    assert back.channel_names == ["ECG"] and np.array_equal(back.samples[:, 0], WALK[:, 0])
    assert sancodec.decode(sancodec.encode(pd.Series(WALK[:, 0]), fs=500)).channel_names == ["ch0"]
    assert Signal.from_pandas(pd.DataFrame(WALK), fs=500).channel_names == ["ch0", "ch1"]  # as an array's


def test_the_index_gives_the_rate_and_a_datetime_index_the_start():
    start = pd.Timestamp("2024-03-01 08:30:05.25")
    df = pd.DataFrame(WALK, columns=["I", "II"], index=pd.date_range(start, periods=len(WALK), freq="4ms"))
    back = sancodec.decode(sancodec.encode(df))
    assert back.fs == 250.0 and back.start == start.to_pydatetime()
    assert sancodec.encode(df, fs=250) == sancodec.encode(df)  # the same rate given: the same file
    with pytest.raises(SanConfigError, match="index says 250 Hz"):
        sancodec.encode(df, fs=500)
    timed = pd.DataFrame(WALK, index=pd.to_timedelta(np.arange(len(WALK)) / 360, unit="s"))
    assert Signal.from_pandas(timed).fs == 360.0
    column = pd.DataFrame(WALK, index=pd.Index(np.round(np.arange(len(WALK)) / 125, 3), name="Time [s]"))
    assert Signal.from_pandas(column).fs == 125.0  # a CSV's time column read as the index
    numbered = pd.DataFrame(WALK, index=pd.Index(np.arange(len(WALK)) * 2, name="sample"))
    with pytest.raises(SanConfigError, match="needs its sampling rate"):  # sample numbers are no times
        sancodec.encode(numbered)


def test_missing_values_are_gaps_and_other_columns_are_refused():
    values = pd.array(WALK[:, 0].astype(np.int64), dtype="Int64")
    values[[5, 6, 900]] = pd.NA
    back = sancodec.decode(sancodec.encode(pd.DataFrame({"I": values}), fs=100))
    physical = back.physical()[:, 0]
    assert np.isnan(physical[[5, 6, 900]]).all()
    kept = ~np.isnan(physical)
    assert np.array_equal(physical[kept], WALK[:, 0][kept])
    for column, said in ((["a"] * 10, "holds"), ([True] * 10, "holds bool")):
        with pytest.raises(SanConfigError, match=f"column 'x' {said}"):
            sancodec.encode(pd.DataFrame({"x": column}), fs=100)
    with pytest.raises(SanConfigError, match="without columns"):
        sancodec.encode(pd.DataFrame(index=range(5)), fs=100)


def test_a_wide_frame_is_read_as_its_columns_without_a_warning():
    wide = pd.DataFrame(RNG.integers(0, 9, size=(5, 40)), columns=[f"E{i}" for i in range(40)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (an array of 5 x 40 is warned about: its rows may be its channels)
        back = sancodec.decode(sancodec.encode(wide, fs=250))
    assert back.samples.shape == (5, 40) and back.channel_names[-1] == "E39"


@pytest.mark.parametrize("fs", [360, 250, 62.5, 128, 0.5, 17.3, 44100, 48000, 2048])
def test_an_index_cut_to_its_resolution_gives_the_rate_it_was_made_at(fs):
    """``date_range(freq=1 / fs s)`` holds the period cut to whole nanoseconds (360 Hz's as 2777777 ns: its span
    read 360.0001 Hz, the file's rate then); times rounded each on their own, and a CSV's time column printed to
    milliseconds, drift no further than their resolution: each gives the rate they were made at."""
    n = 5000
    column = np.zeros((n, 1), np.int16)
    indexes = [pd.date_range("2024-01-01", periods=n, freq=pd.Timedelta(seconds=1 / fs)),
               pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n) / fs, unit="s"),
               pd.to_timedelta(np.arange(n) / fs, unit="s")]
    if fs <= 250:  # (printed to milliseconds: a faster rate's times repeat)
        indexes.append(pd.Index(np.round(np.arange(n) / fs, 3), name="time"))
    for index in indexes:
        assert Signal.from_pandas(pd.DataFrame(column, index=index)).fs == fs


def test_a_constant_step_too_coarse_to_say_a_rate_gives_its_span():
    """Steps of 3 ms could be cut from any rate of 250 to 400 Hz: none is picked for them (the span's rate)."""
    index = pd.Index(np.arange(5000) * 0.003, name="time")
    assert Signal.from_pandas(pd.DataFrame(np.zeros((5000, 1), np.int16), index=index)).fs == pytest.approx(1 / 0.003)


def test_a_signal_goes_to_a_dataframe_and_back():
    """``Signal.to_pandas``: the physical values under the channels' names, indexed by time from the recording's
    start; ``from_pandas`` of it gives the same rate, start and values."""
    start = pd.Timestamp("2024-03-01 08:30:05")
    df = pd.DataFrame(WALK, columns=["I", "II"], index=pd.date_range(start, periods=len(WALK), freq="4ms"))
    sig = sancodec.decode(sancodec.encode(df))
    out = sig.to_pandas()
    assert list(out.columns) == ["I", "II"] and out.index.name == "time" and out.index[0] == start
    assert np.array_equal(out.to_numpy(), WALK.astype(np.float64))
    again = Signal.from_pandas(out)
    assert (again.fs, again.start) == (250.0, start.to_pydatetime()) and np.array_equal(again.samples, WALK)
    held = Signal(WALK, fs=360.0, channel_names=["a", "b"]).to_pandas(physical=False)
    assert held.index[1] == 1 / 360 and held.dtypes.tolist() == [WALK.dtype] * 2  # seconds, without a start
    assert Signal.from_pandas(held).fs == 360.0


def test_a_dataframe_written_by_to_csv_is_read_as_it_was_made(tmp_path):
    """``to_pandas(...).to_csv()``, the way a pandas user saves one, reads back at its rate and start, with and
    without a start (a TimedeltaIndex's "0 days 00:00:00.004" column was refused as no number)."""
    for start in ("2024-03-01", None):
        sig = Signal(WALK, fs=250.0, channel_names=["I", "II"], base_date=start)
        sig.to_pandas(physical=False).to_csv(tmp_path / "x.csv")
        back = sancodec.read_signal(tmp_path / "x.csv")
        assert (back.fs, back.start, back.channel_names) == (250.0, sig.start, ["I", "II"])
        assert np.array_equal(back.samples, WALK)


def test_wfdb_pythons_dataframe_codes_at_the_records_rate_exactly(mitdb_100):
    """``wfdb.rdrecord(...).to_dataframe()``, a wfdb-python user's DataFrame: physical values under a TimedeltaIndex
    of 2777777 ns steps (360 Hz cut to the nanosecond), coded at 360 Hz and decoded to the very values."""
    import wfdb

    df = wfdb.rdrecord(str(mitdb_100), sampto=5000).to_dataframe()
    back = sancodec.decode(sancodec.encode(df))
    assert back.fs == 360.0 and back.channel_names == ["MLII", "V5"]
    assert np.array_equal(back.physical(), df.to_numpy())


def test_an_index_out_of_order_or_with_rows_missing_says_no_rate():
    """Rows out of time order, a time twice, or a stretch of rows missing (a dropout's minute): coded as evenly spaced
    samples at the span's rate, every later sample would move. Refused where the rate is the index's to say; with fs
    given, the rows are taken as that rate says."""
    index = pd.date_range("2024-01-01", periods=len(WALK), freq="4ms")
    missing = index.delete(range(1000, 1250))  # a second of rows gone
    frames = {"does not increase at row 3": pd.DataFrame(WALK, index=index[[0, 1, 2, 2, *range(4, len(WALK))]]),
              "not evenly spaced (a step of 1.004 s after row 999": pd.DataFrame(WALK[: len(missing)], index=missing),
              "does not increase at row 1 ": pd.DataFrame(WALK, index=index[::-1])}
    for said, df in frames.items():
        with pytest.raises(SanConfigError, match=re.escape(said)):
            sancodec.encode(df)
        assert Signal.from_pandas(df, fs=250).fs == 250.0


def test_a_timedelta_index_written_by_to_csv_reads_as_the_time_column(tmp_path, mitdb_100):
    """pandas' ``to_csv`` prints a TimedeltaIndex as "0 days 00:00:00.004000" (named or, as wfdb-python's
    ``to_dataframe()`` leaves it, unnamed): refused as no number before; now the time column, written back in its
    layout (byte for byte where the rate rebuilds each time: 250 Hz to the microsecond)."""
    import wfdb

    df = pd.DataFrame(WALK, columns=["I", "II"], index=pd.to_timedelta(np.arange(len(WALK)) / 250, unit="s"))
    df.index.name = "time"
    df.to_csv(tmp_path / "td.csv")
    sig = sancodec.read_signal(tmp_path / "td.csv")
    assert sig.fs == 250.0 and np.array_equal(sig.samples, WALK)
    sancodec.write_signal(sancodec.decode(sancodec.encode(sig)), tmp_path / "back.csv")
    assert (tmp_path / "back.csv").read_bytes() == (tmp_path / "td.csv").read_bytes()
    frame = wfdb.rdrecord(str(mitdb_100), sampto=3000).to_dataframe()
    frame.to_csv(tmp_path / "wf.csv")  # (its index unnamed, its times to the nanosecond)
    sig = sancodec.read_signal(tmp_path / "wf.csv")
    assert sig.channel_names == ["MLII", "V5"] and sig.fs == 360.0  # (its span's 360.0001 Hz before)
    assert np.array_equal(sancodec.decode(sancodec.encode(sig)).physical(), frame.to_numpy())


@pytest.mark.parametrize("fs", [360, 257, 44100, 7.3])
@pytest.mark.parametrize("kind", ["date-times", "timedeltas"])
def test_a_csv_of_periods_cut_to_the_nanosecond_reads_at_its_rate_and_comes_back_byte_for_byte(tmp_path, fs, kind):
    """``to_csv()`` of a ``date_range`` or ``timedelta_range`` at a rate whose period is no whole number of
    nanoseconds (360 Hz: 2777777 ns, added up; wfdb-python's ``to_dataframe()`` of mitdb): read at its span's
    360.0001 Hz before, which no EDF data record holds, and decoded with times rebuilt from that rate, a nanosecond
    off every few hundred rows. Now read at the rate meant, as ``from_pandas`` reads the DataFrame, its times
    written back from the step (``time_steps``): the whole file and any range of rows byte for byte."""
    n = len(WALK)
    period = pd.Timedelta(seconds=1 / fs)
    index = pd.date_range("2024-03-01 10:00", periods=n, freq=period) if kind == "date-times" else \
        pd.timedelta_range(0, periods=n, freq=period)
    df = pd.DataFrame({"MLII": WALK[:n, 0] / 200, "V5": WALK[:n, 1] / 200}, index=index)
    df.to_csv(tmp_path / "x.csv")
    text = (tmp_path / "x.csv").read_text().splitlines(keepends=True)
    sig = sancodec.read_signal(tmp_path / "x.csv")
    assert sig.fs == Signal.from_pandas(df).fs == fs
    data = sancodec.encode(sig)
    sancodec.write_signal(sancodec.decode(data), tmp_path / "back.csv")
    assert (tmp_path / "back.csv").read_text() == "".join(text)
    sancodec.write_signal(sancodec.decode(data, start=2345, end=2999), tmp_path / "part.csv")
    assert (tmp_path / "part.csv").read_text() == "".join([text[0], *text[2346:3000]])
    lossy = sancodec.decode(sancodec.encode(sig, mode="lossy", prdn=5))
    sancodec.write_signal(lossy, tmp_path / "lossy.csv")  # (a lossy decode's times are the very times too)
    assert [r.partition(",")[0] for r in (tmp_path / "lossy.csv").read_text().splitlines()] == \
        [r.partition(",")[0] for r in "".join(text).splitlines()]
    if fs == 360:
        sancodec.write_signal(sancodec.decode(data), tmp_path / "x.edf")  # ("360 Hz fits no EDF data record")
        assert sancodec.read_signal(tmp_path / "x.edf").fs == 360.0


@pytest.mark.parametrize("name", ["a103l_20000", "03700181_2000f"])
def test_wfdb_pythons_dataframe_saved_by_to_csv_comes_back_byte_for_byte(tmp_path, name):
    """``rdrecord(...).to_dataframe().to_csv()``: physical values as Python prints floats (0.8675855513307985, and a
    decimal column's -0.104), beside a Timedelta (or a date-time) index. A lossless decode printed the floats at 17
    digits (0.86758555133079851) and the decimals at their places (-0.1040): the same values, other text. A CSV
    whose values all print as ``repr`` prints them so (``float_repr``)."""
    import wfdb

    wfdb.rdrecord(str(Path(__file__).parent / "data" / name), sampto=2000).to_dataframe().to_csv(tmp_path / "x.csv")
    sig = sancodec.read_signal(tmp_path / "x.csv")
    assert sig.source["float_repr"] is True
    sancodec.write_signal(sancodec.decode(sancodec.encode(sig)), tmp_path / "back.csv")
    assert (tmp_path / "back.csv").read_bytes() == (tmp_path / "x.csv").read_bytes()


@pytest.mark.parametrize("tz", ["America/New_York", "UTC", "Europe/Berlin", "fixed"])
def test_a_time_zone_aware_index_comes_back_in_its_zone(tz):
    """A DataFrame indexed in a time zone (a wearable's export in UTC, a bedside monitor's local time) came back
    naive, its wall clock alone: comparing it with the frame it came from failed ("Cannot join tz-naive with tz-aware
    DatetimeIndex"). The zone and its offset at the start are kept, and the index comes back in it, across a
    daylight-saving switch too (New York's 2024-03-10 02:00 is 03:00); a naive index stays naive."""
    import datetime

    zone = datetime.timezone(datetime.timedelta(hours=5, minutes=30)) if tz == "fixed" else tz
    index = pd.date_range("2024-03-10 01:59:59", periods=5000, freq="4ms", tz=zone)
    df = pd.DataFrame({"a": np.arange(5000) % 7}, index=index)
    data = sancodec.encode(df)
    back = sancodec.decode(data).to_pandas()
    assert back.index.equals(df.index) and back.index.tz is not None
    assert (back["a"] == df["a"]).all()  # (the frames align: the same instants)
    naive = pd.DataFrame({"a": np.arange(10)}, index=pd.date_range("2024-03-10 01:59:59", periods=10, freq="4ms"))
    assert sancodec.decode(sancodec.encode(naive)).to_pandas().index.tz is None


def test_a_csv_of_date_times_with_an_offset_comes_back_in_it(tmp_path):
    """A CSV's date-times with an offset (``to_csv`` of a zone-aware frame) read at their wall clock came back naive in
    ``to_pandas``; they come back in that offset."""
    index = pd.date_range("2024-03-10 01:00", periods=500, freq="4ms", tz="America/New_York")
    df = pd.DataFrame({"a": np.arange(500) % 7}, index=pd.Index(index, name="time"))
    df.to_csv(tmp_path / "tz.csv")
    back = sancodec.read_signal(tmp_path / "tz.csv").to_pandas()
    assert str(back.index[0]) == "2024-03-10 01:00:00-05:00" and (back.index == df.index).all()


def test_a_zone_out_of_shape_in_a_header_gives_a_naive_index_or_its_offset():
    """A ``.san`` header's source is not trusted: a zone name pandas does not know falls back to its offset, and a
    zone out of shape (not a name, an offset past a day, a CSV suffix past 23:59) is no zone."""
    x = np.zeros((3, 1), dtype=np.int64)
    for source, want in (({"tz": {"name": "Not/AZone", "utc_offset": 3600.0}}, "UTC+01:00"),
                         ({"tz": {"name": 5, "utc_offset": 3600.0}}, None),
                         ({"tz": {"name": "UTC", "utc_offset": 1e9}}, None),
                         ({"tz": {"name": "UTC", "utc_offset": True}}, None),
                         ({"kind": "csv", "time_iso": {"zone": "+99:00"}}, None),
                         ({"kind": "csv", "time_iso": {"zone": "Z"}}, "UTC")):
        signal = Signal(x, 10.0, ["a"], ["mV"], base_date="2024-01-01", base_time="10:00:00", source=source)
        index = signal.to_pandas().index
        assert (None if index.tz is None else str(index.tz)) == want, source
        if want is not None:  # (the wall clock read in its zone)
            assert index[0].strftime("%H:%M") == "10:00"


def test_a_range_decoded_is_indexed_from_its_own_first_row():
    """``decode(start=...)`` kept the record's start, so its ``to_pandas`` index put row 1001 at the first
    timestamp, 4 s early; it is indexed where its rows were (past midnight too, in the index's zone)."""
    for tz in (None, "Europe/Berlin"):
        df = pd.DataFrame({"a": np.arange(5000) % 7},
                          index=pd.date_range("2024-03-10 23:59:59", periods=5000, freq="4ms", tz=tz))
        part = sancodec.decode(sancodec.encode(df), start=1001, end=2000).to_pandas()
        assert part.index.equals(df.index[1001:2000].rename("time"))
