# sancodec developer entry points. `make test` works on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= ../shared/data

.PHONY: demo test lint typecheck bench bench-smoke clean model asan clones

$(STAMP): pyproject.toml setup.py $(wildcard sancodec/codec/_kernels/*)
	@$(PYTHON) -c 'import sys; sys.exit(None if sys.version_info >= (3, 11) else "make: the dev tools (zarr 3) need Python >= 3.11, and $(PYTHON) is " + sys.version.split()[0] + ": name another, make demo PYTHON=python3.11 (the library alone installs on 3.10: pip install -e .[cpu])")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first, pinned: on these machines 2.13.0 is a CPU build on local disk,
	# while a bare `torch` requirement would pull a multi-GB CUDA build.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[cpu,train,dev]'
	touch $(STAMP)

# Encode the bundled sample record (mitdb 100) with the bundled model, decode it, report.
SAMPLE := sancodec/data/samples/100
demo: $(STAMP)
	@mkdir -p out
	$(BIN)/sancodec encode $(SAMPLE) -o out/100.san --force
	$(BIN)/sancodec info out/100.san
	$(BIN)/sancodec decode out/100.san -o out/100_decoded --force
	$(BIN)/sancodec report $(SAMPLE) out/100.san --plot out/100_lossless.png --force
	$(BIN)/sancodec encode $(SAMPLE) -o out/100_lossy.san --mode lossy --prdn 2 --force
	$(BIN)/sancodec report $(SAMPLE) out/100_lossy.san --plot out/100_lossy.png --force

# One pytest worker per core (pytest-xdist): on 2 cores about two thirds of a serial run's wall time. At most 8:
# each worker holds torch, wfdb-python and the codec (a few hundred MB) before its first test, and more as it runs.
test: $(STAMP)
	$(BIN)/pytest -q -n auto --maxprocesses 8

# The C kernels' AVX2 and baseline clones, each built alone, under the tests that compare them with numpy
# (scripts/clones.sh): a CPU with AVX-512 runs that clone everywhere else.
clones: $(STAMP)
	scripts/clones.sh

# The C kernels built with AddressSanitizer and UBSan, under their tests and 3000 hostile files (scripts/asan.sh).
asan: $(STAMP)
	scripts/asan.sh

lint: $(STAMP)
	$(BIN)/ruff check sancodec cli export tests benchmarks scripts

# mypy over the library, its CLI and its ONNX export (laid out as installed: scripts/typecheck.sh; its settings in
# pyproject.toml), installed here on demand as `make bench` installs its tools: not a dependency, so that a fresh
# clone's `make test` needs nothing more.
typecheck: $(STAMP)
	$(BIN)/python -m pip install -q mypy
	scripts/typecheck.sh $(BIN)/mypy

# Every benchmark run once at its smallest settings, writing no doc (scripts/bench_smoke.sh): one the code moved on
# from fails here. About 8 min on 2 cores (any one cut off at 2 min).
bench-smoke: $(STAMP)
	$(BIN)/python -m pip install -q soundfile zstandard pywavelets pcodec
	scripts/bench_smoke.sh $(BIN)/python $(DATA)

# Benchmark-only tools (FLAC via libsndfile, zstd, PyWavelets) are installed here, not as runtime dependencies.
bench: $(STAMP)
	$(BIN)/python -m pip install -q soundfile zstandard pywavelets pcodec
	$(BIN)/python benchmarks/bench_core.py
	$(BIN)/python benchmarks/bench_runtime.py --repeats 9 --markdown docs/RUNTIME.md
	$(BIN)/python benchmarks/bench_codec.py --data-dir $(DATA) --markdown docs/BENCHMARKS.md
	$(BIN)/python benchmarks/bench_decode_threads.py --data-dir $(DATA) > docs/DECODE_THREADS.md
	$(BIN)/python benchmarks/bench_decode_kernels.py --data-dir $(DATA) > docs/DECODE_KERNELS.md
	$(BIN)/python benchmarks/bench_encode_kernels.py --data-dir $(DATA) > docs/ENCODE_KERNELS.md
	$(BIN)/python benchmarks/bench_predictors.py --data-dir $(DATA) --markdown docs/PREDICTORS.md
	$(BIN)/python benchmarks/bench_lossy.py --data-dir $(DATA) --markdown docs/LOSSY.md
	$(BIN)/python benchmarks/encode_lengths.py --data-dir $(DATA) --markdown docs/ENCODE_LENGTHS.md
	$(BIN)/python benchmarks/effort_frontier.py --data-dir $(DATA) --markdown docs/EFFORT_FRONTIER.md
	$(BIN)/python benchmarks/bench_error_halves.py --data-dir $(DATA) --markdown docs/ERROR_HALVES.md
	$(BIN)/python benchmarks/bench_multilead.py --data-dir $(DATA) --markdown docs/LOSSY_MULTILEAD.md
	$(BIN)/python benchmarks/beat_locked.py --data-dir $(DATA) --markdown docs/BEAT_LOCKED.md
	$(BIN)/python benchmarks/noise_bound.py --data-dir $(DATA) --markdown docs/NOISE_BOUND.md
	$(BIN)/python benchmarks/bench_lossy_variants.py --data-dir $(DATA) --markdown docs/LOSSY_VARIANTS.md
	$(BIN)/python benchmarks/dependent_in_context.py --data-dir $(DATA) --markdown docs/DEPENDENT_QUANTISATION.md
	$(BIN)/python benchmarks/bench_refwavelet.py --data-dir $(DATA) --markdown docs/REFWAVELET.md

clean:
	rm -rf $(VENV) build *.egg-info

# Retrain the bundled default model (needs the PhysioNet records in DATA).
model: $(STAMP)
	$(BIN)/python scripts/train_default_model.py --data-dir $(DATA)
