"""Which WFDB records a lossless .san gives back file for file, byte for byte: each record under the data folders
encoded losslessly with its .hea text kept (``read_signal(..., keep_header_text=True)``, what ``sancodec encode
--keep-header-text`` does) and without, decoded, and written under its own name into a scratch folder; each file
written beside the source's.

Run: .venv/bin/python scripts/check_wfdb_files.py [--data-dir ../shared/data]

Per record: the .san's bytes without and with the text, then each written file, "same" or "differs", or "not the
source's name" (one the source holds under another name). A record whose signals sit in several files keeps
their names after its own (PTB's .xyz, mixedsignals' _e/_p/_r: ``io.wfdb._signal_file_names``), one in a MATLAB
file its .mat (a103l's); the formats wfdb-python reads but does not write (8, 61, 160, 310, 311) are written by
``io.wfdb_formats``; a skewed signal is written with its skew applied: its header then says otherwise, and
wfdb-python's own is written. FLAC formats (508-524) are written by wfdb-python's FLAC encoder:
the same samples and header, and other bytes where the encoder's choices differ.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from check_near_lossless import wfdb_records

import sancodec
from sancodec import read_signal, write_signal
from sancodec.errors import SancodecError


def main() -> None:
    records = wfdb_records(__doc__.splitlines()[0])
    print("| record | .san bytes | with its .hea text | files written |\n|---|---:|---:|---|")
    for record in records:
        try:
            kept = read_signal(record, keep_header_text=True)
        except SancodecError as exc:
            print(f"| {record} | – | – | not read: {exc} |")
            continue
        if getattr(kept, "source", None) and (kept.source or {}).get("kind") == "wfdb-multisegment":
            continue
        plain = read_signal(record)
        sizes = [len(sancodec.encode(plain)), len(data := sancodec.encode(kept))]
        with tempfile.TemporaryDirectory() as scratch:
            try:
                written = write_signal(sancodec.decode(data), Path(scratch) / record.name)
            except SancodecError as exc:
                print(f"| {record} | {sizes[0]} | {sizes[1]} | not written: {exc} |")
                continue
            files = []
            for path in sorted(written):
                source = record.with_name(path.name)
                said = "same" if source.exists() and source.read_bytes() == path.read_bytes() else \
                    "differs" if source.exists() else "not the source's name"
                files.append(f"{path.name} {said}")
        print(f"| {record} | {sizes[0]} | {sizes[1]} | {', '.join(files)} |")


if __name__ == "__main__":
    main()
