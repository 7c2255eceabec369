"""Encode every WFDB record under a folder with the compiled kernels and with the numpy references
and compare the files' SHA-256 (lossless, near-lossless E = 2 and lossy at PRDN 2 %): they must be identical.

Run: .venv/bin/python scripts/compare_kernels.py [--data-dir ../shared/data] [--max-values 3000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

WORKER = """
import hashlib, json, sys
import sancodec
from sancodec import SancodecError, read_signal
out = {}
for path in sys.argv[2:]:
    try:
        sig = read_signal(path)
    except SancodecError:
        continue
    limit = int(sys.argv[1])
    if sig.samples.size > limit:
        sig = sig.slice(0, limit // sig.n_channels - (limit // sig.n_channels) % sig.frame_size)
    for name, options in (("lossless", {}), ("near-lossless", {"max_error": 2}), ("lossy", {"prdn": 2.0})):
        data = sancodec.encode(sig, mode=name, **options)
        out[f"{path} {name}"] = hashlib.sha256(data).hexdigest()
print(json.dumps(out))
"""


def hashes(paths: list[str], kernels: str, limit: int) -> dict[str, str]:
    env = {**os.environ, "SANCODEC_KERNELS": kernels}
    done = subprocess.run([sys.executable, "-c", WORKER, str(limit), *paths], capture_output=True, text=True,
                          env=env, check=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--max-values", type=int, default=3_000_000, help="samples x channels per record")
    args = parser.parse_args()
    paths = sorted({str(p.with_suffix("")) for p in args.data_dir.rglob("*.hea")})
    compiled, numpy = hashes(paths, "", args.max_values), hashes(paths, "numpy", args.max_values)
    differ = sorted(k for k in compiled if compiled[k] != numpy.get(k))
    print(f"{len(compiled)} files compared, {len(differ)} differ")
    for key in differ:
        print("  differs:", key)
    sys.exit(1 if differ or compiled.keys() != numpy.keys() else 0)


if __name__ == "__main__":
    main()
