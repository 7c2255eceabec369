"""Fuzzing of the input readers: the test records with garbled WFDB header lines, EDF and BDF headers, model files.

A WFDB case copies one of the test records (single-segment ones and the bundled multi-segment sample), edits
one or two tokens of one of its ``.hea`` files (a hostile number, garbage, a token dropped or added), and reads
it both ways a user's record is read: whole (``read_signal``) and streamed (``wfdb_stream``: the CLI's path for
format 16/212 records). An EDF case (every other one) overwrites a few bytes of the header of an EDF or BDF
file written from a test record (a number, garbage, a stray byte; now and then a byte of the data or a cut
file) and reads it both ways too (``edf.edf_blocks``, the CLI's path for EDF and BDF). A model case (every
third) puts hostile values (NaN, huge, wrong types) into one to three places of the bundled model's JSON and
encodes a short record with it. A file case (every fourth) changes, drops or adds a few bytes near the start of a
``.npy`` array, a MATLAB file (compressed or not), a BrainVision header or data file, a WAV or a CSV written from a
test record (now and then anywhere in it, or cuts it), and reads it (scipy's MATLAB reader died of a segmentation
fault on such files; numpy's raised a TokenError on a damaged ``.npy`` header). A case passes when the readers
return or raise a ``SancodecError``; anything
else (a TypeError from a field wfdb-python read as None, a MemoryError from a count nothing backs, a ValueError
from a field edfio parses lazily, a NaN in a model's metadata that
reached the header writer) escapes.

Run by ``tests/test_header_fuzz.py`` (a few hundred cases under RLIMIT_AS 1.5 GB), or for a long run:

    .venv/bin/python tests/fuzz_headers.py --cases 20000 --seed 1
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

from common import mutated
from fuzz_structure import limit_memory

HERE = Path(__file__).resolve().parent
RECORDS = [(HERE / "data", name) for name in ("100_3chan", "3000003_0003", "1001", "a103l_20000", "03700181_2000f")]
RECORDS.append((HERE.parent / "sancodec" / "data" / "samples" / "multisegment", "ms100"))
EDF_TOKENS = [b"0", b"-1", b"1e308", b"nan", b"inf", b"99999999", b" ", b"x", b"-99999999", b"0.0", b"1", b"2",
              b"\xff", b".", b"+"]
TOKENS = ["0", "-1", "1e308", "nan", "inf", "99999999999999999999", "2147483648", "", "x", "16", "212", "80", "8",
          "310", "311", "24", "32", "61", "160", "0.0", "-0", "1/2", "1:2", "(3)", '"', "~", "+", "#"]


def mutate(lines: list[str], rng: random.Random) -> list[str]:
    """``lines`` with one or two tokens of a line replaced, extended, dropped or added."""
    lines = list(lines)
    for _ in range(rng.randint(1, 2)):
        k = rng.randrange(len(lines))
        parts = lines[k].split(" ")
        j = rng.randrange(len(parts))
        op = rng.randrange(4)
        if op == 0:
            parts[j] = rng.choice(TOKENS)
        elif op == 1:
            parts[j] += rng.choice(TOKENS)
        elif op == 2:
            del parts[j]
        else:
            parts.insert(j, rng.choice(TOKENS))
        lines[k] = " ".join(parts)
    return lines


MODEL_VALUES = [None, -1, 0, 1.5, 1e308, float("nan"), float("inf"), "x", [], {}, [[1, 2], [3]], True, 2**70, 65537]


def garble_model(value: object, rng: random.Random) -> object:
    """``value`` (a model's JSON) with one place, at any depth, set to one of :data:`MODEL_VALUES`."""
    if isinstance(value, dict) and value:
        key = rng.choice(list(value))
        return {**value, key: garble_model(value[key], rng) if rng.random() < 0.5 else rng.choice(MODEL_VALUES)}
    if isinstance(value, list) and value:
        i = rng.randrange(len(value))
        return [*value[:i], garble_model(value[i], rng) if rng.random() < 0.5 else rng.choice(MODEL_VALUES),
                *value[i + 1 :]]
    return rng.choice(MODEL_VALUES)


def edf_corpus(folder: Path) -> list[Path]:
    """EDF and BDF files written from two test records (one of several sampling rates) into ``folder``."""
    from sancodec import read_signal, write_signal

    files = []
    for name in ("test01_00s", "03700181_2000f"):
        for ext in ("edf", "bdf"):
            files.append(folder / f"{name}.{ext}")
            write_signal(read_signal(HERE / "data" / name), files[-1])
    return files


def garble_edf(data: bytes, rng: random.Random) -> bytes:
    """``data`` (an EDF/BDF file) with a few header bytes overwritten; now and then a data byte, or cut short."""
    b = bytearray(data)
    header = 256 + 256 * int(b[252:256].decode().strip())
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.85:
            at, token = rng.randrange(header), rng.choice(EDF_TOKENS)
            b[at : at + len(token)] = token
        else:
            b[rng.randrange(header, len(b))] = rng.randrange(256)
    return bytes(b[: rng.randrange(len(b))] if rng.random() < 0.1 else b)


def read_both_ways(base: Path) -> None:
    """Read record ``base`` whole and, where the streaming reader takes it, streamed."""
    from sancodec import read_signal
    from sancodec.io.wfdb_stream import like_signal, read_blocks, stream_header

    head = stream_header(base)
    if head is not None:
        like_signal(base, head)
        for _ in read_blocks(base, head, 4096):
            pass
    read_signal(base)


def model_case(folder: Path, model: dict, short: object, rng: random.Random) -> tuple[Callable[[], object], dict]:
    """A model case: the bundled model garbled in one to three places, and the encode (and decode) of ``short``
    with it; what to report of it."""
    import sancodec

    garbled = model
    for _ in range(rng.randint(1, 3)):
        garbled = garble_model(garbled, rng)
    text = json.dumps(garbled)
    path = folder / "model.json"
    path.write_text(text)
    mode = rng.choice(["san", "lossless"])
    return (lambda: sancodec.decode(sancodec.encode(short, model=path, mode=mode))), {"model": text[:300]}


def edf_case(folder: Path, suffix: str, data: bytes, rng: random.Random) -> tuple[Callable[[], object], dict]:
    """An EDF case: ``data`` (an EDF or BDF file) garbled, and its reading."""
    from sancodec import read_signal

    path = folder / f"case{suffix}"
    path.write_bytes(garble_edf(data, rng))
    return (lambda: read_edf_both_ways(path, read_signal)), {"file": path.name}


def read_edf_both_ways(path: Path, read_signal: Callable[[Path], object]) -> None:
    """Read an EDF or BDF file block by block where the streaming reader takes it (``io.edf.edf_blocks``: the CLI's
    path for one), and whole."""
    from sancodec.io.edf import edf_blocks

    streamed = edf_blocks(path, 700)
    if streamed is not None:
        for _ in streamed.blocks:
            pass
        streamed.source()
    read_signal(path)


def file_corpus(folder: Path) -> list[Path]:
    """A short test record as a .npy array, MATLAB files (plain and compressed), a BrainVision recording (its header
    and its data file), a WAV and a CSV, in ``folder``."""
    import scipy.io

    from sancodec import read_signal, write_signal

    record = read_signal(HERE / "data" / "100_3chan")
    files = [folder / "f.npy", folder / "f.wav", folder / "f.csv", folder / "f.vhdr"]
    for path in files:
        write_signal(record, path)
    for compressed in (False, True):
        path = folder / f"f{int(compressed)}.mat"
        scipy.io.savemat(path, {"note": "x", "val": record.samples.T.astype("int16"), "fs": record.fs},
                         do_compression=compressed)
        files.append(path)
    return [*files, folder / "f.eeg"]


def garble_file(data: bytes, rng: random.Random) -> bytes:
    """``data`` with one to six bytes changed, dropped or added (``common.mutated``), most often in its first 512
    bytes; now and then cut short."""
    b = mutated(data, rng, 512 if rng.random() < 0.8 else None)
    return b[: rng.randrange(len(b) + 1)] if rng.random() < 0.1 else b


def file_case(folder: Path, path: Path, rng: random.Random) -> tuple[Callable[[], object], dict]:
    """A file case: ``path`` (of :func:`file_corpus`) garbled in a copy of the corpus, and its reading (a
    BrainVision data file through its header)."""
    from sancodec import read_signal

    work = folder / "files"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(path.parent, work, ignore=shutil.ignore_patterns("files", "wfdb", "*.edf", "*.bdf", "model.json"))
    target = work / path.name
    target.write_bytes(garble_file(path.read_bytes(), rng))
    read = work / "f.vhdr" if path.suffix == ".eeg" else target
    fs = 100.0 if read.suffix in (".npy", ".csv") else None
    return (lambda: read_signal(read, fs=fs)), {"file": path.name}


def wfdb_case(folder: Path, records: Path, name: str, rng: random.Random) -> tuple[Callable[[], object], dict]:
    """A WFDB case: record ``name`` of ``records`` copied into ``folder`` with one of its headers garbled, and its
    reading both ways."""
    files = sorted(records.glob(f"{name}*"))
    target = rng.choice([f for f in files if f.suffix == ".hea"])
    lines = mutate(target.read_text().splitlines(), rng)
    work = folder / "wfdb"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    for f in files:
        shutil.copy(f, work / f.name)
    (work / target.name).write_text("\n".join(lines) + "\n")
    return (lambda: read_both_ways(work / name)), {"file": target.name, "header": lines[:4]}


def run(cases: int, seed: int) -> dict:
    """Run ``cases`` cases from ``seed`` (WFDB, EDF, model and file cases in turn); the counts and the first
    escapes."""
    import warnings

    from sancodec import read_signal
    from sancodec.errors import SancodecError

    warnings.simplefilter("ignore")  # wfdb-python warns on odd headers; only exceptions count here
    rng = random.Random(seed)
    escapes: list[dict] = []
    refused = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        edfs = [(f.suffix, f.read_bytes()) for f in edf_corpus(folder)]
        corpus = folder / "corpus"
        corpus.mkdir()
        files = file_corpus(corpus)
        model = json.loads((HERE.parent / "sancodec" / "data" / "models" / "default.json").read_text())
        short = read_signal(HERE / "data" / "test01_00s").slice(0, 1000)
        for case in range(cases):
            turn = case // 3
            if case % 4 == 3:
                attempt, about = file_case(folder, files[(case // 4) % len(files)], rng)
            elif case % 3 == 2:
                attempt, about = model_case(folder, model, short, rng)
            elif case % 3 == 1:
                attempt, about = edf_case(folder, *edfs[turn % len(edfs)], rng)
            else:
                attempt, about = wfdb_case(folder, *RECORDS[turn % len(RECORDS)], rng)
            try:
                attempt()
            except SancodecError:
                refused += 1
            except Exception:  # noqa: BLE001 - what this fuzzer looks for
                escapes.append({"case": case, **about, "error": traceback.format_exc()[-600:]})
    return {"cases": cases, "refused": refused, "escapes": len(escapes), "first_escapes": escapes[:3]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    limit_memory()
    print(json.dumps(run(args.cases, args.seed)))


if __name__ == "__main__":
    main()
