"""A multi-segment WFDB record read a block of rows at a time: its metadata (the segment map, the union of its
segments' fields, its annotations) as ``wfdb_multi.read_multisegment`` gives them, and its rows, gaps and absent
channels as the invalid sample, laid out as that reader lays them out, without holding the record: MIMIC's
waveform records (a layout header, format 80 segments, gaps between them) run for days. Where a segment cannot be
read in blocks (``wfdb_stream.stream_header``: one signal file of format 16, 212 or 80, one sample a frame), the
record is read whole, as before."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from sancodec.errors import SanFormatError
from sancodec.signal import Signal, frame_rows

__all__ = ["MultiStream", "multisegment_stream"]

FILL_ROWS = 1 << 16  # a gap's rows are made this many at a time


class MultiStream(NamedTuple):
    """A multi-segment record to be read in blocks: its metadata (a Signal of a frame of rows, the invalid sample's: its
    samples reach no file), its rows, and its rows ``rows`` at a time from the first, each time :attr:`read` is called
    (each segment's checksums checked, and warned of, on the first call, as reading it whole warns)."""

    like: Signal
    rows: int
    read: Callable[[int], Iterator[np.ndarray]]


def multisegment_stream(base: Path, annotators: Sequence[str] = ()) -> MultiStream | None:
    """Record ``base`` as a :class:`MultiStream` where it is multi-segment and each of its segments streams; None
    otherwise (read whole: ``io.wfdb.read_wfdb``). The checks of ``read_multisegment`` are made alike (the same
    errors), but for its refusal of more filler than recorded samples, which guards the memory of a record held
    whole."""
    from sancodec.io import wfdb_multi as multi
    from sancodec.io.wfdb import read_header
    from sancodec.io.wfdb_stream import like_signal, stream_header

    head = read_header(base)
    if not getattr(head, "n_seg", None):
        return None
    master = multi.master_segments(base, head)
    parts: list[tuple[str, int, Signal | None]] = []
    heads: list[Any] = []
    for name, frames in zip(master.names, master.lengths):
        if name == "~":
            parts.append((name, frames, None))
            heads.append(None)
            continue
        multi._check_segment_name(base, name)
        seg_base = base.parent / name
        seg_head = stream_header(seg_base)
        if seg_head is None:  # (a segment in another format, of several rates, or itself multi-segment: whole)
            return None
        seg = like_signal(seg_base, seg_head, annotated=False)  # (its metadata, as read_single gives them)
        multi.check_segment(base, seg_base, seg_head.sig_len, seg.fs, frames, master.fs)
        parts.append((name, frames, seg))
        heads.append(seg_head)
    if not any(seg is not None for _, _, seg in parts):
        return None
    mapped = multi.segment_map(base, head, parts, master)
    segments, union = mapped.segments, mapped.union
    frame = frame_rows(union["samples_per_frame"])
    fill = np.asarray([multi.INVALID_SAMPLE.get(f, -32768) for f in union["fmt"]], dtype=np.int64)
    n = sum(entry["frames"] for entry in segments) * frame
    placed = list(multi.placed(segments, frame))
    passes = [0]

    def read(rows: int) -> Iterator[np.ndarray]:
        from sancodec.stream import reblocked

        passes[0] += 1
        return reblocked(_laid_out(base, parts, heads, placed, fill, frame, passes[0] == 1), rows)

    like = multi.record_signal(base, head, mapped, np.broadcast_to(fill, (frame, len(fill))).copy(), annotators)
    return MultiStream(like, n, read)


def _laid_out(base: Path, parts: list[tuple[str, int, Signal | None]], heads: list[Any],
              placed: list[tuple[dict[str, Any], int, int]], fill: np.ndarray, frame: int,
              check: bool) -> Iterator[np.ndarray]:
    """The record's rows segment by segment, each segment's channels in their columns, the others (and a gap's rows)
    the invalid sample; each segment's checksums checked where ``check`` (``encode_streamed.summed_blocks``)."""
    from sancodec.encode_streamed import summed_blocks
    from sancodec.io.wfdb_stream import read_blocks

    for (name, _, seg), seg_head, (entry, start, end) in zip(parts, heads, placed):
        if seg is None:
            for at in range(start, end, FILL_ROWS):
                yield np.broadcast_to(fill, (min(FILL_ROWS, end - at), len(fill))).copy()
            continue
        seg_base = base.parent / name
        blocks = summed_blocks(seg_base, seg_head, FILL_ROWS) if check else read_blocks(seg_base, seg_head, FILL_ROWS)
        for block in blocks:
            out = np.broadcast_to(fill, (len(block) * frame, len(fill))).copy()
            out[:, entry["channels"]] = np.repeat(block, frame, axis=0) if frame > 1 else block
            yield out


# ----------------------------------------------------------------------------------------------- writing

def streams_segments(head: dict[str, Any], quantum: object, dtype: np.dtype) -> bool:
    """Whether :func:`write_multisegment_blocks` writes the multi-segment record of a ``.san``'s signal entry ``head``
    as ``io.wfdb.write_wfdb`` would: integers at one rate, every segment of format 16, 212 or 80."""
    from sancodec.io import wfdb_multi as multi
    from sancodec.io.wfdb_stream import STREAM_FORMATS

    source = head.get("source")
    if quantum is not None or np.dtype(dtype).kind not in "iu" or head.get("samples_per_frame") or \
            not isinstance(source, dict) or source.get("kind") != multi.KIND or set(source) - _KEPT:
        return False
    segments = source.get("segments")
    return isinstance(segments, list) and all(
        isinstance(e, dict) and (not e.get("channels") or (isinstance(e.get("fmt"), list) and
                                                            all(str(f) in STREAM_FORMATS for f in e["fmt"])))
        for e in segments)


_KEPT = {"kind", "layout", "segments", "counter", "layout_header"}  # what read_multisegment puts in a source


class _Rows:
    """Rows from consecutive blocks, taken a count at a time (:meth:`take`), as pieces of those blocks."""

    def __init__(self, blocks: Iterator[np.ndarray]) -> None:
        self._blocks: Iterator[np.ndarray] = blocks
        self._left: np.ndarray | None = None

    def take(self, count: int) -> Iterator[np.ndarray]:
        while count > 0:
            block = self._left if self._left is not None else next(self._blocks, None)
            if block is None:
                raise SanFormatError("the decoded record ends before its segment map")
            piece, rest = block[:count], block[count:]
            self._left = rest if len(rest) else None
            count -= len(piece)
            yield piece


def write_multisegment_blocks(blocks: Iterator[np.ndarray], head: dict[str, Any], n: int, path: Path, *,
                              fsync: bool = False) -> list[Path]:
    """Write the multi-segment record of a ``.san``'s signal entry ``head`` (``n`` rows, :func:`streams_segments`)
    as record ``path`` from its decoded ``blocks``: each segment a single-segment record written a block at a time
    (``wfdb_stream.write_blocks``: read back and checked), then the layout and master headers and the annotations as
    ``wfdb_multi.write_segments`` writes them; the files those make, moved into place together."""
    from sancodec._atomic import move_into_place, temp_folder
    from sancodec.io import wfdb_multi as multi
    from sancodec.io.segment_map import checked_segments
    from sancodec.io.wfdb import check_record_name
    from sancodec.io.wfdb_stream import streamed_signal, write_blocks

    name = check_record_name(path)
    signal = streamed_signal(head, n)  # (its samples a broadcast view of zeros: the fields alone)
    segments = checked_segments(signal)
    layout, names = multi._names(name, segments)
    rows = _Rows(iter(blocks))
    with temp_folder(path) as tmp:
        for (entry, start, end), seg_name in zip(multi.placed(segments, 1), names):
            pieces = rows.take(end - start)
            if seg_name is None:
                for _ in pieces:  # (a gap's rows: the invalid sample, not written)
                    pass
                continue
            seg_head = multi.segment_signal(signal, entry, start).header_dict()
            write_blocks((piece[:, entry["channels"]] for piece in pieces), seg_head, tmp / seg_name)
        multi.write_headers(signal, name, tmp, segments, layout, names)
        back = multisegment_stream(tmp / name)  # (the headers read back as a record of the same segments, as the
        # whole writer's read back checks them; each segment's samples were checked as it was written)
        theirs = [] if back is None else [(e["frames"], e["channels"]) for e in (back.like.source or {})["segments"]]
        if theirs != [(e["frames"], e["channels"]) for e in segments]:
            raise SanFormatError(f"{path}: the written record reads back with other segments")
        written = sorted(tmp.iterdir())
        expected = sorted(t.name for t in multi.output_files(signal, path))
        if sorted(f.name for f in written) != expected:
            raise SanFormatError(f"{path}: wrote {[f.name for f in written]}, expected {expected}")
        return move_into_place([(f, path.parent / f.name) for f in written], fsync=fsync)
