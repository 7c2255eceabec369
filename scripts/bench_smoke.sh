#!/usr/bin/env bash
# Every benchmark under benchmarks/ run once at its smallest settings, writing no doc: a benchmark the code moved on
# from fails here (two had stopped running for weeks, bench_multilead.py and bench_runtime.py, their docs stale).
# A run cut off by its time limit ran that long without failing, which is what this checks. Exit status 1 where any
# failed; each one's output is left in $OUT (default: a temporary folder, named at the end).
# Usage: scripts/bench_smoke.sh [PYTHON] [DATA_DIR]   (make bench-smoke: after the benchmark tools are installed)
set -u
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
DATA=${2:-../shared/data}
LIMIT=${BENCH_SMOKE_SECONDS:-120}
OUT=${OUT:-$(mktemp -d /tmp/bench_smoke.XXXXXX)}
WORK=$(mktemp -d /tmp/bench_smoke_work.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
failed=()

run() {  # run NAME ARGS...: benchmarks/NAME.py ARGS under the time limit
  local name=$1 start rc
  shift
  start=$SECONDS
  timeout "$LIMIT" "$PY" "benchmarks/$name.py" "$@" >"$OUT/$name.log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    echo "ok       $name ($((SECONDS - start)) s)"
  elif [ $rc -eq 124 ]; then
    echo "ran $LIMIT s $name (cut off, no failure)"
  else
    echo "FAILED   $name (exit $rc): $(tail -1 "$OUT/$name.log")"
    failed+=("$name")
  fi
}

run ab_band_prediction --data-dir "$DATA" --rounds 1
run ab_setting sancodec.codec.lossy.QUICK_DEPENDENT 65536 0 --data-dir "$DATA" --repeats 1
run beat_locked --data-dir "$DATA"
run bench_batch --copies 2 --workdir "$WORK/batch"
run bench_codec --data-dir "$DATA" --repeats 1
run bench_core --skip-sweep --repeats 1
run bench_csv_read --rows 20000 --channels 2 --repeats 1
run bench_decode_kernels --data-dir "$DATA" --repeats 1
run bench_decode_threads --data-dir "$DATA" --repeats 1
run bench_default_model --data-dir "$DATA"
run bench_edf_memory --hours 0.05 --channels 4 --workdir "$WORK/edf"
run bench_encode_kernels --data-dir "$DATA" --repeats 1
run bench_encode_threads --data-dir "$DATA" --repeats 1
run bench_error_halves --data-dir "$DATA" --repeats 1
run bench_short_lead_steps --data-dir "$DATA" --repeats 1
run bench_float32 --rows 20000 --repeats 1
run bench_float64 --rows 20000 --repeats 1
run bench_lossy --data-dir "$DATA" --repeats 1
run bench_lossy_stream --data-dir "$DATA" --repeats 1
run bench_lossy_variants --data-dir "$DATA"
run bench_memory --hours 0.05 --workdir "$WORK/memory"
run bench_multilead --data-dir "$DATA" --repeats 1
run bench_predictors --data-dir "$DATA"
run bench_rate_control --data-dir "$DATA" --repeats 1
run bench_refwavelet --data-dir "$DATA"
run bench_row_reads --rows 200 --repeats 1
run bench_runtime --repeats 1
run bench_salvage --repeats 1 --random-mib 4
run bench_san_predictor --data-dir "$DATA" --epochs 1
run cli_startup --repeats 1
run bench_short_records --data-dir "$DATA" --repeats 1
run budget_prdn --data-dir "$DATA"
run core_scaling --calls 2 --repeats 1
run dependent_in_context --data-dir "$DATA"
run dependent_quantisation
run dependent_wins --data-dir "$DATA"
run effort_frontier --data-dir "$DATA" --repeats 1
run encode_lengths --data-dir "$DATA" --repeats 1
run lossy_block_size --channels 2 --copies 1
run lossy_sizes --data-dir "$DATA" --out "$WORK/sizes.json"
run lossy_stages --data-dir "$DATA" --repeats 1
run lossy_timeline --data-dir "$DATA" --repeats 1 --summary
run lossy_work --data-dir "$DATA"
run neargrid_coverage --cases 20
run noise_bound --data-dir "$DATA"
run railed_lead
run step_search_counts --data-dir "$DATA"
run wavelet_levels --data-dir "$DATA"
run zarr_partial_writes
# not run: ab_revision.py (builds another commit's tree), ab_wavelet.py (needs a built library of another commit),
# lossy_instructions.py (valgrind)

echo "logs in $OUT"
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}"
  exit 1
fi
