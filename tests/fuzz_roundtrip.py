"""Round-trip fuzzing of the file writers: odd but readable EDF/BDF and WFDB files, encoded and decoded back.

An EDF case writes a small EDF or BDF file with edfio (EDF+ with an annotation now and then) and overwrites a few of
its header fields as exporters fill them: text with Latin-1 bytes (0xB5 for µ, umlauts, a no-break space, C1
controls; ASCII controls but in a label or unit), a reserved field, a physical maximum equal to its minimum, a digital
maximum that leaves out samples, a count of records of -1; and now and then its annotation signal moved before the
data signals.
A WFDB case writes a small record (formats 16, 24, 32, 80, 8, 61, 160, 310, 311) whose signals may share a name or
have none, with or without a counter frequency, base time and date, initial values other than the first
samples, and comments. Each file is read, encoded
(lossless, now and then lossy) and decoded, and the decode written back in the source's format. A case passes
when reading or writing returns or raises a ``SancodecError``; anything else is a crash. Counted besides: the
lossless EDF files written back byte for byte, the WFDB records whose header fields (wfdb-python's reading of
both headers) and, lossless, signal files are the source's, the EDF files whose decode to WFDB by ``decode``'s
streamed writer gives the whole-record writer's files (``edf to wfdb, streamed as whole``), and the decodes whose
physical values made a few rows at a time (``decode --physical``'s way) give the CSV and ``.npy`` that making them
whole gives (``physical, blocks as whole``).

Run by ``tests/test_roundtrip_fuzz.py`` (a few hundred cases), or for a long run:

    .venv/bin/python tests/fuzz_roundtrip.py --cases 4000 --seed 1
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import tempfile
import traceback
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

import sancodec
from sancodec import SancodecError
from sancodec.io.wfdb_text import as_read

WFDB_FIELDS = ("fs", "counter_freq", "base_counter", "sig_len", "base_time", "base_date", "fmt", "adc_gain",
               "baseline", "units", "adc_res", "adc_zero", "sig_name", "comments")


def _edf_file(rng: random.Random, folder: Path) -> tuple[Path, bool]:
    """An edited EDF/BDF file, and whether its edits leave a file edfio lays out as it would (byte for byte)."""
    import edfio

    kind = rng.choice(["edf", "bdf"])
    signal_class, file_class = (edfio.BdfSignal, edfio.Bdf) if kind == "bdf" else (edfio.EdfSignal, edfio.Edf)
    t = np.arange(1280)
    signals = [signal_class(np.sin(t / (5 + k)) * 100, 128, label=f"S{k}", physical_dimension="uV",
                            transducer_type="AgAgCl", prefiltering="HP", physical_range=(-200, 200))
               for k in range(rng.randint(1, 3))]
    notes = [edfio.EdfAnnotation(1.0, None, "x")] if rng.random() < 0.4 else None
    path = folder / f"case.{kind}"
    file_class(signals, annotations=notes, data_record_duration=1).write(path)
    raw = bytearray(path.read_bytes())
    ns = int(raw[252:256])
    exact = True
    for _ in range(rng.randint(1, 4)):
        k = rng.randrange(len(signals))
        field = rng.choice(["patient", "recording", "reserved", "label", "transducer", "unit", "filter", "pmax",
                            "dmax", "records"])
        at, size = {"patient": (8, 80), "recording": (88, 80), "reserved": (192, 44), "label": (256 + 16 * k, 16),
                    "transducer": (256 + 16 * ns + 80 * k, 80), "unit": (256 + 96 * ns + 8 * k, 8),
                    "filter": (256 + 136 * ns + 80 * k, 80), "pmax": (256 + 112 * ns + 8 * k, 8),
                    "dmax": (256 + 128 * ns + 8 * k, 8), "records": (236, 8)}[field]
        if field == "records":
            value = b"-1"  # the count not known (a recording in progress)
        elif field == "pmax":
            value = b"-200"  # the minimum: an empty physical range
        elif field == "dmax":
            value = rng.choice([raw[256 + 120 * ns + 8 * k : 256 + 120 * ns + 8 * k + 8].strip(), b"0"])
        elif field == "reserved" and notes is None:
            value = rng.choice([b"24BIT", b"Device v2", b"\xb5 unit"])
        elif field == "reserved":
            continue  # (an EDF+ file's reserved field says so)
        else:
            controls = [] if field in ("label", "unit") else [0x09, 0x1B, 0x01]  # (a channel's name and unit: refused)
            value = bytes(rng.choice([*range(32, 127), 0xB5, 0xE9, 0xFC, 0xA0, 0x85, 0x9C, *controls])
                          for _ in range(rng.randint(1, 8)))
            exact = exact and value.strip() == value and (field not in ("patient", "recording") or bool(value))
        raw[at : at + size] = value.ljust(size)[:size]
    path.write_bytes(bytes(raw))
    if notes is not None and rng.random() < 0.4:  # the annotation signal first, or between the data signals
        from sancodec.io.edf_patch import move_annotation_signal

        move_annotation_signal(path, rng.randrange(ns - 1), 3 if kind == "bdf" else 2)
    return path, exact


def _wfdb_record(rng: random.Random, folder: Path, case: int) -> Path:
    """A small WFDB record with odd but valid header fields, written by wfdb-python (then its names put in place, as
    WFDB allows them: repeated, or none)."""
    import wfdb

    from sancodec.io import wfdb_formats

    c, n = rng.randint(1, 3), rng.choice([1, 2, 100, 999])
    fmt = rng.choice(["16", "24", "32", "80", *wfdb_formats.FORMATS])
    low, high = {"80": (-127, 127), "310": (-511, 511), "311": (-511, 511)}.get(fmt, (-32767, 32767))
    steps = np.random.default_rng(case).integers(-3, 4, (n, c))
    x = np.clip(np.cumsum(steps, axis=0), low, high)
    names = [rng.choice(["ECG", "II", "", "lead I", "ECG"]) for _ in range(c)]
    # format 8's initial values: the value before its first difference (the first sample less a step of up to 100)
    inits = [int(v) - rng.randint(-100, 100) if fmt == "8" else int(v) if rng.random() < 0.7 else 0 for v in x[0]]
    rec = wfdb.Record(record_name="r", n_sig=c, fs=rng.choice([360, 250, 62.4725]), sig_len=n,
                      file_name=["r.dat"] * c, fmt=[fmt] * c, adc_gain=[rng.choice([200.0, 12.5])] * c,
                      baseline=[rng.choice([0, -7])] * c, units=[rng.choice(["mV", "mmHg", "NU"])] * c,
                      sig_name=[f"s{k}" for k in range(c)], adc_res=[12] * c, adc_zero=[0] * c,
                      comments=rng.choice([[], ["age: 54"]]),
                      init_value=inits,
                      checksum=[int(v) % 65536 for v in x.sum(axis=0)], block_size=[0] * c)
    if rng.random() < 0.3:
        rec.counter_freq, rec.base_counter = rng.choice([100, 999.56]), rng.choice([None, 5, 12.25])
    if rng.random() < 0.3:
        rec.base_time, rec.base_date = datetime.time(10, 11, 12), rng.choice([None, datetime.date(2003, 2, 1)])
    rec.wrheader(write_dir=str(folder))
    (folder / "r.dat").write_bytes(wfdb_formats.encode(fmt, x, inits) if fmt in wfdb_formats.FORMATS else
                                   x.astype({"16": "<i2", "32": "<i4"}.get(fmt, "<i4")).tobytes() if fmt != "24"
                                   and fmt != "80" else _packed(fmt, x))
    lines = (folder / "r.hea").read_text().split("\n")
    for k, name in enumerate(names):
        lines[1 + k] = lines[1 + k].rsplit(" ", 1)[0] + (" " + name if name else "")
    if fmt != "8" and rng.random() < 0.2:  # signal lines that stop after the format, or after its gain, resolution or
        keep = 2 + rng.randint(0, 3)  # zero (WFDB defaults the rest; format 8's differences start at its initial value)
        lines[1 : 1 + c] = [" ".join(line.split()[:keep]) for line in lines[1 : 1 + c]]
    (folder / "r.hea").write_text("\n".join(lines))
    return folder / "r"


def _packed(fmt: str, x: np.ndarray) -> bytes:
    """Formats 24 (3-byte little-endian) and 80 (8-bit offset binary) of ``x``, interleaved."""
    flat = x.reshape(-1)
    if fmt == "80":
        return (flat + 128).astype(np.uint8).tobytes()
    return b"".join(int(v).to_bytes(3, "little", signed=True) for v in flat)


def run_case(rng: random.Random, folder: Path, case: int, counts: Counter) -> None:
    """One case (EDF or WFDB by turns): counted as it ends; a crash raises."""
    import wfdb

    edf = case % 2 == 0
    path, exact = _edf_file(rng, folder) if edf else (_wfdb_record(rng, folder, case), True)
    lossy = rng.random() < 0.25
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            signal = sancodec.read_signal(path)
    except SancodecError:
        counts["refused to read"] += 1
        return
    out = folder / "out"
    out.mkdir()
    target = out / (path.name if edf else "r")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = sancodec.encode(signal, mode="lossy", prdn=5) if lossy else sancodec.encode(signal)
            sancodec.write_signal(sancodec.decode(data), target, format=None if edf else "wfdb")
    except SancodecError:
        counts["refused to write"] += 1
        return
    counts[_physical_both_ways(sancodec.decode(data), folder)] += 1
    if edf:
        counts["edf written"] += 1
        if not lossy and exact:
            counts["edf lossless, byte for byte" if target.read_bytes() == path.read_bytes() else
                   "edf lossless, other bytes"] += 1
        counts[_edf_to_wfdb(data, folder)] += 1
        return
    counts["wfdb written"] += 1
    a, b = wfdb.rdheader(str(path)), wfdb.rdheader(str(target))
    same = all(as_read(a, f) == as_read(b, f) for f in WFDB_FIELDS if not (lossy and f == "fmt"))
    if not lossy:
        same = same and (path.parent / "r.dat").read_bytes() == (out / "r.dat").read_bytes()
    counts["wfdb, fields (and lossless files) the same" if same else "wfdb, fields or files differ"] += 1


def _edf_to_wfdb(data: bytes, folder: Path) -> str:
    """The EDF's .san decoded to WFDB both ways: by ``decode``'s streamed writer (a block of rows at a time, where it
    takes the file: one rate, format 16) and by the whole-record writer; what came of it, as a count's name (the
    same files, or not; written whole only; refused)."""
    from sancodec.codec.limits import DecodeLimits
    from sancodec.decoded_output import stream_wfdb

    san = folder / "e.san"
    san.write_bytes(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sancodec.write_signal(sancodec.decode(data), folder / "whole", format="wfdb")
    except SancodecError:
        whole = None
    else:
        whole = _record_bytes(folder, "whole")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            streamed = stream_wfdb(san, folder / "streamed", None, DecodeLimits(), None, False, False)
    except SancodecError:
        return "edf to wfdb, refused" if whole is None else "edf to wfdb, streamed refused what whole wrote"
    if streamed is None:
        return "edf to wfdb, whole only" if whole is not None else "edf to wfdb, refused"
    same = whole == _record_bytes(folder, "streamed")
    return "edf to wfdb, streamed as whole" if same else "edf to wfdb, streamed differs"


def _physical_both_ways(signal: sancodec.Signal, folder: Path) -> str:
    """``signal`` (a decode) in physical units both ways: ``io.arrays.physical_signal`` of the whole values and
    ``decode --physical``'s blocks of a few rows (``io.physical_map``), their CSV bytes and ``.npy`` arrays; what came
    of it, as a count's name (the same, or not; refused both ways, or one way only)."""
    from sancodec.io import csv_writer, physical_map
    from sancodec.io.arrays import as_source_array, physical_signal

    made: list[tuple[bytes, bytes] | str] = []
    blocks = physical_map.BLOCK_VALUES, csv_writer.BLOCK_VALUES
    for way in ("whole", "blocks"):
        place = folder / f"physical_{way}"
        place.mkdir()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if way == "whole":
                    table = physical_signal(signal)
                    values = as_source_array(table)
                else:
                    physical_map.BLOCK_VALUES, csv_writer.BLOCK_VALUES = 61, 37  # (a few rows a block)
                    table = physical_map.physical_on_disk(signal, 0, place)
                    values = physical_map.source_values_on_disk(table, place)
                sancodec.write_signal(table, place / "t.csv")
        except SancodecError as exc:
            made.append(f"{type(exc).__name__}: {exc}")
        else:
            array = np.ascontiguousarray(values)
            made.append(((place / "t.csv").read_bytes(), array.dtype.str.encode() + array.tobytes()))
        finally:
            physical_map.BLOCK_VALUES, csv_writer.BLOCK_VALUES = blocks
    if isinstance(made[0], str) or isinstance(made[1], str):
        return "physical, refused both ways" if made[0] == made[1] else "physical, refused one way"
    return "physical, blocks as whole" if made[0] == made[1] else "physical, blocks differ"


def _record_bytes(folder: Path, name: str) -> dict[str, bytes]:
    """Each file of WFDB record ``name`` in ``folder`` by its extension, the record's name in its header made ``R``."""
    return {f.suffix: f.read_bytes().replace(name.encode(), b"R") if f.suffix == ".hea" else f.read_bytes()
            for f in folder.glob(f"{name}.*")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    counts: Counter = Counter()
    crashes: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        for case in range(args.cases):
            folder = Path(scratch) / f"c{case}"
            folder.mkdir()
            try:
                run_case(rng, folder, case, counts)
            except Exception:  # noqa: BLE001 - what this fuzzer looks for
                crashes.append(f"case {case}: {traceback.format_exc(limit=3)}")
    print(json.dumps({"cases": args.cases, **dict(sorted(counts.items())), "crashes": len(crashes),
                      "first_crashes": crashes[:3]}))
    raise SystemExit(1 if crashes else 0)


if __name__ == "__main__":
    main()
