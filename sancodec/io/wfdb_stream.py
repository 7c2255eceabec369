"""WFDB signal files in chunks: formats 16, 212 and 80, read and written a block of rows at a time.

The CLI streams a record through these when it can (one signal file holding every channel,
format 16, 212 or 80, one sample per frame, no skew; that covers MIT-BIH style Holter records and MIMIC's
single-segment waveform records),
so memory stays bounded by the block, not the record. Anything else goes through wfdb-python
whole (``io.wfdb``). The writer builds the record in a temp folder, reads the signal file back
and compares per-channel checksums before it moves anything into place.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sancodec._atomic import move_into_place, temp_folder
from sancodec.errors import SanConfigError, SanFormatError
from sancodec.io.wfdb import (
    _annotated,
    _check_signal_files,
    _integer_formats,
    _warn_fractional_baselines,
    ascii_units,
    check_annotations_read_back,
    check_record_name,
    check_strings,
    counter_fields,
    described_signals,
    kept_checksums,
    kept_inits,
    record_annotations,
    signal_from_record,
    wfdb_time,
    write_annotations,
)
from sancodec.io.wfdb_names import put_back_names, writable_names
from sancodec.signal import Signal, channel_crc32

__all__ = ["STREAM_FORMATS", "NotStreamable", "picked_head", "read_blocks", "stream_header", "streamed_head",
           "streamed_signal", "write_blocks"]

STREAM_FORMATS = ("16", "212", "80")  # (80: 8-bit offset binary, MIMIC's waveform records)


def stream_header(base: Path) -> Any | None:
    """wfdb-python's header of record ``base`` if its samples can be streamed, else None."""
    import wfdb

    if not base.with_name(base.name + ".hea").exists():
        return None
    try:
        head = wfdb.rdheader(str(base))
    except Exception:  # noqa: BLE001 - the whole-record reader reports a broken header properly
        return None
    c = head.n_sig or 0
    if c != described_signals(head):  # the whole-record reader says what is wrong
        return None
    one = lambda values: values is None or len(set(values)) <= 1  # noqa: E731
    if (getattr(head, "n_seg", None) or c == 0 or not head.sig_len or not one(head.fmt) or not one(head.file_name)
            or str(head.fmt[0]) not in STREAM_FORMATS or any((v or 1) != 1 for v in head.samps_per_frame or [])
            or any(head.skew or []) or not one(head.byte_offset)):
        return None
    _check_signal_files(base, head, [1] * c)
    return head


def like_signal(base: Path, head: Any, annotators: Sequence[str] = (), annotated: bool = True) -> Signal:
    """A one-row Signal carrying the record's metadata and annotations (what the .san header holds; ``annotators``:
    ``io.wfdb.record_annotations``'s; none read without ``annotated``: a multi-segment record's segment's): its row the
    record's first, whose values the header's initial values are weighed against (``io.wfdb``'s ``init_values``)."""
    first = next(iter(read_blocks(base, head, 2)), None)
    row = np.zeros((1, head.n_sig), dtype=np.int16) if first is None else np.asarray(first[:1], dtype=np.int16)
    return signal_from_record(head, row, [1] * head.n_sig,
                              record_annotations(base, signal_files=getattr(head, "file_name", None) or (),
                                                 annotators=annotators) if annotated else [])


def _decode(raw: bytes, fmt: str) -> np.ndarray:
    if fmt == "16":
        return np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2")
    if fmt == "80":  # a byte a sample, offset by 128
        return np.frombuffer(raw, dtype=np.uint8).astype(np.int16) - 128
    whole = len(raw) // 3 * 3
    b = np.frombuffer(raw[:whole], dtype=np.uint8).reshape(-1, 3).astype(np.int16)
    out = np.empty((len(b) + (len(raw) - whole == 2), 2), dtype=np.int16)
    out[: len(b), 0] = b[:, 0] | ((b[:, 1] & 0x0F) << 8)
    out[: len(b), 1] = b[:, 2] | ((b[:, 1] & 0xF0) << 4)
    odd = len(out) > len(b)
    if odd:  # an odd count's last sample: its 12 bits in the file's last two bytes
        out[-1] = raw[whole] | ((raw[whole + 1] & 0x0F) << 8), 0
    out[out >= 2048] -= 4096
    return out.reshape(-1)[: 2 * len(b) + odd]


def _encode(values: np.ndarray, fmt: str) -> bytes:
    if fmt == "16":
        return values.astype("<i2").tobytes()
    if fmt == "80":
        return (values.astype(np.int16) + 128).astype(np.uint8).tobytes()
    v = values.astype(np.int16)
    odd = len(v) % 2
    if odd:
        v = np.append(v, np.int16(0))  # an odd count's last sample takes two bytes, as WFDB writes it
    u = (v.reshape(-1, 2) & 0x0FFF).astype(np.uint16)
    out = np.empty((len(u), 3), dtype=np.uint8)
    out[:, 0] = u[:, 0] & 0xFF
    out[:, 1] = ((u[:, 0] >> 8) & 0x0F) | ((u[:, 1] >> 4) & 0xF0)
    out[:, 2] = u[:, 1] & 0xFF
    return out.tobytes()[: 3 * len(u) - odd]


def read_blocks(base: Path, head: Any, rows: int) -> Iterator[np.ndarray]:
    """The record's samples (rows x channels, int16), ``rows`` at a time (rounded to an even count)."""
    c, n, fmt = head.n_sig, head.sig_len, str(head.fmt[0])
    rows += rows % 2  # format 212 packs two samples in three bytes: keep blocks on whole pairs
    per = {"16": 2, "80": 1}.get(fmt, 1.5)
    offset = int((head.byte_offset or [0])[0] or 0)
    with open(base.parent / head.file_name[0], "rb") as f:
        f.seek(offset)
        for start in range(0, n, rows):
            count = min(rows, n - start)
            want = count * c
            raw = f.read(int(np.ceil(want / 2)) * 3 if fmt == "212" else int(want * per))
            values = _decode(raw, fmt)
            if len(values) < want:
                raise SanFormatError(f"{base}: signal file is truncated")
            yield values[:want].reshape(count, c)


class NotStreamable(SanFormatError):
    """:func:`write_blocks` met samples that the format it chose for a record without formats (16) cannot hold: the
    whole-record writer, which chooses by every sample, writes it (format 32)."""


def streamed_signal(head: dict[str, Any], n: int) -> Signal:
    """The signal entry ``head`` of a ``.san`` header of ``n`` rows as :func:`io.wfdb.write_wfdb` writes a record of
    it, its samples aside (zeros, a broadcast view: nothing held): an EDF or BDF source's EDF+ annotations as an
    ``.atr`` of notes (their onsets past ``n`` rows left out), its units in ASCII; a source without WFDB formats (a
    WAV's, an integer ``.npy``'s) in format 16, gains 1 and baselines 0 where it has none, as that writer gives
    samples of at most 15 bits and a sign (:func:`write_blocks` checks that they are)."""
    c = len(head["channel_names"])
    zeros = np.broadcast_to(np.zeros((1, c), np.int16), (max(n, 1), c))
    return ascii_units(_integer_formats(_annotated(Signal.from_header(head, zeros))))


def streamed_head(head: dict[str, Any], quantum: object, dtype: np.dtype) -> bool:
    """Whether :func:`write_blocks` writes the record of a ``.san``'s signal entry ``head`` (its samples read as
    ``dtype``, ``quantum`` its float grid, if any) as the whole-record writer would: format 16, 212 or 80 alike in every
    channel, one signal file, one sample a frame, integers, a source that says no more of itself than it keeps (a
    WFDB record's checksums, counter and initial values; an EDF or BDF file's fields, its EDF+ annotations written
    as an ``.atr`` of notes), or a WAV's or an integer ``.npy``'s samples of at most 16 bits (format 16, as that writer
    gives them where they fit it; :class:`NotStreamable` where one does not)."""
    from sancodec.io.arrays import integer_bits

    origin = head.get("source")
    fmts, names = head.get("fmt") or [], head.get("file_name") or []
    narrow = not fmts and isinstance(origin, dict) and origin.get("kind") in ("wav", "npy") and \
        np.dtype(dtype).kind in "iu" and (integer_bits(origin, None) or 64) <= 16
    return not (quantum is not None or head.get("samples_per_frame") or not (fmts or narrow)
                or len(set(fmts)) > 1 or (fmts and str(fmts[0]) not in STREAM_FORMATS) or len(set(names)) > 1
                or (_says_more(origin) and not narrow)
                or any(str(n).lower().endswith(".mat") for n in names))  # (a MATLAB file: io.wfdb writes it)


def _says_more(source: object) -> bool:
    """Whether a .san's signal source says more of itself than a damaged WFDB record's checksums, its record line's
    counter and its initial values, or an EDF or BDF source's fields, which the streamed writer keeps or, as the
    whole-record writer, leaves out of a WFDB record but its EDF+ annotations; anything more is for the whole-record
    writers. (A day's EDF went to WFDB whole: 1.9 GB of memory for 74 MB of EDF, ``benchmarks/bench_edf_memory.py
    --outputs wfdb``.)"""
    if isinstance(source, dict) and source.get("kind") in ("edf", "bdf"):
        return False
    return bool(source) and not (isinstance(source, dict) and set(source) <= {"checksums", "counter", "init_values"})


def picked_head(head: dict[str, Any], wanted: Sequence[int]) -> dict[str, Any]:
    """A ``.san``'s signal entry ``head`` of the channels ``wanted`` alone, in that order, their fields as
    ``Signal.select_channels`` picks them (the source's per-channel fields too)."""
    like = Signal.from_header(head, np.zeros((1, len(head["channel_names"])), np.int16))
    return like.select_channels(list(wanted)).header_dict()


def write_blocks(blocks: Iterable[np.ndarray], head: dict[str, Any], path: Path, *, fsync: bool = False) -> list[Path]:
    """Write WFDB record ``path`` (format 16, 212 or 80, one .dat) from decoded blocks; ``head`` is the
    signal entry of a ``.san`` header (an EDF source's too: its EDF+ annotations written as an ``.atr`` of notes, a
    physical zero a fraction of a step from a digital value warned of, as :func:`io.wfdb.write_wfdb` does). Read
    back and checked before it is moved into place. What wfdb-python refuses of the header (an EDF's gain of 0,
    where its physical range is one value) is a :class:`SanFormatError`, as the whole-record writer says it; what
    the decode of ``blocks`` raises goes on as it is."""
    name = check_record_name(path)
    like = streamed_signal(head, 1)
    fmt = str(like.fmt[0] if like.fmt else "16")
    chosen = not head.get("fmt")  # (format 16 chosen here: each block checked to fit it, else NotStreamable)
    check_strings(like)
    _warn_fractional_baselines(like, path)
    c = like.n_channels
    sums, crcs, first, n = np.zeros(c, dtype=np.int64), [0] * c, None, 0
    with temp_folder(path) as tmp:
        with open(tmp / f"{name}.dat", "wb") as dat:
            carry = np.zeros(0, dtype=np.int16)
            for block in blocks:
                if chosen and len(block) and (int(block.min()) < -32767 or int(block.max()) > 32767):
                    raise NotStreamable(f"{path}: samples past format 16's range")
                first = block[0].copy() if first is None else first
                n += len(block)
                sums += block.sum(axis=0, dtype=np.int64)
                crcs = channel_crc32(block, crcs)
                flat = np.concatenate([carry, block.reshape(-1).astype(np.int16)])
                keep = len(flat) - len(flat) % 2 if fmt == "212" else len(flat)
                dat.write(_encode(flat[:keep], fmt))
                carry = flat[keep:]
            dat.write(_encode(carry, fmt) if len(carry) else b"")
        with _said_of_record(path):  # (wfdb-python's refusals of the header, the annotations, the read back)
            return _finish(like, head, name, tmp, path, fmt, n, first, sums, crcs, fsync)


@contextlib.contextmanager
def _said_of_record(path: Path) -> Iterator[None]:
    """What wfdb-python raises within the block, other than sancodec's errors and an OSError (said of the record by
    ``temp_folder``), as a :class:`SanFormatError` naming the record, as :func:`io.wfdb.write_wfdb` says it."""
    try:
        yield
    except (SanFormatError, SanConfigError, OSError):
        raise
    except Exception as exc:
        raise SanFormatError(f"{path}: could not write WFDB record ({type(exc).__name__}: {exc})") from None


def _finish(like: Signal, head: dict[str, Any], name: str, tmp: Path, path: Path, fmt: str, n: int,
            first: np.ndarray | None, sums: np.ndarray, crcs: list[int], fsync: bool) -> list[Path]:
    """:func:`write_blocks`' record after its samples: the header, the annotations, the record read back and checked,
    the files moved into place."""
    import wfdb

    c = like.n_channels
    rec = wfdb.Record(
        record_name=name, n_sig=c, fs=like.fs, sig_len=n, file_name=[f"{name}.dat"] * c, fmt=[fmt] * c,
        adc_gain=list(like.adc_gain or [200.0] * c), baseline=list(like.baseline or [0] * c),
        units=list(like.units), sig_name=writable_names(like.channel_names), adc_res=list(like.adc_res or [0] * c),
        adc_zero=list(like.adc_zero or [0] * c), comments=list(like.comments),
        base_time=wfdb_time(like.base_time, "time"), base_date=wfdb_time(like.base_date, "date"),
        init_value=kept_inits(head.get("source"), np.zeros(c, dtype=np.int64) if first is None else first),
        checksum=kept_checksums(head.get("source"), sums), block_size=[0] * c,
        **counter_fields(head.get("source")),
    )
    rec.wrheader(write_dir=str(tmp))
    put_back_names(tmp / f"{name}.hea", like.channel_names, rec.sig_name)
    like = streamed_signal(head, n)  # (an EDF source's notes: those within the record's rows)
    write_annotations(like, name, tmp)
    _check_read_back(tmp / name, crcs, n)
    check_annotations_read_back(like, tmp / name)
    written = sorted(tmp.iterdir())
    return move_into_place([(f, path.parent / f.name) for f in written], fsync=fsync)


def _check_read_back(base: Path, crcs: list[int], n: int) -> None:
    """The record just written, read back through its header, holds exactly the decoded samples."""
    head = stream_header(base)
    if head is None or head.sig_len != n:
        raise SanFormatError(f"{base.name}: the written record does not read back as a {n}-sample record")
    got = [0] * len(crcs)
    for block in read_blocks(base, head, 1 << 16):
        got = channel_crc32(block, got)
    if got != crcs:
        raise SanFormatError(f"{base.name}: the written record does not read back to the same samples")
