"""Shared test checkers (in the style of numcodecs' ``tests/common.py``): one place that rebuilds
containers with valid CRCs, round-trips a signal under a mode, and checks committed encodings."""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sancodec
from sancodec import SanSpec, Signal
from sancodec.codec.container import SanReader, write_container
from sancodec.codec.entropy import ByteReader, ByteWriter
from sancodec.metrics import prdn


def rewrap(data: bytes, header: dict[str, Any] | None = None, frames: Sequence[bytes] | None = None,
           one_frame: bool | None = None) -> bytes:
    """``data``'s container rebuilt with valid CRCs, its header and/or frame payloads replaced:
    what a hostile file looks like once the checksums no longer stop it (``one_frame``: the layout,
    by default ``data``'s own where it holds one frame and one is given)."""
    reader = SanReader(data)
    payloads = list(frames) if frames is not None else [reader.read_frame(i) for i in range(reader.n_frames)]
    out = io.BytesIO()
    if one_frame is None:
        one_frame = reader.one_frame and len(payloads) == 1
    write_container(out, reader.header if header is None else header, payloads, minor=reader.version[1],
                    one_frame=one_frame)
    return out.getvalue()


def refused_whole_and_opened(bad: bytes, folder: Path) -> None:
    """Assert that ``bad`` (a hostile file) is one SanFormatError to ``sancodec.decode`` and to ``sancodec.open``'s
    read, the latter from a file in ``folder``."""
    (folder / "bad.san").write_bytes(bad)
    with pytest.raises(sancodec.SanFormatError):
        sancodec.decode(bad)
    with pytest.raises(sancodec.SanFormatError):
        with sancodec.open(folder / "bad.san") as f:
            f.read()


def wavelet_head(delta: float, levels: int, predictor: int, offset: int = 0, rho16: int = 8) -> ByteWriter:
    """A writer holding a wavelet channel-frame's path id (3) and head (format 1.2, section 5: offset, step,
    levels, reconstruction point, predictor bits), for a test to write the rest of a hand-made frame after."""
    w = ByteWriter()
    w.varint(3)
    w.svarint(offset)
    w.raw(np.float32(delta).tobytes())
    w.varint(levels)
    w.varint(rho16)
    w.varint(predictor)
    return w


def frame_of(parts: Sequence[bytes]) -> bytes:
    """A frame payload holding the given channel-frame parts (each prefixed by its length)."""
    w = ByteWriter()
    for part in parts:
        w.varint(len(part))
        w.raw(part)
    return w.getvalue()


def check_encode_decode(signal: Signal, model: Any = None, **options: Any) -> bytes:
    """Encode ``signal``, decode it, and check what the mode promises: the same metadata and shape,
    exact samples (lossless), every sample within ±max_error (near-lossless), identical bytes when
    encoded twice. Returns the encoding."""
    data = sancodec.encode(signal, model, **options)
    assert sancodec.encode(signal, model, **options) == data, "encoding is not deterministic"
    back = sancodec.decode(data)
    assert back.samples.shape == signal.samples.shape
    assert back.header_dict() == signal.header_dict()
    mode = options.get("mode", "lossless")
    if mode == "lossless":
        np.testing.assert_array_equal(back.samples, signal.samples)
    elif mode == "near-lossless":
        bound = options["max_error"] * (1 + 1e-9)
        assert np.abs(back.samples.astype(np.float64) - signal.samples.astype(np.float64)).max() <= bound
    elif mode == "lossy" and "prdn" in options:
        for ch, step in enumerate(signal.sample_steps()):
            got = prdn(signal.samples[::step, ch], back.samples[::step, ch])
            assert got <= options["prdn"], f"channel {ch}: PRDN {got} over the target {options['prdn']}"
    return data


def check_backwards_compatibility(folder: Path, check: Callable[[str, Signal], None]) -> list[str]:
    """Every committed ``.san`` in ``folder`` matches its ``.sha256`` and decodes; ``check(name, signal)``
    then judges the samples. Returns the names checked (so a test can require some)."""
    names = []
    for path in sorted(folder.glob("*.san")):
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == path.with_name(path.name + ".sha256").read_text().strip()
        check(path.name, sancodec.decode(data))
        names.append(path.name)
    return names


def with_header_bytes(data: bytes, head: bytes, flags: int) -> bytes:
    """``data`` with its header replaced by ``head`` and a valid preamble CRC (frames re-addressed)."""
    import struct
    import zlib

    from sancodec.codec import container

    rebuilt = rewrap(data, one_frame=False)
    _, _, _, _, old_len, _ = container.PREAMBLE.unpack(rebuilt[:16])
    body = rebuilt[16 + old_len :]
    shift = len(head) - old_len
    # Frames move by `shift`: rewrite the index offsets and its CRC.
    index_offset, count, _, end = container.TRAILER.unpack(body[-20:])
    index = bytearray(body[index_offset - 16 - old_len : -20])
    for i in range(count):
        off, length = container.INDEX_ENTRY.unpack_from(index, 12 * i)
        container.INDEX_ENTRY.pack_into(index, 12 * i, off + shift, length)
    tail = struct.pack("<QI", index_offset + shift, count)
    trailer = container.TRAILER.pack(index_offset + shift, count, zlib.crc32(bytes(index) + tail), end)
    fields = container.PREAMBLE.pack(container.MAGIC, 1, 1, flags, len(head), 0)[:-4]
    pre = fields + struct.pack("<I", zlib.crc32(fields + head))
    return pre + head + body[: index_offset - 16 - old_len] + bytes(index) + trailer


def expected_minor(data: bytes, content: int) -> int:
    """The format minor version a file should carry when what it codes needs ``content``: 13 where a wavelet
    frame's adaptive stream has parent contexts (1.13), 12 where a wavelet
    frame is dependently quantised or its template's taps are second differences (1.12), 11 where a band is
    predicted (1.11), 9 where its bands are adaptive (1.9), 7 where it holds one frame (the one-frame layout of
    1.7), else ``content``."""
    predictors = wavelet_predictors(data)
    if any(bits & 16 for bits in predictors):
        content = max(content, 9)
    if any(bits & 64 for bits in predictors):
        content = max(content, 11)
    if any(bits & (128 | 256) for bits in predictors):
        content = max(content, 12)
    if any(bits & 512 for bits in predictors):
        content = max(content, 13)
    return max(content, 7) if SanReader(data).one_frame else content


def lossless_18(decoded) -> bool:
    """Whether a decoded file's lossless codings use what format 1.8 added: LPC without restarts, the long
    adaptive stages, running contexts' MSB mode."""
    return any(decoded.codings.get(k) for k in ("lpc_whole", "cascade", "msb"))


def wavelet_fields(data: bytes) -> list[tuple[int, int, int]]:
    """(levels, reconstruction point rho16, predictor bits) of every wavelet channel-frame (path 3) of a
    file (format 1.2 on)."""
    reader = SanReader(data)
    fields = []
    for i in range(reader.n_frames):
        frame = ByteReader(reader.read_frame(i))
        while frame.remaining():
            part = ByteReader(frame.raw(frame.varint()))
            if part.varint() == 3:
                part.svarint()
                part.raw(4)
                levels, rho16 = part.varint(), part.varint()
                fields.append((levels, rho16, part.varint()))
    return fields


def wavelet_heads(data: bytes) -> list[tuple[int, int]]:
    """(levels, predictor bits) of every wavelet channel-frame (path 3) of a file (format 1.2 on)."""
    return [(levels, bits) for levels, _, bits in wavelet_fields(data)]


def wavelet_predictors(data: bytes) -> list[int]:
    """The predictor bits of every wavelet channel-frame of a file."""
    return [bits for _, bits in wavelet_heads(data)]


def spy_steps(monkeypatch, cls: type, name: str) -> list[float]:
    """The step of each call of the method ``cls.name(self, step, ...)`` from now on, in order (the method still
    runs; the spy's ``__name__`` is ``spy``)."""
    steps: list[float] = []
    real = getattr(cls, name)

    def spy(self, step, *more):
        steps.append(step)
        return real(self, step, *more)

    monkeypatch.setattr(cls, name, spy)
    return steps


def numpy_only(monkeypatch) -> None:
    """Run the rest of a test on the numpy reference kernels (what an install without a C compiler runs)."""
    from sancodec.codec import kernels

    monkeypatch.setattr(kernels, "_LIB", None)
    monkeypatch.setattr(kernels, "COMPILED", False)


def _compiled() -> bool:
    from sancodec.codec import kernels

    return kernels.COMPILED


#: Marks a test that compares the compiled kernels with their numpy references.
needs_c = pytest.mark.skipif(not _compiled(), reason="SANCODEC_KERNELS=numpy: nothing compiled to compare")


def mitdb_lead(n: int) -> Signal:
    """The bundled mitdb record 100's first lead, its first ``n`` samples: a one-channel ECG excerpt."""
    sig = sancodec.read_signal(Path(sancodec.__file__).parent / "data" / "samples" / "100")
    return Signal(sig.samples[:n, :1], sig.fs, sig.channel_names[:1], sig.units[:1])


def lattice_record(n: int = 1 << 18) -> Signal:
    """Two tones whose loudness changes every n/8 samples, on a lattice of values 22 apart (as MIMIC's 8-bit
    ECG is on a wider scale): exact coding is cheap, and costs the wavelets dear near the lattice's noise; at
    PRDN 3 % a lossy file codes some of its frames exactly beside wavelet ones."""
    rng = np.random.default_rng(1)
    t = np.arange(n)
    loudness = np.repeat(rng.uniform(0.2, 1.5, 8), n // 8)
    s = (300 * np.sin(2 * np.pi * t / 250) + 120 * np.sin(2 * np.pi * t / 37 + 1)) * loudness
    s += 0.2 * np.cumsum(rng.normal(0, 2, n))
    return Signal((np.rint(s / 22) * 22).astype(np.int64)[:, None], 250.0, ["x"], ["NU"])


def without_band_prediction(monkeypatch) -> None:
    """No wavelet band coded as its linear prediction's residual (format 1.11, ``codec.bandlpc``): the tests of
    mixing exact frames into a wavelet coding use :func:`lattice_record`, whose two tones band prediction codes so
    cheaply that no frame is worth coding exactly once it is on."""
    from sancodec.codec import bandlpc

    monkeypatch.setattr(bandlpc, "MIN_LENGTH", 1 << 62)


def fuzz_worker(script: str, cases: int, seed: int | str) -> dict:
    """Run the fuzzer ``script`` of this folder (``fuzz_structure.py``, ``fuzz_headers.py``) for ``cases`` cases
    from ``seed`` in a process of its own (it limits its own memory), one BLAS thread; its JSON summary."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, str(Path(__file__).parent / script), "--cases", str(cases),
                          "--seed", str(seed)], capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def numpy_spec(sizes: Sequence[int], activations: str | Sequence[str] = "peaks", dim: int = 1, seed: int = 0,
               normalization: dict[str, Any] | None = None) -> SanSpec:
    """A SAN spec as an untrained ``SAN(sizes, activations, dim=dim)`` makes one (kernels drawn from N(0, 0.1)),
    drawn by numpy: for the tests that need a model but no torch (a device without it runs them)."""
    rng = np.random.default_rng(seed)
    acts = [activations] * len(sizes) if isinstance(activations, str) else list(activations)
    kernels = tuple(rng.normal(0.0, 0.1, size=(m,) * dim).astype(np.float32) for m in sizes)
    return SanSpec(kernels, tuple(acts), dim=dim, normalization=normalization or {"kind": "none"})


def encoded_as_golden(path: Path, data: bytes) -> bytes:
    """The golden file at ``path`` (its ``.sha256`` beside it checked), which the encoder's ``data`` must be byte for
    byte; ``SANCODEC_REGENERATE_GOLDEN=1`` writes ``data`` there first (a deliberate format change)."""
    import os

    digest = path.with_name(path.name + ".sha256")
    if os.environ.get("SANCODEC_REGENERATE_GOLDEN") == "1":
        path.write_bytes(data)
        digest.write_text(hashlib.sha256(data).hexdigest() + "\n")
    golden = path.read_bytes()
    assert hashlib.sha256(golden).hexdigest() == digest.read_text().strip()
    assert data == golden, "the encoder's output changed: the format or the coder drifted"
    return golden


def cuts_read_or_refused(path: Path, data: bytes, every: int, read: Callable[[], Any]) -> None:
    """``path`` written with each cut of ``data`` (every ``every`` bytes) in turn, and ``read()`` of it: it reads,
    or refuses in a SancodecError; anything else it raises fails the test. ``data`` is written back after."""
    for n in range(0, len(data), every):
        path.write_bytes(data[:n])
        try:
            read()
        except sancodec.SancodecError:
            pass
    path.write_bytes(data)


def mutated(data: bytes, rng: Any, within: int | None = None) -> bytes:
    """``data`` with one to six bytes changed, dropped or added (``rng``: a ``random.Random``), in its first
    ``within`` bytes where given: what a damaged copy of a file looks like to its reader."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        if not b:
            break
        at = rng.randrange(min(len(b), within) if within else len(b))
        kind = rng.random()
        if kind < 0.7:
            b[at] = rng.randrange(256)
        elif kind < 0.85:
            del b[at]
        else:
            b[at:at] = bytes([rng.randrange(256)])
    return bytes(b)


def traced_peak(work: Callable[[], object]) -> int:
    """The most memory Python and numpy held at once while ``work`` ran (bytes, ``tracemalloc``: what a test of
    bounded memory weighs)."""
    import tracemalloc

    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def decode_in_memory(monkeypatch: pytest.MonkeyPatch, args: Sequence[str]) -> Any:
    """``sancodec decode`` of ``args`` with the file-mapped path turned off (``decoded_on_disk`` answering None, as it
    does for a file it does not take: the decode then made in memory): the bytes a mapped decode must write too.
    The CLI's result (exit code checked to be 0)."""
    from typer.testing import CliRunner

    from sancodec.cli import app, codec_commands

    with monkeypatch.context() as patched:
        patched.setattr(codec_commands, "decoded_on_disk", lambda *a: None)
        result = CliRunner().invoke(app, ["decode", *args])
    assert result.exit_code == 0, result.output
    return result


def decode_mapped(monkeypatch: pytest.MonkeyPatch, args: Sequence[str]) -> Any:
    """``sancodec decode`` of ``args`` with the in-memory decoder forbidden (``codec.decode_file`` fails the test): a
    decode that must go through the file-mapped array. The CLI's result (exit code checked to be 0)."""
    from typer.testing import CliRunner

    from sancodec import codec
    from sancodec.cli import app

    with monkeypatch.context() as patched:
        patched.setattr(codec, "decode_file", lambda *a, **kw: pytest.fail("decoded in memory"))
        result = CliRunner().invoke(app, ["decode", *args])
    assert result.exit_code == 0, result.output
    return result


CSV_TOKENS = ["0", "-1", "1e308", "nan", "inf", "0.1", "1.23456789012", "-0.0", "1e-320", "5e-324", "x", "", " ",
              "time", "Time [s]", "1,5", "1;2", '"a"', "0.000", "9007199254740993", "1e15", "-", "+1.5", ".5", "5.",
              "'0:00.004'", "'1:02:03.5'", "'hh:mm:ss.mmm'", "'mV'", "\ufeff1", '"0.5"', '"1,5"', '"', "#", "# 1,2"]


def _decimal(rng: random.Random) -> str:
    """A number as a CSV holds one: up to 4 decimals."""
    return str(rng.randint(-999, 999) / 10 ** rng.randint(0, 4))


def random_csv_text(rng: random.Random, most_rows: int = 6) -> bytes:
    """A random CSV text (commas, semicolons with decimal commas, tabs; header and units rows; clock times;
    hostile numbers; '#' preambles, quoted values, rows closed by a delimiter, columns aligned by spaces; a
    byte-order mark, CRLF line ends, no line end after the last row), as a file holds it: 1 to ``most_rows`` rows."""
    columns, delimiter = rng.randint(1, 4), rng.choice([",", ";", "\t"])
    comma = delimiter != "," and rng.random() < 0.7
    lines = [f"# note {k}" for k in range(rng.choice([0, 0, 0, 1, 2]))]  # a recorder's preamble
    closed, quoted = rng.random() < 0.1, rng.random() < 0.1  # rows closed by a delimiter; every value quoted
    if rng.random() < 0.6:
        lines.append(delimiter.join(rng.choice(["time", "a", "Zeit", "'Elapsed time'", "t", '"a;b"', "x"])
                                    for _ in range(columns)))
    width = rng.choice([0, 0, 0, 0, 8, 12]) if delimiter != "," or comma else 0  # columns aligned by runs of
    if width:  # spaces (a fixed-width export's), the header too, where there are no commas to read
        lines = [*lines[: len(lines) - (len(lines) > 0 and not lines[-1].startswith("#"))],
                 *(["".join(name.rjust(width) for name in lines[-1].split(delimiter))]
                   if lines and not lines[-1].startswith("#") else [])]
    for _ in range(rng.randint(1, most_rows)):
        cells = [rng.choice(CSV_TOKENS) if rng.random() < 0.08 else _decimal(rng) for _ in range(columns)]
        cells = [c.replace(".", ",") if comma and not width else c for c in cells]
        if width:
            lines.append("".join(c.rjust(width) if rng.random() < 0.9 else " " + c for c in cells))
            continue
        lines.append(delimiter.join(f'"{c}"' if quoted else c for c in cells) + (delimiter if closed else ""))
    text = ("\ufeff" if rng.random() < 0.1 else "") + "\n".join(lines) + ("" if rng.random() < 0.1 else "\n")
    return text.replace("\n", "\r\n" if rng.random() < 0.2 else "\n").encode()


def written_sans(folder: Path, made: dict[str, bytes]) -> dict[str, Path]:
    """Each of ``made``'s files written as ``folder/<name>.san``: their paths by name."""
    paths = {}
    for name, data in made.items():
        paths[name] = folder / f"{name}.san"
        paths[name].write_bytes(data)
    return paths
