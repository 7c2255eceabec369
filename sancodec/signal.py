"""``Signal``: samples plus everything a clinical record carries, so nothing is lost silently.

Samples are ``(n_samples, n_channels)``: the original digital integers when the
source has them (WFDB), floats otherwise (.npy/CSV). The WFDB fields follow
wfdb-python's names so a record round-trips field for field. No torch here.

Multi-frequency records (WFDB channels with several samples per frame, EDF signals at several rates) keep one
array of :func:`frame_rows` rows a frame, the least common multiple of the samples per frame: ``fs`` is that row
rate (the fastest channel's, where every channel's samples per frame divide the largest), and a channel with
``samples_per_frame[k]`` samples per frame holds each of its samples for ``frame_rows // samples_per_frame[k]`` rows
(SHHS's 125, 50, 10 and 1 Hz signals: 250 rows a second, the 125 Hz EEG's samples two rows each). The codec codes
each channel at its own rate, so nothing is stored twice.
"""

from __future__ import annotations

import datetime
import math
import operator
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from sancodec.errors import SanConfigError, SanFormatError

__all__ = ["Annotations", "MAX_FRAME_ROWS", "MAX_FRAME_SPREAD", "Signal", "frame_rows", "header_frame_rows",
           "readable_frame", "recording_start", "slice_header"]


#: Largest magnitude of a digital sample, a grid step, an offset: exact in float64 and in every
#: int64 sum the decoder forms. Readers and the encoder refuse integer samples beyond it.
MAX_ABS_SAMPLE = 1 << 53

MAX_FRAME_ROWS = 1 << 16  # rows a multi-frequency frame may take (the least common multiple of its samples per frame)
MAX_FRAME_SPREAD = 16  # readers refuse a record whose frame takes more than this many times its fastest channel's
# samples (each row holds every channel: 125 Hz beside 128 Hz would take 16 000 rows a second, 128 times the memory)


def frame_rows(samples_per_frame: Sequence[int] | None) -> int:
    """Rows of a multi-frequency frame: the least common multiple of the channels' samples per frame (1 for None)."""
    return 1 if not samples_per_frame else math.lcm(*(int(v) for v in samples_per_frame))


def header_frame_rows(samples_per_frame: Any) -> int | None:
    """:func:`frame_rows` of a header's ``samples_per_frame`` where it is a list of positive whole numbers, else None
    (a header not yet checked, a hostile one's field included)."""
    spf = samples_per_frame
    if isinstance(spf, list) and spf and all(type(v) is int and v > 0 for v in spf):
        return frame_rows(spf)
    return None


def readable_frame(samples_per_frame: Sequence[int], what: str) -> int:
    """:func:`frame_rows` of a record a reader is given, refused (:class:`SanFormatError`, naming ``what``) where the
    frame would take more than :data:`MAX_FRAME_SPREAD` times its fastest channel's samples, or more than
    :data:`MAX_FRAME_ROWS` rows: a record sancodec would hold in many times its own memory."""
    spf = [int(v) for v in samples_per_frame]
    if min(spf) < 1:  # (math.lcm of a 0 is 0: no frame at all)
        raise SanFormatError(f"{what}: a channel with {min(spf)} samples per frame")
    rows = frame_rows(spf)
    if rows > MAX_FRAME_ROWS or rows > MAX_FRAME_SPREAD * max(spf):
        raise SanFormatError(f"{what}: channels at {sorted(set(spf), reverse=True)} samples per frame share a frame "
                             f"of {rows} rows (their least common multiple), {rows / max(spf):g} times the fastest "
                             f"channel's samples; sancodec holds every channel on one time axis and refuses frames "
                             f"over {MAX_FRAME_SPREAD} times the fastest (resample the slow channels to rates that "
                             "divide a common one)")
    return rows


def recording_start(base_date: object, base_time: object) -> datetime.datetime | None:
    """A base date and time of day (ISO strings, as a header holds them: not trusted) as one datetime, midnight where
    the time is missing; None without a date, or for fields that are no ISO date and time."""
    if not isinstance(base_date, str) or not base_date or not (base_time is None or isinstance(base_time, str)):
        return None
    try:
        day = datetime.date.fromisoformat(base_date)
        clock = datetime.time.fromisoformat(base_time) if base_time else datetime.time()
    except ValueError:
        return None
    return datetime.datetime.combine(day, clock)


def moved_start(base_date: object, base_time: object, seconds: float) -> dict[str, Any]:
    """The base date and time (ISO strings: not trusted) of the row ``seconds`` after the first, as wfdb-python's
    ``rdrecord(sampfrom=...)`` moves them: the date and time together, or a time of day alone (past midnight it wraps);
    to the microsecond. Nothing where there is nothing to move (no time, a slice from the first row) or the fields are
    no ISO date and time."""
    if not seconds or not isinstance(base_time, str) or not base_time or not math.isfinite(seconds):
        return {}
    try:
        clock = datetime.time.fromisoformat(base_time)
        day = datetime.date.fromisoformat(base_date) if isinstance(base_date, str) and base_date else None
        moved = datetime.datetime.combine(day or datetime.date(2000, 1, 1), clock) + \
            datetime.timedelta(seconds=seconds)
    except (ValueError, OverflowError):  # (a header's own fields, or a date moved past year 9999)
        return {}
    return {"base_time": moved.time().isoformat(), **({"base_date": moved.date().isoformat()} if day else {})}


def beyond_exact_range(samples: np.ndarray) -> bool:
    """True for integer samples outside ±MAX_ABS_SAMPLE (uint64 included), which sancodec refuses (a dtype that
    cannot hold such a value, 32 bits or fewer, takes no pass over the samples)."""
    return samples.dtype.kind in "iu" and samples.size > 0 and samples.dtype.itemsize > 4 and \
        max(int(samples.max()), -int(samples.min())) > MAX_ABS_SAMPLE


def channel_crc32(samples: np.ndarray, running: list[int] | None = None) -> list[int]:
    """CRC-32 of each channel's samples as int64 little-endian (``running``: continue earlier rows')."""
    start = running or [0] * samples.shape[1]
    return [zlib.crc32(np.ascontiguousarray(samples[:, k], dtype="<i8").data, start[k])
            for k in range(samples.shape[1])]

@dataclass(eq=False)
class Annotations:
    """WFDB annotations (e.g. ``.atr`` beat labels): one entry per annotated sample. ``time_resolution``: how the
    source's annotation file began, which its readers do not tell apart: the rate its ``## time resolution`` note
    gave, 0 where it had none (MIT-BIH's own files), None where not known (the writer then notes the rate its times
    count, :func:`annotation_rate`). ``custom_labels``: the labels the file defines itself, ``(label_store, symbol,
    description)`` each (wfdb-python's ``custom_labels``), None where it defines none: without them its own symbols
    were written back as comments."""

    extension: str
    sample: np.ndarray
    symbol: list[str]
    subtype: np.ndarray
    chan: np.ndarray
    num: np.ndarray
    aux_note: list[str]
    time_resolution: float | None = None
    custom_labels: list[tuple[int, str, str]] | None = None

    def __len__(self) -> int:
        return int(self.sample.shape[0])

    def to_dict(self) -> dict[str, Any]:
        return {
            "extension": self.extension,
            "sample": self.sample.astype(np.int64).tolist(),
            "symbol": list(self.symbol),
            "subtype": self.subtype.astype(np.int64).tolist(),
            "chan": self.chan.astype(np.int64).tolist(),
            "num": self.num.astype(np.int64).tolist(),
            "aux_note": list(self.aux_note),
            **({} if self.time_resolution is None else {"time_resolution": self.time_resolution}),
            **({} if self.custom_labels is None else {"custom_labels": [list(c) for c in self.custom_labels]}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Annotations:
        try:
            n = len(data["sample"])
            ann = cls(
                extension=str(data["extension"]),
                sample=np.asarray(data["sample"], dtype=np.int64),
                symbol=[str(s) for s in data["symbol"]],
                subtype=np.asarray(data["subtype"], dtype=np.int64),
                chan=np.asarray(data["chan"], dtype=np.int64),
                num=np.asarray(data["num"], dtype=np.int64),
                aux_note=[str(s) for s in data["aux_note"]],
                time_resolution=checked_time_resolution(data.get("time_resolution")),
                custom_labels=checked_custom_labels(data.get("custom_labels")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SanFormatError(f"invalid annotations: {exc}") from None
        if not all(len(v) == n for v in (ann.symbol, ann.subtype, ann.chan, ann.num, ann.aux_note)):
            raise SanFormatError("invalid annotations: fields of different lengths")
        return ann

    def slice(self, start: int, end: int) -> Annotations:
        """Annotations on samples [start, end), re-based so ``start`` becomes 0."""
        idx = np.flatnonzero((self.sample >= start) & (self.sample < end))
        return Annotations(self.extension, self.sample[idx] - start, [self.symbol[i] for i in idx],
                           self.subtype[idx], self.chan[idx], self.num[idx], [self.aux_note[i] for i in idx],
                           self.time_resolution, self.custom_labels)

    def equals(self, other: Annotations | None) -> bool:
        """The same labels at the same samples (how the file began, :attr:`time_resolution`, aside)."""
        return other is not None and replace(self, time_resolution=None).to_dict() == \
            replace(other, time_resolution=None).to_dict()


#: A source's own header texts, kept with --keep-header-text (``io.wfdb_text``, ``io.edf_text``): each of its whole
#: file, so dropped where a slice or a choice of channels makes another, and kept in lossless files only
KEPT_TEXTS = ("hea", "edf_header")

MAX_TIME_RESOLUTION = 1e9  # Hz: an annotation file's noted rate, at most (a header's own is checked the same way)


def annotation_rate(signal: Signal) -> float:
    """The rate a WFDB annotation file of ``signal`` counts its times at: its frames' (the record header's ``fs``),
    what a writer notes where the source's note is not known, and what a ``time_resolution`` equal to it need not
    say."""
    return signal.fs / signal.frame_size


MAX_LABEL_STORE = 49  # WFDB's annotation codes a file may define for itself: 1 ... 49 (wfdb-python's check)
MAX_LABEL_TEXT = 255  # characters of a defined label's symbol or description (an annotation note's length byte)


def checked_custom_labels(value: object) -> list[tuple[int, str, str]] | None:
    """Untrusted ``custom_labels`` (:class:`Annotations`): None, or ``[label_store, symbol, description]`` items, each
    code 1 ... 49 and each symbol once, a symbol and a description of 1 to 255 characters each (wfdb-python reads no
    label without a description back); anything else a ValueError."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not 0 < len(value) <= MAX_LABEL_STORE:
        raise ValueError(f"custom_labels: a list of 1 to {MAX_LABEL_STORE} (label_store, symbol, description) items")
    labels = []
    for item in value:
        if not isinstance(item, (list, tuple)) or len(item) != 3:
            raise ValueError("custom_labels: each item is (label_store, symbol, description)")
        store, symbol, description = item
        if isinstance(store, bool) or not isinstance(store, int) or not 1 <= store <= MAX_LABEL_STORE \
                or not isinstance(symbol, str) or not 0 < len(symbol) <= MAX_LABEL_TEXT \
                or not isinstance(description, str) or not 0 < len(description) <= MAX_LABEL_TEXT:
            raise ValueError(f"custom_labels: {str(item)[:60]} is no label code 1-{MAX_LABEL_STORE}, symbol and "
                             "description")
        labels.append((store, symbol, description))
    if len({s for s, _, _ in labels}) != len(labels) or len({s for _, s, _ in labels}) != len(labels):
        raise ValueError("custom_labels: a label code or symbol defined twice")
    return labels


def checked_time_resolution(value: object) -> float | None:
    """An untrusted ``time_resolution`` (:class:`Annotations`): None, 0, or a rate up to :data:`MAX_TIME_RESOLUTION`
    Hz (an integer where it is one, as WFDB writes it); anything else a ValueError."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 <= value <= MAX_TIME_RESOLUTION:
        raise ValueError(f"time_resolution {str(value)[:40]!r} is not 0 or a rate in Hz up to {MAX_TIME_RESOLUTION:g}")
    return int(value) if float(value).is_integer() else float(value)


def _all_finite(x: np.ndarray, rows: int = 1 << 16) -> bool:
    """Whether every value of ``x`` is finite, looked at a block of rows at a time: a long record's floats mapped from
    a file (``decode --physical``'s) are never copied whole into a mask."""
    return all(bool(np.isfinite(x[a : a + rows]).all()) for a in range(0, len(x), rows))


@dataclass(eq=False)
class Signal:
    """A multi-channel recording and its metadata.

    ``adc_gain``/``baseline`` convert digital to physical units:
    ``physical = (digital - baseline) / adc_gain``. ``fmt`` is the WFDB storage
    format per channel (``"212"``, ``"16"``…) or None for non-WFDB sources.
    ``channel_names`` and ``units`` left out (``Signal(x, fs=250)``) are ``ch0``, ``ch1``, … and ``NU``
    (no units), as a ``.npy`` file reads.
    """

    samples: np.ndarray
    fs: float
    channel_names: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    adc_gain: list[float] | None = None
    baseline: list[int] | None = None
    fmt: list[str] | None = None
    adc_res: list[int] | None = None
    adc_zero: list[int] | None = None
    file_name: list[str] | None = None
    comments: list[str] = field(default_factory=list)
    base_time: str | None = None
    base_date: str | None = None
    record_name: str = "record"
    annotations: list[Annotations] = field(default_factory=list)
    samples_per_frame: list[int] | None = None  # None: every channel at fs
    #: What the source format has beyond these fields, for its writer (EDF/BDF: ranges, transducer,
    #: prefiltering, patient and recording lines, record duration, annotations); JSON-safe.
    source: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        s = np.asarray(self.samples)
        if s.ndim == 1:
            s = s[:, None]
        if s.ndim != 2 or s.shape[0] == 0 or s.shape[1] == 0:
            raise SanFormatError(f"a signal needs (n_samples, n_channels) samples, got shape {s.shape}")
        if s.dtype.kind == "f" and not _all_finite(s):
            raise SanFormatError("signal holds NaN or Inf samples")
        if s.dtype.kind not in "iuf":
            raise SanFormatError(f"samples must be numeric, got dtype {s.dtype}")
        if not s.dtype.isnative:  # (a big-endian array's: every dtype test after this one is against native types)
            s = s.astype(s.dtype.newbyteorder("="))
        if not (np.isfinite(self.fs) and self.fs > 0):
            raise SanFormatError(f"sampling frequency must be positive, got {self.fs!r}")
        c = s.shape[1]
        if not self.channel_names:
            self.channel_names = [f"ch{k}" for k in range(c)]
        if not self.units:
            self.units = ["NU"] * c
        for name in ("channel_names", "units"):
            if len(getattr(self, name)) != c:
                raise SanFormatError(f"{name} has {len(getattr(self, name))} entries for {c} channels")
        for name in ("adc_gain", "baseline", "fmt", "adc_res", "adc_zero", "file_name", "samples_per_frame"):
            value = getattr(self, name)
            if value is not None and len(value) != c:
                raise SanFormatError(f"{name} has {len(value)} entries for {c} channels")
        if self.samples_per_frame is not None:
            spf = [int(v) for v in self.samples_per_frame]
            if min(spf) < 1 or max(spf) > MAX_FRAME_ROWS or frame_rows(spf) > MAX_FRAME_ROWS:
                raise SanFormatError(f"samples per frame {spf} must be in 1..{MAX_FRAME_ROWS}, and so must their "
                                     "least common multiple (the rows of a frame)")
            self.samples_per_frame = None if max(spf) == 1 else spf
        self.samples = s

    @property
    def frame_size(self) -> int:
        """Rows per WFDB frame: :func:`frame_rows` of the samples per frame (the largest where every one divides it;
        1 for single-rate signals)."""
        return frame_rows(self.samples_per_frame)

    def sample_steps(self) -> list[int]:
        """Rows each channel holds one of its samples for (1 = the channel runs at ``fs``)."""
        spf = self.samples_per_frame or [1] * self.n_channels
        return [self.frame_size // v for v in spf]

    def check_frames(self, what: str) -> None:
        """Raise unless whole frames are present and slow channels hold each sample for its rows."""
        if self.samples_per_frame is None:
            return
        m = self.frame_size
        if self.n_samples % m:
            raise SanFormatError(f"{what}: a multi-frequency signal needs whole frames of {m} samples, "
                                 f"got {self.n_samples}")
        for ch, step in enumerate(self.sample_steps()):
            if step > 1:
                held = self.samples[:, ch].reshape(-1, step)
                if not np.array_equal(held, np.repeat(held[:, :1], step, axis=1)):
                    raise SanFormatError(f"{what}: channel {ch} ({self.samples_per_frame[ch]} samples per "
                                         f"frame) does not hold each sample for {step} rows (slices of a "
                                         f"multi-frequency record must start on a multiple of {m} rows)")
    @property
    def start(self) -> datetime.datetime | None:
        """When the recording began, where its date is known (``base_date``, and ``base_time`` or midnight): a WFDB
        header's base date and time, an EDF file's start, a CSV's first date-time; None where not, or where the
        fields are no ISO date and time (a time of day alone stays in ``base_time``)."""
        return recording_start(self.base_date, self.base_time)

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[0])

    @property
    def n_values(self) -> int:
        """Real samples over all channels: a slow channel of a multi-frequency record counts each of
        its samples once, not once per row it is held for (what sizes and ratios are per)."""
        return sum(self.n_samples // step for step in self.sample_steps())

    @property
    def n_channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def is_digital(self) -> bool:
        """True when samples are the source's integers (lossless coding is possible)."""
        return self.samples.dtype.kind in "iu"

    def physical(self, gaps: bool = True) -> np.ndarray:
        """Samples in physical units (float64); a WFDB record's invalid samples (each format's: a multi-segment
        record's gaps, a dropout) and a CSV's gaps (``io.decimals.missing_of``: the integer a decimal source holds
        them as) NaN, as wfdb-python's ``rdrecord`` gives them (``codec.gaps.invalid_values``; an EDF file's
        samples have none); with ``gaps=False``, scaled as the other samples are."""
        x = self.samples.astype(np.float64)
        if self.is_digital and self.adc_gain is not None and self.baseline is not None:
            gain = np.asarray(self.adc_gain, dtype=np.float64)
            gain = np.where(gain == 0, 1.0, gain)
            with np.errstate(over="ignore"):  # (a gain of 1e-310: infinite values, which the writers refuse)
                x = (x - np.asarray(self.baseline, dtype=np.float64)) / gain
            from sancodec.codec.gaps import invalid_values  # (codec and io import this module)
            from sancodec.io.edf import edf_scalings

            for c, scaling in enumerate(edf_scalings(self)):  # an EDF's samples as edfio scales them: its offset
                if scaling is not None:  # may be a fraction of a step, which an integer baseline rounds
                    x[:, c] = (self.samples[:, c] + scaling[1]) * scaling[0]

            for c, value in enumerate(invalid_values(self) if gaps else []):
                if value is not None:
                    x[self.samples[:, c] == value, c] = np.nan
            if isinstance(self.source, dict) and "negative_zeros" in self.source:  # a decimal source's -0.000 cells
                from sancodec.io.decimals import with_negative_zeros

                with_negative_zeros(x, self.source)
        return x

    def channel_index(self, channel: int | str) -> int:
        """The index of ``channel``: an index as it is, a name as the one channel of that name (``"V5"``); a
        :class:`SanConfigError` naming the channels where none is, or where several share the name (WFDB allows it)."""
        if isinstance(channel, str):
            hits = [i for i, name in enumerate(self.channel_names) if name == channel]
            if len(hits) == 1:
                return hits[0]
            if hits:
                raise SanConfigError(f"{len(hits)} channels are named {channel!r} ({', '.join(map(str, hits))}): "
                                     "give the index of the one meant")
            listed = ", ".join(map(repr, self.channel_names[:24])) + (", ..." if self.n_channels > 24 else "")
            raise SanConfigError(f"no channel named {channel!r} (the channels: {listed})")
        try:
            index = operator.index(channel)
        except TypeError:
            raise SanConfigError(f"a channel is an index or a name, not {type(channel).__name__}") from None
        if not 0 <= index < self.n_channels:
            raise SanConfigError(f"channel {index} does not exist (the signal has {self.n_channels})")
        return index

    def channel(self, index: int | str, physical: bool = True) -> np.ndarray:
        """One channel (an index or a name) at its own (native) rate: physical units by default, else the stored
        samples.

        The one rule for multi-frequency records: ``samples`` hold a slow channel's sample for
        each of its rows; this returns each sample once. Nothing in sancodec averages frames."""
        index = self.channel_index(index)
        x = self.physical()[:, index] if physical else self.samples[:, index]
        return x[:: self.sample_steps()[index]]

    def header_dict(self) -> dict[str, Any]:
        """Every field except samples, JSON-safe."""
        return {
            "fs": float(self.fs),
            "channel_names": list(self.channel_names),
            "units": list(self.units),
            "adc_gain": None if self.adc_gain is None else [float(g) for g in self.adc_gain],
            "baseline": None if self.baseline is None else [int(b) for b in self.baseline],
            "fmt": None if self.fmt is None else [str(f) for f in self.fmt],
            "adc_res": None if self.adc_res is None else [int(v) for v in self.adc_res],
            "adc_zero": None if self.adc_zero is None else [int(v) for v in self.adc_zero],
            "file_name": None if self.file_name is None else list(self.file_name),
            "comments": list(self.comments),
            "base_time": self.base_time,
            "base_date": self.base_date,
            "record_name": self.record_name,
            "annotations": [a.to_dict() for a in self.annotations],
        } | ({} if self.samples_per_frame is None else {"samples_per_frame": list(self.samples_per_frame)}) | (
            {} if self.source is None else {"source": self.source})

    @classmethod
    def from_header(cls, header: dict[str, Any], samples: np.ndarray) -> Signal:
        """Rebuild a signal from :meth:`header_dict` output and its samples."""
        try:
            return cls(
                samples=samples,
                fs=float(header["fs"]),
                channel_names=list(header["channel_names"]),
                units=list(header["units"]),
                adc_gain=header.get("adc_gain"),
                baseline=header.get("baseline"),
                fmt=header.get("fmt"),
                adc_res=header.get("adc_res"),
                adc_zero=header.get("adc_zero"),
                file_name=header.get("file_name"),
                comments=list(header.get("comments", [])),
                base_time=header.get("base_time"),
                base_date=header.get("base_date"),
                record_name=str(header.get("record_name", "record")),
                annotations=[Annotations.from_dict(a) for a in header.get("annotations", [])],
                samples_per_frame=header.get("samples_per_frame"),
                source=header.get("source") if isinstance(header.get("source"), dict) else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SanFormatError(f"invalid signal header: {exc}") from None

    @classmethod
    def from_wfdb(cls, record: Any, annotations: Any = ()) -> Signal:
        """A ``wfdb.Record`` held in memory (``wfdb.rdrecord``'s, from a file or PhysioNet) and its ``wfdb.Annotation``s
        as a Signal, every header field kept (``io.wfdb_objects.from_wfdb``: physical samples are taken back to their
        digital values only where exactly so)."""
        from sancodec.io.wfdb_objects import from_wfdb  # (io imports this module)

        return from_wfdb(record, annotations)

    @classmethod
    def from_pandas(cls, frame: Any, fs: float | None = None) -> Signal:
        """A pandas ``DataFrame`` (its columns the channels, named by their labels) or ``Series`` as a Signal, at
        ``fs`` or the rate its index says (a ``DatetimeIndex``, a ``TimedeltaIndex``, a numeric index named
        ``time…``; ``io.pandas_objects.from_pandas``)."""
        from sancodec.io.pandas_objects import from_pandas  # (io imports this module)

        return from_pandas(frame, fs)

    def to_pandas(self, physical: bool = True) -> Any:
        """This signal as a pandas ``DataFrame`` (its channels the columns, indexed by time from its start;
        ``io.pandas_objects.to_pandas``): the physical values, or with ``physical=False`` the samples as held."""
        from sancodec.io.pandas_objects import to_pandas  # (io imports this module)

        return to_pandas(self, physical)

    def to_wfdb(self) -> Any:
        """This signal as a ``wfdb.Record`` (``d_signal`` and ``p_signal``, as rdrecord gives them;
        ``io.wfdb_objects.to_wfdb``), for wfdb-python's plotting and processing."""
        from sancodec.io.wfdb_objects import to_wfdb

        return to_wfdb(self)

    def select_channels(self, channels: Sequence[int | str]) -> Signal:
        """The given channels (indices or names, in that order) with their metadata; annotations are kept."""
        if isinstance(channels, str) or not len(channels):
            raise SanConfigError(f"select_channels takes a list of channel indices or names, got {channels!r}")
        picked = [self.channel_index(c) for c in channels]
        head = self.header_dict()
        for key in ("channel_names", "units", "adc_gain", "baseline", "fmt", "adc_res", "adc_zero", "file_name",
                    "samples_per_frame"):
            if head.get(key) is not None:
                head[key] = [head[key][c] for c in picked]
        samples = self.samples[:, picked]
        for key in ("signals", "checksums", "negative_zeros", "init_values"):  # an EDF's signal headers; a damaged
            # WFDB record's checksums, a WFDB header's initial values (io.wfdb); a decimal source's negative zeros
            each = (head.get("source") or {}).get(key)
            if isinstance(each, list) and len(each) == self.n_channels:
                head["source"] = {**head["source"], key: [each[c] for c in picked]}
        for key in ("decimals", "value_decimals", "printed_places"):  # a decimal source's places (io.decimals), a
            # CSV's printed ones
            places = (head.get("source") or {}).get(key)
            if isinstance(places, list) and len(places) == self.n_channels:
                head["source"] = {**head["source"], key: [places[c] for c in picked]}
        if isinstance(head.get("source"), dict) and set(KEPT_TEXTS) & set(head["source"]):  # of every channel
            head["source"] = {k: v for k, v in head["source"].items() if k not in KEPT_TEXTS}
        if isinstance((head.get("source") or {}).get("segments"), list):
            from sancodec.io.segment_map import select_source

            head["source"] = select_source(head["source"], picked)
        if self.samples_per_frame is not None:  # the kept channels' frame sets the new row rate
            factor = self.frame_size // frame_rows(head["samples_per_frame"])
            if factor > 1:
                samples = samples[::factor]
                head["fs"] = self.fs / factor
                for ann in head["annotations"]:
                    ann["sample"] = [s // factor for s in ann["sample"]]
        return Signal.from_header(head, samples)

    def slice(self, start: int, end: int) -> Signal:
        """Samples [start, end) with the same metadata; annotations re-based to the slice."""
        if not 0 <= start < end <= self.n_samples:
            raise SanConfigError(f"slice [{start}, {end}) is not within the signal's [0, {self.n_samples})")
        return Signal.from_header(slice_header(self.header_dict(), start, end, self.n_samples),
                                  self.samples[start:end])


def slice_header(header: dict[str, Any], start: int, end: int, n_rows: int | None = None) -> dict[str, Any]:
    """A :meth:`Signal.header_dict` for rows [start, end) of its signal (of ``n_rows``: a decimal source's negative
    zeros re-based, dropped where not given): the start time moved to the first row kept (:func:`moved_start`),
    annotations re-based (EDF+ ones kept inside, in seconds from the new start), a multi-segment map cut to the frames
    kept."""
    header = {**header, "annotations": [Annotations.from_dict(a).slice(start, end).to_dict()
                                        for a in header.get("annotations", [])],
              **moved_start(header.get("base_date"), header.get("base_time"), start / float(header["fs"]))}
    source = header.get("source")
    whole = ("checksums", "init_values", "blank_lines", "records_unknown", *KEPT_TEXTS)  # a damaged record's
    # checksums, its header's initial values (of its first samples), a CSV's blank lines among its rows, an EDF
    # recording's count of records not known, a kept header text: of the whole record
    if isinstance(source, dict) and set(whole) & set(source):
        header["source"] = source = {k: v for k, v in source.items() if k not in whole}
    if isinstance(source, dict) and "negative_zeros" in source:  # a decimal source's: re-based to the rows kept
        from sancodec.io.decimals import sliced_negative_zeros

        header["source"] = source = sliced_negative_zeros(source, start, end, -1 if n_rows is None else n_rows)
    timed = source.get("annotations") if isinstance(source, dict) else None
    if isinstance(source, dict) and isinstance(timed, list):
        t0, t1 = start / float(header["fs"]), end / float(header["fs"])
        header["source"] = {**source, "annotations": [
            [a[0] - t0, *a[1:]] for a in timed
            if isinstance(a, list) and a and isinstance(a[0], (int, float)) and t0 <= a[0] < t1]}
    if isinstance(source, dict) and source.get("kind") == "csv" and "time_start" in source:
        from sancodec.io.arrays import time_column
        from sancodec.io.csv_time_units import time_scale
        from sancodec.io.time_steps import step_of

        time = time_column(source)  # a CSV's time column starts where the rows kept do (none if not writable), in
        # its unit (time_scale), or its step's whole nanoseconds on from its first (time_steps)
        step = step_of(source, float(header["fs"]))
        header["source"] = source = {**source, "time_start": (round(time[1] * 1e9) + start * step) / 1e9
                                     if step is not None else
                                     time[1] + start * time_scale(source) / float(header["fs"])} if time else {
            k: v for k, v in source.items() if k not in ("time_column", "time_start")}
    if isinstance(source, dict) and source.get("kind") == "csv" and "index_column" in source:
        from sancodec.io.arrays import index_column

        index = index_column(source)  # a CSV's index column numbers the rows kept from where they were (none where
        # it is not writable)
        header["source"] = source = {**source, "index_column": {**source["index_column"], "name": index[0],
                                                                 "start": index[1] + start}} \
            if index else {k: v for k, v in source.items() if k != "index_column"}  # (R's quoted row names too)
    if isinstance(source, dict) and "counter" in source and start:  # a WFDB record's counter, at its first row kept
        from sancodec.io.wfdb import kept_counter

        counter = kept_counter(source)
        header["source"] = source = {k: v for k, v in source.items() if k != "counter"}
        if counter is not None:
            base = (counter[1] if len(counter) > 1 else 0) + start / float(header["fs"]) * counter[0]
            header["source"] = source = {**source, "counter": kept_counter({"counter": [counter[0], base]})}
    if isinstance(source, dict) and isinstance(source.get("segments"), list):
        from sancodec.io.segment_map import crop_source

        spf = header.get("samples_per_frame")
        frame = header_frame_rows(spf) or 1
        header["source"] = crop_source(source, start // frame, -(-end // frame))
    return header
