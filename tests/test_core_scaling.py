"""benchmarks/core_scaling.py times compiled calls on one thread and on two at once, each thread on arrays of its own
(a shared buffer would time two threads fighting over its cache lines, not the machine)."""

import sys
from pathlib import Path

from common import needs_c

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import core_scaling  # noqa: E402


@needs_c
def test_each_workload_is_timed_on_one_thread_and_two_with_buffers_of_their_own():
    made = []
    for name, make in core_scaling.WORKLOADS.items():
        def counted(make=make):
            fn = make()
            made.append(fn)
            return fn
        one, two, gain = core_scaling.speed_up(counted, calls=1, repeats=1)
        assert one > 0 and two > 0 and gain == 2 * one / two, name
    assert len(made) == 3 * len(core_scaling.WORKLOADS)  # one for this thread, one for each of the two
    assert len({id(fn) for fn in made}) == len(made)


def test_the_short_bands_have_the_shape_of_a_38400_value_frame():
    bands = core_scaling.short_bands()
    assert [len(b) for b in bands] == [300, 300, 600, 1200, 2400, 4800, 9600, 19200]
    assert all(b.dtype.kind == "i" for b in bands)
