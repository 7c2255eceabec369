"""A decoded ``.san`` written as a recording: the output's name, the channels picked, physical values, the format.

``sancodec decode`` and ``sancodec batch --decode`` (:func:`sancodec.batch.decode_tree`) write their outputs through
these functions, so a file decodes to the same bytes either way. Imports are made when called: the command line
starts without numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from sancodec._atomic import check_outputs
from sancodec.errors import SanConfigError

__all__ = ["FLAT_SUFFIXES", "Shaped", "channel_indices", "output_target", "record_like", "shaped", "stream_wfdb",
           "write_shaped"]

#: the suffixes of the one-file formats: a decode's default name ``x.edf`` replaces its suffix by the format's
FLAT_SUFFIXES = (".npy", ".csv", ".tsv", ".txt", ".edf", ".bdf", ".bin", ".raw", ".wav", ".mat")


def record_like(base: Path) -> Path:
    """``base`` with its name as decode names a WFDB record after it (``wfdb_names.record_name_like``)."""
    from sancodec.io.wfdb_names import record_name_like

    return base.with_name(record_name_like(base.name))


def raw_suffix(source: object) -> str:
    """The suffix raw output is named with: the one its raw source had (``io.raw``), else .bin."""
    from sancodec.io.raw import RAW_SUFFIXES

    raw = source.get("raw") if isinstance(source, dict) else None
    suffix = raw.get("suffix") if isinstance(raw, dict) else None
    return suffix if suffix in RAW_SUFFIXES else RAW_SUFFIXES[0]


def output_target(base: Path, fmt: str, source: object, renamed: bool) -> Path:
    """The path a decode to ``fmt`` writes, named after ``base`` (``x.edf`` for ``x.edf.san``): a one-file format's
    file (``base`` where it has the format's suffix already, else that suffix in place of a recording's or added:
    ``my.rec`` becomes ``my.rec.npy``), a WFDB record's base path (``.hea`` or ``.dat`` dropped; where ``renamed``, the
    name being decode's own choice rather than one the user gave, made a valid record name, :func:`record_like`).
    ``source``: the file's ``Signal.source`` entry (a table's ``.tsv`` or a raw file's suffix kept)."""
    from sancodec.io import ONE_FILE_FORMATS, TABLE_SUFFIXES
    from sancodec.io.raw import RAW_SUFFIXES
    from sancodec.io.wfdb import check_record_name

    kept = base.suffix == f".{fmt}" or (fmt == "csv" and base.suffix.lower() in TABLE_SUFFIXES) or \
        (fmt == "raw" and base.suffix.lower() in RAW_SUFFIXES)  # (a .tsv: tabs)
    table = source.get("suffix") if fmt == "csv" and isinstance(source, dict) else None
    suffix = table if table in (".tsv", ".txt") else raw_suffix(source) if fmt == "raw" else f".{fmt}"
    target = base if fmt not in ONE_FILE_FORMATS or kept else base.with_suffix(suffix) \
        if base.suffix.lower() in FLAT_SUFFIXES else base.with_name(base.name + suffix)  # (my.rec.san: my.rec.npy)
    if fmt == "wfdb":
        target = target.with_suffix("") if target.suffix in (".hea", ".dat") else target
        if renamed:
            target = record_like(target)
        check_record_name(target)
    return target


def channel_indices(names: Sequence[str], channels: str) -> list[int]:
    """The indices ``--channels`` names among channels called ``names``, each an index or a channel's name (``V5``; a
    name that is a number is taken as an index; a name with commas in it, ``"ECG, lead II"``, as that channel:
    :func:`_listed_channels`), checked against them."""
    if not channels.strip():  # (an empty list asks for nothing, not for all)
        raise SanConfigError(f"--channels takes comma-separated channel indices or names, got {channels!r}")
    wanted = _listed_channels(list(names), channels.split(","))
    if any(not 0 <= c < len(names) for c in wanted):
        raise SanConfigError(f"--channels {channels} outside 0..{len(names) - 1}")
    return wanted


def _listed_channels(names: list[str], items: list[str]) -> list[int]:
    """The indices of ``--channels``' comma-separated ``items``: where items in a row, joined by their commas, are a
    channel's very name (spaces around it aside; a BrainVision or EDF label may hold a comma), and not all numbers,
    that channel, the most items first; else each item as :func:`_channel_index` reads it. Before, such a channel
    could not be picked by name at all ("no channel index or name")."""
    wanted, i = [], 0
    while i < len(items):
        for j in range(len(items), i + 1, -1):
            joined = ",".join(items[i:j])
            found = [k for k, name in enumerate(names) if name == joined or name.strip() == joined.strip()]
            if not found or all(item.strip().lstrip("+-").isdigit() for item in items[i:j]):
                continue
            if len(found) > 1:
                raise SanConfigError(f"--channels {joined.strip()!r}: channels {', '.join(map(str, found))} are all "
                                     "named so: give the index of the one meant")
            wanted.append(found[0])
            i = j
            break
        else:
            wanted.append(_channel_index(names, items[i]))
            i += 1
    return wanted


def _channel_index(names: list[str], item: str) -> int:
    """One ``--channels`` item's index: a number as it is, else the one channel of that name (spaces around it
    aside; where none has that very name, the one that has it in other case: PTB's ``ii`` for ``II``)."""
    text = item.strip()
    try:
        return int(text)
    except ValueError:
        pass
    for same in (lambda name: name == text, lambda name: name.strip() == text,
                 lambda name: name.strip().casefold() == text.casefold()):
        found = [i for i, name in enumerate(names) if same(name)]
        if len(found) > 1:
            raise SanConfigError(f"--channels {text!r}: channels {', '.join(map(str, found))} are all named so: give "
                                 "the index of the one meant")
        if found:
            return found[0]
    listed = ", ".join(f"{i} {name!r}" for i, name in enumerate(names[:24])) + (", ..." if len(names) > 24 else "")
    raise SanConfigError(f"--channels {text!r}: no channel index or name (the channels: {listed})")


def stream_wfdb(source: Path | str | BinaryIO, target: Path, spec: Any, limits: Any, threads: int | None, force: bool,
                fsync: bool, pick: Callable[[list[str]], list[int]] | None = None, start: int | None = None,
                end: int | None = None) -> list[Path] | None:
    """Write a format 16, 212 or 80 record as its frames decode (a WFDB source's, an EDF's, its EDF+ annotations an
    ``.atr`` of notes, or a WAV's or integer ``.npy``'s of at most 16 bits, in format 16 where every sample fits it; a
    multi-segment record's segments each so, ``io.wfdb_multi_stream``: each as the whole-record writer makes it); None
    when the file holds anything else (another format, several rates, a source that says more of itself than the
    streamed writer writes, samples past format 16's range where it chose it). ``source``: a path, or a file opened
    already (a URL's), read from its start. ``pick``: the channels to write, in their order, given the file's channel
    names (decode --channels), as the whole-record writer writes them of the decoded signal
    (``Signal.select_channels``); ``start``, ``end``: rows [start, end) alone, as ``decode_file`` gives them (its
    header cut to them, ``slice_header``)."""
    from sancodec.codec.api import sample_range
    from sancodec.io.wfdb import output_files
    from sancodec.io.wfdb_multi import output_files as multi_files
    from sancodec.io.wfdb_multi_stream import streams_segments, write_multisegment_blocks
    from sancodec.io.wfdb_stream import NotStreamable, picked_head, streamed_head, streamed_signal, write_blocks
    from sancodec.signal import slice_header
    from sancodec.stream import SanFile

    if isinstance(source, str) or isinstance(source, Path) and (source.is_dir() or not source.exists()):
        return None  # the whole decode reports it (a URL is given opened)
    if not isinstance(source, Path):
        source.seek(0)
    with SanFile(source, model=spec, limits=limits, threads=threads) as f:
        segmented = streams_segments(f.signal_head, f.quantum, f.dtype)  # a multi-segment record, its segments so
        if not segmented and not streamed_head(f.signal_head, f.quantum, f.dtype):
            return None
        n = f.shape[0]
        lo, hi = sample_range(start, end, n)
        head = f.signal_head if (lo, hi) == (0, n) else slice_header(f.signal_head, lo, hi, n)
        blocks = f.blocks(1 << 16, lo, hi)
        if pick is not None:  # the channels' own header fields (a segment map's too), and the blocks' columns, picked
            wanted = pick(list(head["channel_names"]))  # as the signal's are
            head = picked_head(head, wanted)
            blocks = (block[:, wanted] for block in blocks)
        files = (multi_files if segmented else output_files)(streamed_signal(head, hi - lo), target)
        check_outputs(files, force, [source] if isinstance(source, Path) else [])
        if segmented:
            return write_multisegment_blocks(blocks, head, hi - lo, target, fsync=fsync)
        try:
            return write_blocks(blocks, head, target, fsync=fsync)
        except NotStreamable:
            return None


class Shaped(NamedTuple):
    """A decode's signal as its output will hold it (:func:`shaped`): its channels picked, physical where asked, and
    what the writer needs with it."""

    signal: Any  # a Signal
    quantum: list[float] | None  # a float file's steps, by channel kept (a CSV prints each at its grid's places)
    offsets: list[float] | None  # a near-grid float file's offsets (format 1.19), by channel kept
    values: Any  # .npy --physical's array made already (mapped from a file), else None
    wanted: list[int]  # the file's channels the output holds, in its order


def shaped(decoded: Any, input: Path | str, fmt: str, channels: str | None, physical: bool,
           folder: Path | None = None, picked: list[int] | None = None) -> Shaped:
    """``decoded`` (an ``api.DecodedFile``) as the output in ``fmt`` holds it: the ``channels`` named (None: all),
    physical values where asked. ``folder``: where ``decoded``'s samples are mapped from (``stream.decoded_on_disk``),
    and its physical values are made, a block of rows at a time (``io.physical_map``); None: in memory. ``picked``:
    the channels ``decoded`` holds already (a mapped decode's pick), in their order."""
    from sancodec.io.arrays import physical_signal
    from sancodec.io.physical_map import physical_on_disk, source_values_on_disk

    signal, quantum = decoded.signal, decoded.header.get("quantum")
    near = decoded.header.get("near_grid")  # (format 1.19: per channel [offset, floor, halvings, bits])
    offsets = None if near is None or signal.is_digital else [float(entry[0]) for entry in near]
    wanted = list(range(signal.n_channels))
    m = signal.frame_size
    if m > 1 and (decoded.start % m or decoded.end % m):
        raise SanConfigError(f"{input}: a multi-frequency record is cut at whole frames of {m} rows: --start and "
                             f"--end must be multiples of {m} (got {decoded.start} and {decoded.end})")
    if picked is not None:
        wanted = picked
    elif channels is not None:
        wanted = channel_indices(signal.channel_names, channels)
        signal = signal.select_channels(wanted)
    if picked is not None or channels is not None:  # (a float file's steps and offsets picked with its channels: its
        # CSV prints each at its grid's places)
        quantum = None if quantum is None else [quantum[c] for c in wanted]
        offsets = None if offsets is None else [offsets[c] for c in wanted]
    values = None
    if physical and folder is not None:
        signal = physical_on_disk(signal, decoded.start, folder)
        values = source_values_on_disk(signal, folder) if fmt == "npy" else None
    elif physical:
        signal = physical_signal(signal, decoded.start)
    if fmt == "wfdb" and decoded.header.get("float32") is True and quantum is None and not signal.is_digital:
        raise SanConfigError(f"{input}: its float32 values sit on no step (held as their bits): WFDB holds integers, "
                             "and wfdb-python would digitise them anew, not exactly; write .npy or CSV")
    if decoded.header.get("mode") == "lossless" and fmt == "csv":  # a lossless file of floats on a step (1.17): its
        quantum = None  # exact values, at 17 significant digits, not at a lossy grid's places
    return Shaped(signal, quantum, offsets, values, wanted)


def write_shaped(out: Shaped, decoded: Any, target: Path, fmt: str, force: bool, fsync: bool,
                 inputs: Sequence[Path | str] = ()) -> tuple[list[Path], int]:
    """``out`` written as ``target`` in ``fmt`` (none of ``inputs`` overwritten, nothing existing without ``force``):
    the files written, and the rows that fill out an EDF or BDF's last data record (0 for other formats). A salvaged
    decode's lost rows are annotated in EDF and BDF."""
    from sancodec.io import output_files, write_signal
    from sancodec.io.arrays import write_npy
    from sancodec.io.edf import edf_padding

    check_outputs(output_files(out.signal, target, fmt), force, inputs)
    padded = edf_padding(out.signal) if fmt in ("edf", "bdf") else 0
    if out.values is not None:
        return [write_npy(out.signal, target, fsync=fsync, values=out.values)], padded
    return write_signal(out.signal, target, format=fmt, quantum=out.quantum, offsets=out.offsets, fsync=fsync,
                        skipped=_skipped(decoded)), padded


def _skipped(decoded: Any) -> list[tuple[int, int]]:
    """A salvaged decode's rows lost amid those written (gaps: ``api.Salvaged``), counted from its first row: what
    EDF and BDF annotate as no data."""
    found = decoded.salvaged
    if found is None or not found.gaps:
        return []
    lo, hi = decoded.start, decoded.end
    return [(max(a, lo) - lo, min(b, hi) - lo) for a, b in found.lost if a < hi and lo < b]
