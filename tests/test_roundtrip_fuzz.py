"""File writer round-trip fuzzing in CI (tests/fuzz_roundtrip.py): odd but readable EDF/BDF files and WFDB records,
encoded and decoded back: no crash, none refused; every lossless EDF file whose edits edfio would lay out
alike comes back byte for byte, every WFDB record with the same header fields (and, lossless, the same signal
files), every EDF's decode to WFDB by decode's streamed writer as the whole-record writer makes it, and every
decode's physical values made a few rows at a time as making them whole makes them."""

from __future__ import annotations

import json
import os

from common import fuzz_worker


def test_odd_edf_and_wfdb_files_come_back_as_they_were():
    result = fuzz_worker("fuzz_roundtrip.py", 300, seed=os.environ.get("SANCODEC_FUZZ_SEED", "20261205"))
    assert result["crashes"] == 0, json.dumps(result["first_crashes"], indent=1)
    assert result.get("refused to read", 0) == 0  # every file is one its format allows (WFDB signal lines cut short)
    assert result.get("refused to write", 0) == 0  # (EDF control characters, a lossy decode past a declared range)
    assert result.get("edf lossless, other bytes", 0) == 0 and result["edf lossless, byte for byte"] > 50
    assert result.get("wfdb, fields or files differ", 0) == 0 and result["wfdb written"] > 100
    # an EDF's decode to WFDB, a block of rows at a time, gives the whole-record writer's files (or refuses as it does)
    assert result.get("edf to wfdb, streamed differs", 0) == 0, result
    assert result.get("edf to wfdb, streamed refused what whole wrote", 0) == 0, result
    assert result["edf to wfdb, streamed as whole"] > 30
    # every decode in physical units, made a few rows at a time as decode --physical makes them, is what making the
    # values whole gives: the same CSV and .npy, or the same refusal
    assert result.get("physical, blocks differ", 0) == 0 and result.get("physical, refused one way", 0) == 0, result
    assert result["physical, blocks as whole"] > 250
