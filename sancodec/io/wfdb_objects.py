"""wfdb-python's objects in memory, both ways: a ``wfdb.Record`` (``rdrecord``'s, from a file or PhysioNet) and its
``wfdb.Annotation``s as a :class:`Signal`, and a Signal as a ``wfdb.Record`` (for ``wfdb.plot_wfdb``, its processing
functions, ``wrsamp``). The files are read and written by ``io.wfdb``; this is for code that already holds the
objects."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import numpy as np

from sancodec.errors import SanConfigError
from sancodec.io.wfdb import annotations_of, signal_from_record, wfdb_time
from sancodec.io.wfdb_multi import INVALID_SAMPLE
from sancodec.io.wfdb_text import DEFAULTS
from sancodec.signal import Signal

__all__ = ["from_wfdb", "is_wfdb_record", "to_wfdb"]


def is_wfdb_record(obj: object) -> bool:
    """Whether ``obj`` is one of wfdb-python's records (``Record`` or ``MultiRecord``), without importing wfdb."""
    kind = type(obj)
    return kind.__module__.split(".")[0] == "wfdb" and kind.__name__ in ("Record", "MultiRecord")


def from_wfdb(record: Any, annotations: Any | Iterable[Any] = ()) -> Signal:
    """``record`` (a ``wfdb.Record``) as a Signal, every header field kept, with ``annotations`` (a
    ``wfdb.Annotation`` or several). Its digital samples (``rdrecord(..., physical=False)``) are taken as they are;
    physical ones (rdrecord's default) are turned back into them (``Record.adc``) and kept only where they give back
    those very values (``Record.dac``, as rdrecord made them): floats off the record's digital grid are refused, not
    rounded. A multi-frequency record is refused (rdrecord averages its frames: ``sancodec.read_signal`` reads
    every sample), as is a MultiRecord (``rdrecord`` joins the segments by default: ``m2s=True``)."""
    if not is_wfdb_record(record):
        raise SanConfigError(f"from_wfdb takes a wfdb.Record, not a {type(record).__name__}")
    name = getattr(record, "record_name", None) or "record"
    if type(record).__name__ == "MultiRecord":
        raise SanConfigError(f"{name}: a MultiRecord's segments are apart: read it with wfdb.rdrecord(..., m2s=True) "
                             "(its default), or read its files with sancodec.read_signal")
    spf = [int(s or 1) for s in (record.samps_per_frame or [1])]
    if max(spf, default=1) > 1:
        raise SanConfigError(f"{name}: a multi-frequency record ({spf} samples per frame): rdrecord averages its "
                             "frames; read its files with sancodec.read_signal, which keeps every sample")
    samples = _digital(record, name)
    listed = [annotations] if hasattr(annotations, "sample") else list(annotations)
    c = samples.shape[1]
    return signal_from_record(_with_defaults(record, name, c), samples, [1] * c, [annotations_of(a) for a in listed])


def _with_defaults(record: Any, name: str, c: int) -> Any:
    """A shallow copy of ``record`` with the optional signal fields it leaves out (None: a record joined from
    segments, ``rdrecord(..., m2s=True)``, has none of them) as WFDB defaults them: ADC resolution and zero 0, the
    signal file the record's ``.dat``."""
    copied = copy.copy(record)
    for field, default in (("adc_res", DEFAULTS["adc_res"]), ("adc_zero", DEFAULTS["adc_zero"]),
                           ("file_name", f"{name}.dat")):
        values = getattr(record, field, None)
        setattr(copied, field, [default] * c if values is None else [default if v is None else v for v in values])
    return copied


def _digital(record: Any, name: str) -> np.ndarray:
    """``record``'s digital samples: ``d_signal`` (or its expanded form), else ``p_signal`` turned back into them
    where exactly so (:func:`from_wfdb`)."""
    c = None if record.n_sig is None else int(record.n_sig)
    digital_given = record.d_signal if record.d_signal is not None else _columns(record.e_d_signal, name)
    if digital_given is not None:
        d = _shaped(digital_given, c, name, "d_signal")
        if d.dtype.kind not in "iu":
            raise SanConfigError(f"{name}: d_signal holds {d.dtype} values, not digital integers")
        return d.astype(np.int64)
    physical_given = record.p_signal if record.p_signal is not None else _columns(record.e_p_signal, name)
    if physical_given is None:
        raise SanConfigError(f"{name}: the record holds no samples (read with wfdb.rdrecord, not rdheader)")
    physical = _shaped(physical_given, c, name, "p_signal").astype(np.float64)
    if record.fmt is None or record.adc_gain is None or record.baseline is None or \
            not len(record.fmt) == len(record.adc_gain) == len(record.baseline) == physical.shape[1]:
        raise SanConfigError(f"{name}: physical samples without fmt, adc_gain and baseline (one a signal) have no "
                             "digital values: set them (Record.set_d_features(do_adc=True) chooses them), or encode "
                             "the floats (sancodec.encode(record.p_signal, fs=record.fs, ...))")
    gain = np.asarray(record.adc_gain, dtype=np.float64)
    baseline = np.asarray(record.baseline, dtype=np.float64)
    invalid = _invalid(record.fmt)
    with np.errstate(invalid="ignore", over="ignore"):  # (Record.adc's arithmetic; its NaN handling fails on records
        # of several formats in wfdb 4.3: the values checked below)
        scaled = np.round(physical * gain + baseline)
        fits = np.isfinite(scaled) & (np.abs(scaled) < 2**53)
        digital = np.where(fits, scaled, 0).astype(np.int64)
    digital = np.where(np.isnan(physical), invalid[None, :], digital)
    back = (digital - baseline) / np.where(gain == 0, 1.0, gain)
    same = ((back == physical) & fits) | (np.isnan(physical) & (invalid < 1 << 62)[None, :])  # (a NaN in a
    # format without an invalid sample is refused)
    if not same.all():
        row, channel = (int(v) for v in np.argwhere(~same)[0])
        value = physical[row, channel]
        raise SanConfigError(f"{name}: the physical sample at row {row} of channel {channel} ({value!r}) is not on "
                             "the record's digital grid (adc_gain, baseline): read the record with physical=False, "
                             "or encode the floats in near-lossless or lossy mode")
    return digital


def _columns(signals: Any, name: str) -> np.ndarray | None:
    """A record's expanded signals (``rdrecord(..., smooth_frames=False)``: one array a signal, all at one rate here)
    as columns; None for none."""
    if signals is None:
        return None
    arrays = [np.asarray(s) for s in signals]
    if len({a.shape for a in arrays}) > 1 or any(a.ndim != 1 for a in arrays):
        raise SanConfigError(f"{name}: its expanded signals differ in length")
    return np.stack(arrays, axis=1) if arrays else None


def _shaped(values: Any, c: int | None, name: str, what: str) -> np.ndarray:
    """``values`` as a (samples, ``c``) array (``c`` None: any count), refused in one line where it is not one."""
    array = np.asarray(values)
    if array.ndim != 2 or (c is not None and array.shape[1] != c) or 0 in array.shape:
        raise SanConfigError(f"{name}: {what} has shape {array.shape}, not (samples, signals) for its n_sig {c}")
    return array


def _invalid(fmts: Any) -> np.ndarray:
    """The invalid-sample value each format writes for NaN (``wfdb_multi.INVALID_SAMPLE``, wfdb-python's; none,
    past any sample, for a format without one)."""
    return np.asarray([INVALID_SAMPLE.get(str(f), 1 << 62) for f in fmts], dtype=np.int64)


def to_wfdb(signal: Signal) -> Any:
    """``signal`` as a ``wfdb.Record``: a digital one's samples as ``d_signal`` and ``p_signal`` (as
    ``rdrecord(..., physical=False)`` and its default give them) with every header field it holds; one without a
    gain (floats: a ``.npy`` or CSV's values) as ``p_signal`` alone. Annotations are not in a Record:
    ``sancodec.write_signal`` writes them to ``.atr`` files. A multi-frequency signal is refused (a Record holds
    one rate; ``write_signal`` writes the record's files)."""
    import wfdb

    if signal.samples_per_frame is not None:
        raise SanConfigError("to_wfdb: a multi-frequency signal has no one-rate Record; write its files with "
                             "sancodec.write_signal")
    c = signal.n_channels
    fields: dict[str, Any] = dict(record_name=signal.record_name, n_sig=c, fs=float(signal.fs),
                                  sig_len=signal.n_samples, sig_name=list(signal.channel_names),
                                  units=list(signal.units), comments=list(signal.comments),
                                  base_time=wfdb_time(signal.base_time, "time"),
                                  base_date=wfdb_time(signal.base_date, "date"))
    gains, baselines = signal.adc_gain, signal.baseline
    if not signal.is_digital or gains is None or baselines is None:
        return wfdb.Record(p_signal=signal.samples.astype(np.float64), **fields)
    d = np.asarray(signal.samples, dtype=np.int64)
    fmt = list(signal.fmt) if signal.fmt is not None else ["16"] * c
    rec = wfdb.Record(d_signal=d, p_signal=signal.physical(), fmt=fmt, adc_gain=[float(g) for g in gains],
                      baseline=[int(b) for b in baselines],
                      adc_res=list(signal.adc_res) if signal.adc_res is not None else [0] * c,
                      adc_zero=list(signal.adc_zero) if signal.adc_zero is not None else [0] * c,
                      init_value=[int(v) for v in d[0]], checksum=[int(s) for s in _checksums(d)],
                      block_size=[0] * c,
                      file_name=list(signal.file_name) if signal.file_name is not None else
                      [f"{signal.record_name}.dat"] * c, **fields)
    return rec


def _checksums(d: np.ndarray) -> np.ndarray:
    """WFDB's 16-bit signal checksums (each channel's sum, wrapped as a signed 16-bit value)."""
    return ((d.sum(axis=0) + 32768) % 65536) - 32768
