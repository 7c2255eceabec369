"""The compiled kernels' build: what it keeps of Python's compiler flags where the environment's CFLAGS replace them,
and how a user learns which kernels run (``sancodec version --build``)."""

from __future__ import annotations

import json
import os
import runpy
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import numpy as np
import pytest

from sancodec.codec import kernels, waveletframe

ROOT = Path(__file__).resolve().parent.parent

FAKE_COMPILER = textwrap.dedent("""\
    import json, sys
    args = sys.argv[1:]
    with open(sys.argv[0] + ".log", "a") as log:
        log.write(json.dumps(args) + "\\n")
    out = args[args.index("-o") + 1]
    open(out, "wb").close()
""")


def _compile_lines(tmp_path: Path, cflags: str | None) -> list[list[str]]:
    """The compiler's arguments for each C source when ``setup.py build_ext`` runs with ``cflags`` as CFLAGS (None:
    none set), a stand-in compiler recording them (and making empty objects) in place of gcc."""
    fake = tmp_path / "cc.py"
    fake.write_text(FAKE_COMPILER)
    env = {k: v for k, v in os.environ.items() if k not in ("CFLAGS", "CPPFLAGS", "LDFLAGS")}
    env.update(CC=f"{sys.executable} {fake}", LDSHARED=f"{sys.executable} {fake} -shared")
    if cflags is not None:
        env["CFLAGS"] = cflags
    subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--force", "--build-temp", str(tmp_path / "temp"),
                    "--build-lib", str(tmp_path / "lib")], cwd=ROOT, env=env, check=True, capture_output=True,
                   timeout=120)
    calls = [json.loads(line) for line in (tmp_path / "cc.py.log").read_text().splitlines()]
    return [args for args in calls if "-c" in args]


@pytest.mark.skipif(sys.platform == "win32", reason="the flags are gcc's and clang's")
def test_cflags_in_the_environment_keep_the_kernels_optimised_wrapping_and_unfused(tmp_path):
    # setuptools takes CFLAGS in place of Python's own flags: CFLAGS="-march=native" alone once built the kernels
    # with no optimisation (5 to 16 times slower) and without -fwrapv
    lines = _compile_lines(tmp_path, "-march=x86-64")
    sources = {a for args in lines for a in args if a.endswith(".c")}
    assert {Path(s).name for s in sources} >= {"wavelet.c", "beats.c", "running.c", "dependent.c"}
    for args in lines:
        assert "-march=x86-64" in args
        assert {"-O3", "-fwrapv", "-ffp-contract=off", "-fno-trapping-math"} <= set(args), args


@pytest.mark.skipif(sys.platform == "win32", reason="the flags are gcc's and clang's")
def test_an_optimisation_level_the_user_names_is_kept(tmp_path):
    lines = _compile_lines(tmp_path, "-O1 -g")
    assert lines  # (every source was compiled: the loop below checks something)
    for args in lines:
        assert "-O1" in args and "-O3" not in args and "-fwrapv" in args, args


def test_a_cell_past_int64_quantises_to_int64_min_on_every_path():
    # C and numpy leave the cast of such a value to the machine (a build for AVX-512 CPUs alone converted it
    # otherwise); the quantiser says what it is: INT64_MIN, nan included
    delta = 0.5
    band = np.array([2.0**62, 2.0**63, -(2.0**63), -(2.0**64), 2.0**70, np.nan, 3.0, -3.0])
    q = waveletframe.quantise([band], delta)[0]
    int64_min = np.iinfo(np.int64).min
    assert q.tolist() == [int64_min] * 6 + [6, -6]
    compiled = kernels.dead_zone_quantise(band, delta, waveletframe.ROUNDING)
    if compiled is not None:
        assert compiled.tolist() == q.tolist()


def test_version_build_says_which_kernels_run():
    run = [sys.executable, "-m", "sancodec", "version", "--build"]
    out = subprocess.run(run, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0
    lines = out.stdout.strip().splitlines()
    assert lines[0] == __import__("sancodec").__version__
    if kernels.COMPILED:
        assert lines[1].startswith("compiled kernels: ") and Path(lines[1].split(": ", 1)[1]).is_file()
    forced = subprocess.run(run, capture_output=True, text=True, timeout=60, cwd=ROOT,
                            env={**os.environ, "SANCODEC_KERNELS": "numpy"})
    assert "off (SANCODEC_KERNELS=numpy)" in forced.stdout
    missing = subprocess.run(run, capture_output=True, text=True, timeout=60, cwd=ROOT,
                             env={**os.environ, "SANCODEC_KERNELS_LIB": "/nonexistent/kernels.so"})
    assert "could not be loaded" in missing.stdout and missing.returncode == 0


def _avx512() -> bool:
    try:
        return " avx512f " in f" {Path('/proc/cpuinfo').read_text().replace(chr(10), ' ')} "
    except OSError:
        return False


@pytest.mark.skipif(sys.platform != "linux" or shutil.which("gcc") is None, reason="builds with gcc on Linux")
def test_a_build_for_avx512_cpus_alone_compiles_and_gives_the_same_values(tmp_path):
    # CFLAGS="-march=native" on an AVX-512 CPU: GCC 12 stopped with an internal compiler error on beats.c's
    # narrower clones (none are made now, kernels.h), and its conversion of a cell past int64 differed (wavelet.c's
    # dead_zone now says what it is); the kernels built so must still agree with numpy's reference
    setup = runpy.run_path(str(ROOT / "setup.py"), run_name="setup_flags")
    include = sysconfig.get_paths()["include"]
    lib = tmp_path / "kernels_v4.so"
    flags = ["-O3", "-march=x86-64-v4", *setup["kept_flags"]("-O3"), *setup["FLAGS"]]
    subprocess.run(["gcc", "-shared", "-fPIC", *flags, "-I", include, *[str(ROOT / s) for s in setup["SOURCES"]],
                    "-o", str(lib)], check=True, capture_output=True, timeout=300)
    if not _avx512():  # (built, which is what the compiler error stopped; run where the CPU can)
        return
    env = {**os.environ, "SANCODEC_KERNELS_LIB": str(lib)}
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_kernels.py",
                          "-k", "branchless or requantised or dead_zone or synthesis"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:]
    assert " passed" in out.stdout and " failed" not in out.stdout


def test_a_command_says_when_the_numpy_kernels_run_unasked(tmp_path):
    # an install whose C build was skipped runs every command far slower: each says why, on stderr, and still works
    import sancodec

    san = tmp_path / "x.san"
    san.write_bytes(sancodec.encode(np.arange(4000, dtype=np.int64) % 97, fs=250.0))
    run = [sys.executable, "-m", "sancodec", "info", str(san)]
    unbuilt = subprocess.run(run, capture_output=True, text=True, timeout=120, cwd=ROOT,
                             env={**os.environ, "SANCODEC_KERNELS_LIB": str(tmp_path / "missing.so")})
    assert unbuilt.returncode == 0 and "x.san" in unbuilt.stdout
    assert unbuilt.stderr.startswith("warning: compiled kernels: SANCODEC_KERNELS_LIB=") and \
        "numpy reference kernels run" in unbuilt.stderr
    asked = subprocess.run(run, capture_output=True, text=True, timeout=120, cwd=ROOT,
                           env={**os.environ, "SANCODEC_KERNELS": "numpy"})
    assert asked.returncode == 0 and "warning" not in asked.stderr
    if kernels.COMPILED:
        built = subprocess.run(run, capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert built.returncode == 0 and "warning" not in built.stderr


def test_the_codec_needs_no_constriction_with_or_without_the_c_kernels():
    # constriction has no wheel for Linux on ARM: sancodec neither depends on it nor imports it, the range coder
    # being C or, without the C kernels, Python (rangecoder._Encoder/_Decoder); the golden files decode so
    deps = __import__("tomllib").loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not [d for d in deps if d.lower().startswith("constriction")]
    script = textwrap.dedent("""\
        import sys
        sys.modules["constriction"] = None  # an import of it fails
        from pathlib import Path
        import numpy as np
        import sancodec
        golden = Path("tests/golden/v1.0/test01_00s_lossless.san").read_bytes()
        signal = sancodec.decode(golden)
        assert np.array_equal(sancodec.decode(sancodec.encode(signal)).samples, signal.samples)
        lossy = sancodec.encode(signal, mode="lossy", prdn=5)
        assert sancodec.decode(lossy).samples.shape == signal.samples.shape
        print("ok")
    """)
    for env in ({}, {"SANCODEC_KERNELS": "numpy"}):
        out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, **env},
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0 and out.stdout.strip() == "ok", (env, out.stderr[-2000:])
