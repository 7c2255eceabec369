"""Archive-scale encoding on Dask: every record under a folder to ``.san`` files in a mirrored tree.

``encode_tree(src, dst)`` finds every WFDB record, EDF/BDF file, (with ``fs``) ``.npy`` array and (with ``csv``)
``.csv`` table under ``src``, encodes each on a Dask cluster (a ``distributed.LocalCluster`` by default, or the
``client`` given) and writes ``dst/manifest.csv``: one row per input with its status, sizes, bits
per sample, seconds, the output's SHA-256 and the error of a failure. A broken record never stops
the others; outputs are written atomically, so an interrupted run leaves no partial ``.san``; a
re-run skips every output that is already complete (its container and every frame checksum
verify) unless ``force``. ``decode_tree`` does the reverse. Needs ``pip install sancodec[batch]``.
"""

from __future__ import annotations

import csv as csvlib
import hashlib
import io
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from sancodec._atomic import write_text_atomic
from sancodec._warnings import caught_here
from sancodec.errors import SancodecError, SancodecWarning, SanConfigError

__all__ = ["MANIFEST", "BatchRow", "decode_tree", "encode_tree", "find_inputs"]

MANIFEST = "manifest.csv"


@dataclass
class BatchRow:
    """What happened to one input."""

    path: str
    status: str  # encoded | decoded | skipped | failed
    input_bytes: int = 0
    output_bytes: int = 0
    bits_per_sample: float | None = None
    prdn: float | None = None  # a lossy output's largest PRDN over its channels, percent (its header's)
    seconds: float = 0.0
    sha256: str = ""
    error: str = ""
    warnings: str = ""  # what the record's reading said of it (SancodecWarning: a WFDB checksum missed), "; "-joined


#: the tables ``--csv`` encodes: not ``.txt``, which a folder of records holds as notes and checksums as often as data
BATCH_TABLES = (".csv", ".tsv")


def find_inputs(src: Path, decode: bool = False, npy: bool = False, csv: bool = False,
                skip: Path | None = None) -> list[Path]:
    """The inputs under ``src``: ``.san`` files to decode, or records to encode (WFDB base paths, ``.edf``/``.bdf``/
    ``.wav`` files, MATLAB files that are not a WFDB record's signal file, BrainVision headers and, when ``npy``,
    ``.npy`` arrays, when ``csv``, ``.csv`` and ``.tsv`` tables), sorted;
    nothing under ``skip`` (the output folder, whose manifest.csv is no input)."""
    files = [p for p in src.rglob("*") if p.is_file()]  # (suffixes in either case: X.EDF, DATA.NPY, R.SAN)
    if decode:
        return sorted(p for p in files if p.suffix.lower() == ".san")
    headers = [p for p in files if p.suffix == ".hea"]  # (wfdb-python reads a record's header as <base>.hea only)
    parts = set().union(*(_segment_records(h) for h in headers))  # encoded with their master record
    found = {p.with_suffix("") for p in headers} - parts
    kinds = {".edf", ".bdf", ".wav", *((".npy",) if npy else ()), *(BATCH_TABLES if csv else ())}
    found |= {p for p in files if p.suffix.lower() in kinds}
    found |= {p for p in files if p.suffix.lower() == ".mat" and not p.with_suffix(".hea").exists()}
    found |= {p for p in files if p.suffix.lower() == ".vhdr"}  # (a BrainVision recording: by its header)
    if skip is not None:
        out = skip.resolve()
        found = {p for p in found if out not in p.resolve().parents}
    return sorted(found)


def _segment_records(header: Path) -> set[Path]:
    """The segment and layout records a multi-segment master header lists (none for other headers:
    only a record line ``name/n_seg …`` has the header parsed, by the reader's own ``record_files``)."""
    from sancodec.io.wfdb import record_files

    try:
        with open(header, encoding="ascii", errors="replace") as f:
            first = next((line for line in f if line.strip() and not line.lstrip().startswith("#")), "")
    except OSError:
        return set()
    words = first.split()
    if not words or "/" not in words[0]:
        return set()
    base = header.with_suffix("")
    return {p.with_suffix("") for p in record_files(base) if p.suffix == ".hea"} - {base}


def _input_bytes(path: Path, annotators: Sequence[str] = ()) -> int:
    """The bytes of a batch row's input: a file's, or every file of a WFDB record (its named ``annotators``' too)."""
    from sancodec.io.wfdb import record_files

    if path.suffix:
        return path.stat().st_size
    return sum(p.stat().st_size for p in record_files(path, annotators=annotators))


def _complete(path: Path) -> bool:
    """An output that opens and whose every frame passes its checksum (no decode)."""
    from sancodec.codec.container import SanReader

    try:
        with open(path, "rb") as f:
            reader = SanReader(f)
            for i in range(reader.n_frames):
                reader.read_frame(i)
        return True
    except (OSError, SancodecError):
        return False


def _attempt(source: str, work: Callable[[BatchRow], None]) -> dict[str, Any]:
    """Run ``work`` on a fresh row for ``source``, timed; a bad record becomes a failed row, never an error."""
    row = BatchRow(source, "failed")
    started = time.perf_counter()
    with _row_warnings() as caught:  # (on a worker, nobody would see them)
        try:
            work(row)
        except (SancodecError, OSError, ValueError) as exc:
            row.status, row.error = "failed", f"{type(exc).__name__}: {exc}"
    row.warnings = "; ".join(str(w.message) for w in caught)
    row.seconds = round(time.perf_counter() - started, 3)
    return asdict(row)


_ALWAYS_LOCK = threading.Lock()


@contextmanager
def _row_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """The SancodecWarnings this thread says within the block, each time it says one (``_warnings.caught_here``:
    on a worker running several rows on threads, a Dask cluster's of the user's own, ``--scheduler``, each row keeps
    its own; with ``warnings.catch_warnings``, whose state is the process's, rows took each other's and most were
    lost). SancodecWarnings are said every time in such a process, not once a place."""
    with _ALWAYS_LOCK:
        if not any(f[0] == "always" and f[2] is SancodecWarning for f in warnings.filters):
            warnings.filterwarnings("always", category=SancodecWarning)
    with caught_here(SancodecWarning) as caught:
        yield caught


def _encode_one(job: tuple[str, str, dict[str, Any], bool]) -> dict[str, Any]:
    """Runs on a worker: one record to one ``.san`` (skipped when a complete one is there). A WFDB record of format 16
    or 212, an EDF or BDF file, a WAV file or BrainVision recording of integers, and in lossy mode a long ``.npy``
    array of integers, are encoded as they are read, a block at a time (``encode_streamed``, as ``sancodec encode``
    reads them: the same file, in memory bounded by the block, not the record); the others read whole."""
    from sancodec._atomic import write_bytes_atomic
    from sancodec.codec.api import encode_rounded, gaps_rounder
    from sancodec.decoded_output import channel_indices
    from sancodec.io import read_signal
    from sancodec.io.arrays import read_csv

    source, target, options, force = job
    src, out = Path(source), Path(target)

    def work(row: BatchRow) -> None:
        row.input_bytes = _input_bytes(src, options.get("annotators", ()))
        if out.exists() and not force and _complete(out):
            row.status = "skipped"
        else:
            opts = dict(options)
            fs, table_fs = opts.pop("fs", None), opts.pop("table_fs", None)
            keep = opts.pop("keep_header_text", False)
            annotators = opts.pop("annotators", ())
            channels = opts.pop("channels", None)
            out.parent.mkdir(parents=True, exist_ok=True)
            values = None if table_fs else _streamed(src, out, opts, fs, keep, annotators, channels)
            if values is None:
                rounding: list = []  # a .npy or CSV's floats with NaN gaps that are no decimals, rounded for a lossy
                # mode
                rounder = gaps_rounder(opts.get("mode", "lossless"), opts.get("max_error"), opts.get("prdn"),
                                       opts.get("snr"), opts.get("bps"), rounding)
                signal = read_csv(src, None, default_fs=table_fs, rounder=rounder) if table_fs else \
                    read_signal(src, fs=fs, keep_header_text=keep, rounder=rounder, annotators=annotators)
                rounded = rounding[0] if rounding else None
                if channels is not None:  # (as sancodec encode --channels picks them, and what was rounded with them)
                    picked = channel_indices(signal.channel_names, channels)
                    signal = signal.select_channels(picked)
                    rounded = None if rounded is None else rounded.channels(picked)
                write_bytes_atomic(out, encode_rounded(signal, rounded, **opts, threads=1))
                values = signal.n_values
            row.status = "encoded"
            row.bits_per_sample = round(8 * out.stat().st_size / values, 4)
        data = out.read_bytes()
        row.output_bytes, row.sha256 = len(data), hashlib.sha256(data).hexdigest()
        row.prdn = _worst_prdn(data)

    return _attempt(source, work)


def _streamed(src: Path, out: Path, options: dict[str, Any], fs: float | None, keep_header_text: bool,
              annotators: Sequence[str], channels: str | None = None) -> int | None:
    """``src`` encoded into ``out`` as it is read, a block at a time, where ``sancodec encode`` reads it so
    (``encode_streamed``; ``channels``: those alone, as ``--channels`` names them); the values it holds, or None where
    it is read whole (nothing written)."""
    from functools import partial

    from sancodec.decoded_output import channel_indices
    from sancodec.encode_streamed import no_spinner, stream_encode, stream_encode_lossy
    from sancodec.san.bundled import default_model

    mode = options.get("mode", "lossless")
    pick = None if channels is None else partial(channel_indices, channels=channels)
    if mode == "lossy":
        targets = {k: options[k] for k in ("prdn", "snr", "bps") if options.get(k) is not None}
        lossy = stream_encode_lossy(src, out, default_model(), targets, options.get("effort"),
                                    options.get("frame_len"), 1, False, no_spinner, fs, options.get("verify"), False,
                                    annotators, pick)
        return None if lossy is None else lossy[2]
    coded = stream_encode(src, out, default_model(), mode, options.get("max_error"), options.get("frame_len"), 1,
                          False, no_spinner, options.get("predictor", "auto"), fs, keep_header_text, annotators, pick)
    return None if coded is None else coded[2]


def _worst_prdn(data: bytes) -> float | None:
    """The largest PRDN over the channels that a lossy file's header records; None for other files."""
    from sancodec.codec.container import SanReader

    achieved = (SanReader(data).header.get("lossy") or {}).get("prdn") or []
    known = [float(p) for p in achieved if p is not None]
    return max(known) if known else None


def _decode_one(job: tuple[str, str, dict[str, Any], bool]) -> dict[str, Any]:
    """Runs on a worker: one ``.san`` back to its source format (WFDB, EDF/BDF, npy, CSV, ...) in the mirror, or to
    ``options["format"]``, its ``channels`` picked and values ``physical`` where asked: the files ``sancodec decode``
    writes of it (``decoded_output``)."""
    from sancodec.codec.container import SanReader
    from sancodec.decoded_output import output_target

    source, target, options, _ = job
    src, out = Path(source), Path(target)

    def work(row: BatchRow) -> None:
        from sancodec.io import default_format

        row.input_bytes = src.stat().st_size
        with open(src, "rb") as fh:  # (the header alone; a header out of shape is refused by the decode below)
            entry = SanReader(fh, header_only=True).header.get("signal")
        kind = entry.get("source") if isinstance(entry, dict) else None
        fmt = options.get("format") or default_format(None, kind)
        if fmt == "wfdb" and not options.get("format"):  # the source's kind first, then the mirror's name (x.npy.san
            fmt = default_format(out, None)  # -> x.npy), which files from before .npy and CSV sources kept their kind
            # go by
        path = output_target(out, fmt, kind, renamed=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        files = _decoded_to(src, path, fmt, options.get("channels"), bool(options.get("physical")),
                            options.get("start"), options.get("end"))
        row.output_bytes = sum(f.stat().st_size for f in files)
        row.sha256 = _sha256_of(files)
        row.status = "decoded"

    return _attempt(source, work)


ON_DISK = ("edf", "bdf", "wav", "npy", "csv")  # the formats a batch decode writes from an array mapped from a file


def _decoded_to(src: Path, path: Path, fmt: str, channels: str | None, physical: bool, start: str | None = None,
                end: str | None = None) -> list[Path]:
    """The ``.san`` at ``src`` written as ``path`` in ``fmt`` as ``sancodec decode`` writes it (``--channels``,
    ``--physical``, ``--start`` and ``--end``, rows or times, ``timepoints.range_rows``; an existing output replaced): a
    record of WFDB format 16, 212 or 80 a block of rows at a time (``decoded_output.stream_wfdb``),
    EDF, BDF, WAV, ``.npy`` and CSV from an array mapped from a file beside the output (``stream.decoded_on_disk``: the
    record never held in memory), else decoded whole; the files written."""
    from sancodec._atomic import temp_folder
    from sancodec.codec import decode_file
    from sancodec.codec.api import read_header
    from sancodec.codec.limits import DecodeLimits
    from sancodec.decoded_output import channel_indices, shaped, stream_wfdb, write_shaped
    from sancodec.stream import decoded_on_disk
    from sancodec.timepoints import range_rows

    limits = DecodeLimits()
    picked: list[int] = []

    def header() -> dict:
        with open(src, "rb") as fh:
            return read_header(fh, limits)

    first, last = range_rows(header, start, end)

    def pick(names: list[str]) -> list[int]:
        assert channels is not None
        picked[:] = channel_indices(names, channels)
        return picked

    if fmt == "wfdb":
        files = stream_wfdb(src, path, None, limits, 1, True, False, None if channels is None else pick, first, last)
        if files is not None:
            return files
    if fmt in ON_DISK:
        with temp_folder(path) as folder:
            decoded = decoded_on_disk(src, folder, limits=limits, threads=1, decimals=fmt == "csv" or physical,
                                      pick=None if channels is None else pick, start=first, end=last)
            if decoded is not None:
                out = shaped(decoded, src, fmt, channels, physical, folder, picked if channels is not None else None)
                return write_shaped(out, decoded, path, fmt, True, False, [src])[0]
    decoded = decode_file(src.read_bytes(), first, last, model=None, limits=limits, threads=1)
    return write_shaped(shaped(decoded, src, fmt, channels, physical), decoded, path, fmt, True, False, [src])[0]


def _sha256_of(files: list[Path]) -> str:
    """The SHA-256 of ``files``' bytes one after another, read a piece at a time (a day's record is gigabytes)."""
    digest = hashlib.sha256()
    for path in files:
        with open(path, "rb") as fh:
            for piece in iter(lambda: fh.read(1 << 20), b""):
                digest.update(piece)
    return digest.hexdigest()


def _run(jobs: list[tuple[str, str, dict[str, Any], bool]], work: Callable[..., dict[str, Any]], client: Any,
         workers: int, progress: Callable[[int, int], None] | None) -> list[BatchRow]:
    from distributed import Client, LocalCluster, as_completed

    own = client is None
    if own:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        futures = client.map(work, jobs, pure=False)
        rows: dict[str, BatchRow] = {}
        for done, future in enumerate(as_completed(futures), 1):
            row = BatchRow(**future.result())
            rows[row.path] = row
            if progress is not None:
                progress(done, len(jobs))
        return [rows[source] for source, *_ in jobs]
    finally:
        if own:
            client.close()
            cluster.close()


def _earlier_warnings(dst: Path) -> dict[str, str]:
    """The warnings a manifest already in ``dst`` holds, by input path: a re-run skips a complete output without
    reading its input again, so what that reading said is carried over (none where there is no readable manifest)."""
    try:
        with open(dst / MANIFEST, newline="", encoding="utf-8") as f:
            return {row["path"]: row.get("warnings") or "" for row in csvlib.DictReader(f) if row.get("path")}
    except (OSError, ValueError, csvlib.Error):
        return {}


def _write_manifest(dst: Path, rows: Iterable[BatchRow]) -> Path:
    earlier = _earlier_warnings(dst)
    rows = list(rows)
    for row in rows:
        if row.status == "skipped" and not row.warnings:
            row.warnings = earlier.get(row.path, "")
    buf = io.StringIO()
    writer = csvlib.DictWriter(buf, fieldnames=[f.name for f in fields(BatchRow)])
    writer.writeheader()
    for row in rows:
        writer.writerow(asdict(row))
    return write_text_atomic(dst / MANIFEST, buf.getvalue())


def encode_tree(src: str | Path, dst: str | Path, *, client: Any = None, workers: int = 2, mode: str = "lossless",
                max_error: float | None = None, prdn: float | None = None, snr: float | None = None,
                bps: float | None = None, effort: str | None = None, fs: float | None = None, csv: bool = False,
                force: bool = False, progress: Callable[[int, int], None] | None = None,
                keep_header_text: bool = False, annotators: Sequence[str] = (), channels: str | None = None,
                frame_len: int | None = None, fast_decode: bool = False,
                verify: bool | None = None) -> list[BatchRow]:
    """Encode every record under ``src`` to ``dst/<same relative path>.san``; returns the manifest rows
    (also written to ``dst/manifest.csv``). ``client``: a ``distributed.Client`` to run on. The options
    are those of ``sancodec.encode``, checked before any record is read (a bad one is one error, not a
    failed row per record). ``.npy`` arrays are inputs when ``fs`` is given, ``.csv`` tables when ``csv`` is (a
    table's leading time column sets its rate; else ``fs``). ``keep_header_text`` (lossless): each single-segment
    WFDB record's ``.hea`` text kept too, which :func:`decode_tree` writes back (``io.wfdb_text``). ``annotators``:
    each WFDB record's annotation files of these extensions too, each required (``read_signal``'s; other recordings
    have none to name). ``channels``: those channels of each record alone (comma-separated indices or names, as
    ``sancodec encode --channels``; a record without one is a failed row); ``frame_len``,
    ``fast_decode`` (lossless and near-lossless: ``predictor="fast"``) and ``verify`` (lossy) as ``sancodec encode``
    takes them."""
    from sancodec.io.wfdb import checked_annotators, find_wfdb_base

    src, dst = Path(src), Path(dst)
    asked = checked_annotators(annotators)
    if keep_header_text and mode != "lossless":
        raise SanConfigError(f"keep_header_text (--keep-header-text) applies to lossless mode, not {mode}")
    if verify is not None and mode != "lossy":
        raise SanConfigError(f"verify (--verify, --no-verify) applies to lossy mode, not {mode} (always checked)")
    if channels is not None and not channels.strip():
        raise SanConfigError(f"--channels takes comma-separated channel indices or names, got {channels!r}")
    options: dict[str, Any] = {"mode": mode}
    given = {"max_error": max_error, "prdn": prdn, "snr": snr, "bps": bps, "effort": effort, "frame_len": frame_len,
             "predictor": "fast" if fast_decode else None, "verify": verify}
    options |= {k: v for k, v in given.items() if v is not None}
    _check_options(options)
    if channels is not None:
        options["channels"] = channels
    if keep_header_text:
        options["keep_header_text"] = True
    from sancodec.io import TABLE_SUFFIXES

    jobs = []
    for path in find_inputs(src, npy=fs is not None, csv=csv, skip=dst):
        target = dst / f"{path.relative_to(src)}.san"  # rec -> rec.san, x.edf -> x.edf.san
        job_options = {**options, **({"fs": fs} if path.suffix == ".npy" else {})}
        if asked and find_wfdb_base(path) is not None:
            job_options["annotators"] = asked
        if path.suffix.lower() in TABLE_SUFFIXES and fs is not None:
            job_options["table_fs"] = fs
        jobs.append((str(path), str(target), job_options, force))
    dst.mkdir(parents=True, exist_ok=True)
    rows = _run(jobs, _encode_one, client, workers, progress) if jobs else []
    _write_manifest(dst, rows)
    return rows


def _check_options(options: dict[str, Any]) -> None:
    """Raise ``SanConfigError`` for options ``sancodec.encode`` would refuse, by encoding a few samples."""
    import numpy as np

    import sancodec

    probe = sancodec.Signal(np.zeros((64, 1), dtype=np.int64), 250.0, ["x"], ["mV"], adc_gain=[200.0], baseline=[0],
                            fmt=["16"])
    sancodec.encode(probe, **options, threads=1)


def decode_tree(src: str | Path, dst: str | Path, *, client: Any = None, workers: int = 2,
                progress: Callable[[int, int], None] | None = None, format: str | None = None,
                physical: bool = False, channels: str | None = None, start: str | None = None,
                end: str | None = None) -> list[BatchRow]:
    """Decode every ``.san`` under ``src`` into ``dst`` (mirrored tree, each in its source's format, or in
    ``format``: ``sancodec decode``'s names, ``x.edf.san`` to ``x.csv``), as ``sancodec decode`` writes it:
    ``physical`` values (CSV and ``.npy``), the ``channels`` named (comma-separated indices or names; a file without
    one of them is a failed row), the rows from ``start`` to ``end`` (row numbers, or times from each record's start:
    ``90s``, ``1:30``, ``timepoints``; a record that ends before a time is a failed row). Files that two inputs would
    both write (``a.edf.san`` and ``a.npy.san`` to ``a.csv``) are failed rows, the others decoded."""
    from sancodec.decoded_output import output_target
    from sancodec.io import FORMATS
    from sancodec.timepoints import row_at

    src, dst = Path(src), Path(dst)
    fmt = None if format is None else format.lower()
    if fmt is not None and fmt not in FORMATS:
        raise SanConfigError(f"unknown format {format!r}; choose from {', '.join(FORMATS)}")
    if physical and fmt not in ("csv", "npy"):
        raise SanConfigError("--physical applies to CSV and .npy output: give --format csv or --format npy")
    if channels is not None and not channels.strip():
        raise SanConfigError(f"--channels takes comma-separated channel indices or names, got {channels!r}")
    for text, what in ((start, "--start"), (end, "--end")):  # (a time's form checked before any file)
        if text is not None:
            row_at(text, 1.0, what)
    options: dict[str, Any] = {"format": fmt, "physical": physical, "channels": channels, "start": start, "end": end}
    jobs: list[tuple[str, str, dict[str, Any], bool]] = [
        (str(p), str(dst / p.relative_to(src).with_suffix("")), options, True) for p in find_inputs(src, decode=True)]
    names = {source: output_target(Path(target), fmt, None, renamed=True) if fmt else Path(target)
             for source, target, _, _ in jobs}  # the name each output takes (a format asked for may give two one)
    sharing: dict[Path, list[str]] = {}
    for source, name in names.items():
        sharing.setdefault(name, []).append(source)
    dst.mkdir(parents=True, exist_ok=True)
    run = [job for job in jobs if len(sharing[names[job[0]]]) == 1]
    done = {row.path: row for row in (_run(run, _decode_one, client, workers, progress) if run else [])}
    rows = [done[source] if source in done else
            BatchRow(source, "failed", error="SanConfigError: " + " and ".join(sharing[names[source]])
                     + f" would both be written as {names[source]}: decode them apart") for source, *_ in jobs]
    _write_manifest(dst, rows)
    return rows
