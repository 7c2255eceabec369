"""MATLAB ``.mat`` files (level 5: read by ``io.mat5``, written by scipy, which wfdb-python brings): one numeric array
of samples, and where the file says it, the sampling rate from a scalar variable (``fs``, ``Fs``, ``srate``...).

A lab's recording saved from MATLAB is most often channels x samples (PhysioNet's ``val``: 12 x 5000); so a 2-D
array with fewer rows than columns is read transposed, and written back so. The array is the one variable named
as :data:`SIGNAL_NAMES` lists, else the file's only numeric array of more than one value; a file of several
arrays and none of those names is refused, naming them. Its MATLAB class comes back (int16 as int16, single as
single, a lossy decode rounded and clipped into an integer class), under its name, beside the rate's variable; any
other variable of the file is not kept, and the file is written afresh (not byte for byte: a MAT-file's header
holds the time it was made). MATLAB 7.3 files (HDF5) are refused, with what to do."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from sancodec._atomic import write_bytes_atomic
from sancodec.errors import SanConfigError, SanFormatError
from sancodec.io.mat5 import NUMERIC, MatVariable, mapped, read_array, variables
from sancodec.signal import Signal

__all__ = ["MAX_VALUES", "RATE_NAMES", "SIGNAL_NAMES", "kept_name", "read_mat", "write_mat"]

SIGNAL_NAMES = ("val", "data", "signal", "signals", "sig", "ecg", "x", "y")  # the array's variable, by name (any case)
RATE_NAMES = ("fs", "srate", "sfreq", "fsamp", "samplerate", "sample_rate", "samplingrate", "sampling_rate",
              "samplingfrequency", "sampling_frequency", "freq")  # a rate's variable, by name (any case)
MAX_VALUES = 1 << 31  # the most values a variable read may declare (and no more bytes than its file can hold:
# mat5.MAX_EXPANSION)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")  # a MATLAB variable's name


def read_mat(path: Path, fs: float | None, default_fs: float | None = None) -> Signal:
    """The samples of the MATLAB file at ``path`` (module docstring) as a Signal; ``fs``: the rate where the file
    holds none (refused where it holds another); ``default_fs``: the rate where neither gives one (training's
    ``read_channel``, which does not use it), else that is refused."""
    with mapped(path) as buf:
        found = variables(buf, path)
        name = _signal_name(path, found)
        rate_name = _rate_name(found, name)
        by_name = {v.name: v for v in found}
        array = read_array(buf, by_name[name], path, MAX_VALUES)  # (2-D, more than one value: _signal_name)
        own = _rate(read_array(buf, by_name[rate_name], path, MAX_VALUES)) if rate_name else None
    if rate_name and own is None:
        rate_name = None  # (a variable of that name that is no rate: not the file's rate)
    if own is not None and fs is not None and fs != own:
        raise SanConfigError(f"{path}: a MATLAB file whose {rate_name!r} says {own:g} Hz; fs= (--fs) asks {fs:g}")
    if own is None and fs is None and default_fs is not None:
        fs = default_fs
    if own is None and fs is None:
        raise SanConfigError(f"{path}: a MATLAB file without a rate variable ({', '.join(RATE_NAMES[:3])}...) does not "
                             "say its sampling frequency; give it with --fs (Python: read_signal(path, fs=...))")
    rows, columns = array.shape
    transposed = rows < columns
    samples = array.T if transposed else array
    from sancodec.io.arrays import array_signal  # (arrays imports io's other readers: here on use)

    signal = array_signal(np.ascontiguousarray(samples), own if own is not None else fs, path.stem)
    signal.source = {**(signal.source or {}),  # (what the array's reading keeps: a float array's gaps, NaN)
                     "kind": "mat", "variable": name, "dtype": samples.dtype.str, "rank": 2,
                     **({"transposed": True} if transposed else {}),
                     **({"rate_variable": rate_name} if rate_name else {})}
    signal.record_name = path.stem
    return signal


def _signal_name(path: Path, found: list[MatVariable]) -> str:
    """The variable of ``found`` that holds the samples; a SanFormatError where none does, where several might and
    none is named so, or where it has other than two dimensions."""
    numeric = [v for v in found if v.kind in NUMERIC and not v.complex and math.prod(v.dims) > 1]
    if not numeric:
        held = ", ".join(f"{v.name} ({v.kind} {'x'.join(map(str, v.dims))})" for v in found if v.name) or "nothing"
        raise SanFormatError(f"{path}: no numeric array of samples in this MATLAB file (it holds {held})")
    by_name = {v.name.lower(): v for v in numeric}
    named = next((by_name[k] for k in SIGNAL_NAMES if k in by_name), None)
    if named is None and len(numeric) > 1:
        raise SanFormatError(f"{path}: a MATLAB file of several arrays ({', '.join(v.name for v in numeric)}) and "
                             f"none named {', '.join(SIGNAL_NAMES[:3])}...: save the samples' array alone, or as .npy")
    chosen = named or numeric[0]
    if len(chosen.dims) != 2:
        raise SanFormatError(f"{path}: variable {chosen.name!r} has {len(chosen.dims)} dimensions; samples x channels "
                             "(or channels x samples) takes 2")
    return chosen.name


def _rate_name(found: list[MatVariable], signal_name: str) -> str | None:
    """The scalar numeric variable of ``found`` named as :data:`RATE_NAMES` lists (the first so listed), if any."""
    scalars = {v.name.lower(): v.name for v in found
               if v.kind in NUMERIC and not v.complex and math.prod(v.dims) == 1 and v.name != signal_name}
    return next((scalars[k] for k in RATE_NAMES if k in scalars), None)


def _rate(value: object) -> float | None:
    """A rate variable's value as a positive finite rate, else None."""
    if not isinstance(value, np.ndarray) or value.size != 1 or value.dtype.kind not in "iuf":
        return None
    rate = float(value.reshape(-1)[0])
    return rate if math.isfinite(rate) and rate > 0 else None


def write_mat(signal: Signal, path: Path, *, fsync: bool = False) -> Path:
    """``signal`` as a MATLAB 5 file at ``path`` (moved into place whole): a ``.mat`` source's array again, under its
    variable's name, in its class and orientation, with its rate variable; any other signal as ``val`` (channels x
    samples, as PhysioNet writes it) and ``fs``. A ``.san`` header is not trusted: a name that is no MATLAB
    variable's falls back to those."""
    from scipy.io import savemat

    from sancodec.io.arrays import as_source_array

    source = signal.source if isinstance(signal.source, dict) and signal.source.get("kind") == "mat" else None
    x = as_source_array(signal)
    x = x[:, None] if x.ndim == 1 else x
    rate_name: str | None
    if source is None:  # another source's signal: as PhysioNet writes a record's .mat, and its rate
        name, rate_name, transposed = "val", "fs", True
    else:  # the file it was read from: its names (its rate's where it had one) and orientation
        name = kept_name(source.get("variable"), "val")
        rate_name = kept_name(source.get("rate_variable"), "") or None
        transposed = source.get("transposed") is True
    variables: dict[str, Any] = {name: x.T if transposed else x}
    if rate_name is not None and rate_name != name:
        variables[rate_name] = np.array([[float(signal.fs)]])
    buf = io.BytesIO()
    try:
        savemat(buf, variables, format="5", do_compression=False, oned_as="column")
    except (ValueError, TypeError) as exc:
        raise SanConfigError(f"{path}: these samples do not make a MATLAB file ({exc})") from None
    return write_bytes_atomic(path, buf.getvalue(), fsync=fsync)


def kept_name(value: object, default: str) -> str:
    """A variable's name from a ``.san`` header: ``value`` where it is a MATLAB variable's name, else ``default``."""
    return value if isinstance(value, str) and _NAME.fullmatch(value) else default
