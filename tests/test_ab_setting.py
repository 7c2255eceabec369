"""benchmarks/ab_setting.py weighs one of the encoder's settings two ways by turns in one process: the encodes under
each are the encoder's own (a setting that changes the bytes shows it), and the setting is put back."""

import sys
from pathlib import Path

import pytest

import sancodec
from sancodec import Signal, read_signal
from sancodec.codec import templatesearch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import ab_setting  # noqa: E402


def test_a_setting_is_weighed_two_ways_and_put_back():
    sig = read_signal(Path(sancodec.__file__).parent / "data" / "samples" / "100")
    excerpt = Signal(sig.samples[:20_000, :1], sig.fs, sig.channel_names[:1], sig.units[:1])
    module, name = ab_setting.setting("sancodec.codec.templatesearch.PAIRED_CANDIDATES")
    assert module is templatesearch and name == "PAIRED_CANDIDATES"
    kept = templatesearch.PAIRED_CANDIDATES
    seconds, sizes = ab_setting.side_by_side(excerpt, module, name, (1 << 20, 1 << 10), "balanced", 2.0, 1, 2)
    assert all(s > 0 for s in seconds) and templatesearch.PAIRED_CANDIDATES == kept
    plain = len(sancodec.encode(excerpt, mode="lossy", prdn=2.0, effort="balanced"))
    assert sizes == [plain, plain]  # where the candidates are weighed changes no byte
    # a setting that changes what is coded shows in the bytes: no beat template ever kept (it must code the head
    # in under 0 times the plain coding's bits)
    module, name = ab_setting.setting("sancodec.codec.templatesearch.QUICK_GAIN")
    _, sizes = ab_setting.side_by_side(excerpt, module, name, (templatesearch.QUICK_GAIN, 0.0), "balanced", 2.0, 1, 1)
    assert sizes[0] == plain != sizes[1]
    with pytest.raises(SystemExit, match="no setting"):
        ab_setting.setting("sancodec.codec.templatesearch.NO_SUCH_SETTING")
    with pytest.raises(SystemExit, match="no module"):
        ab_setting.setting("sancodec.no_such_module.X")
