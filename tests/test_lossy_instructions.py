"""benchmarks/lossy_instructions.py reads callgrind's count and its annotated self costs (valgrind itself is not
needed here: its output's lines are given)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import lossy_instructions  # noqa: E402

ANNOTATED = """\
--------------------------------------------------------------------------------
7,261,715,209 (100.0%)  PROGRAM TOTALS
--------------------------------------------------------------------------------
Ir                    file:function
--------------------------------------------------------------------------------
341,881,164 ( 4.71%)  Python-3.11.7/Python/ceval.c:_PyEval_EvalFrameDefault'2 [/lib/libpython3.11.so.1.0]
214,234,674 ( 2.95%)  sancodec/codec/_kernels/running.c:san_running_counts.arch_x86_64_v3 [/x/_kernels.cpython-311.so]
150,202,776 ( 2.07%)  ???:npy_tokenize [/x/numpy/_core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so]
 94,600,496 ( 1.30%)  sancodec/codec/_kernels/adaptivebands.c:0x0000000000006250
 81,000,000 ( 1.10%)  ./string/memset.S:__memset_avx2_unaligned_erms [/usr/lib/x86_64-linux-gnu/libc.so.6]
      1,000 ( 0.00%)  ???:something [/usr/lib/libz.so.1]
"""


def test_the_count_and_the_self_costs_are_read_and_grouped():
    assert lossy_instructions.collected("==5719== Events    : Ir\n==5719== Collected : 7261715209\n") == 7261715209
    with pytest.raises(ValueError):
        lossy_instructions.collected("valgrind: no such tool")
    functions = lossy_instructions.by_function(ANNOTATED)
    assert len(functions) == 6 and sum(functions.values()) == 881_920_110  # the totals line left out
    groups = lossy_instructions.grouped(functions)
    assert groups == {"interpreter": 341_881_164, "compiled kernels (sancodec)": 214_234_674 + 94_600_496,
                      "numpy": 150_202_776, "libc": 81_000_000, "other": 1_000}


def test_the_baseline_is_taken_off_function_by_function():
    """A function of the sweep alone counts whole, one of the baseline alone (the loading's) counts against it."""
    sweep = {"a [/x/_kernels.so]": 900, "b [/lib/libpython3.11.so]": 500}
    base = {"b [/lib/libpython3.11.so]": 300, "c [/lib/libz.so]": 40}
    assert lossy_instructions.difference(sweep, base) == {"a [/x/_kernels.so]": 900, "b [/lib/libpython3.11.so]": 200,
                                                          "c [/lib/libz.so]": -40}
    assert lossy_instructions.grouped(lossy_instructions.difference(sweep, base)) == {
        "compiled kernels (sancodec)": 900, "interpreter": 200, "other": -40}
