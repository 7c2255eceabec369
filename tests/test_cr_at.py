"""benchmarks/lossy_signals.cr_at, the CR every lossy table credits at a PRDN: log-log interpolation on the upper
envelope of a coder's (PRDN, CR) points."""

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from lossy_signals import cr_at  # noqa: E402


def test_interpolates_log_log_between_the_points_either_side():
    points = [(1.0, 4.0, ""), (4.0, 16.0, "")]
    assert math.isclose(cr_at(points, 2.0), 8.0)  # CR = 4 * PRDN: a straight line on log-log axes


def test_a_dominated_point_does_not_bend_the_envelope():
    points = [(1.0, 4.0, ""), (2.0, 3.0, ""), (4.0, 16.0, "")]  # (2, 3): a larger error for a smaller CR
    assert math.isclose(cr_at(points, 2.0), 8.0)


def test_two_points_at_one_prdn_credit_the_larger_cr():
    points = [(1.0, 4.0, ""), (2.0, 7.0, ""), (2.0, 8.0, ""), (4.0, 16.0, "")]
    assert math.isclose(cr_at(points, 2.0), 8.0)
    assert math.isclose(cr_at(points, 3.0), 12.0)  # on from (2, 8) to (4, 16), slope 1
    assert math.isclose(cr_at([(2.0, 7.0, ""), (2.0, 8.0, "")], 2.0), 8.0)


def test_outside_the_curve_no_figure():
    points = [(1.0, 4.0, ""), (4.0, 16.0, "")]
    assert cr_at(points, 0.5) is None
    assert cr_at(points, 5.0) is None
    assert cr_at([(0.0, 1.0, "")], 1.0) is None
