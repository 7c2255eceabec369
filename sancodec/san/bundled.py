"""Installed models: the bundled default and lookup by SHA-256 for files that reference one."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from sancodec.errors import SanConfigError, SanFormatError
from sancodec.san.spec import SanSpec, load_model

__all__ = ["DEFAULT_MODEL_NAME", "default_model", "find_model", "installed_models"]

DEFAULT_MODEL_NAME = "default.json"


@lru_cache(maxsize=1)
def default_model() -> SanSpec:
    """The model shipped inside the package (see sancodec/data/models/README.md)."""
    ref = resources.files("sancodec") / "data" / "models" / DEFAULT_MODEL_NAME
    if not ref.is_file():
        raise SanConfigError("no bundled default model is installed; pass a model explicitly")
    with resources.as_file(ref) as path:
        return load_model(path)


def installed_models() -> dict[str, SanSpec]:
    """Every model this installation can resolve by SHA-256."""
    try:
        spec = default_model()
    except SanConfigError:
        return {}
    return {spec.sha256(): spec}


def find_model(sha256: str, extra: SanSpec | None = None) -> SanSpec:
    """The model with this SHA-256: ``extra`` if it matches, else an installed one."""
    if extra is not None and extra.sha256() == sha256:
        return extra
    found = installed_models().get(sha256)
    if found is None:
        raise SanFormatError(f"the file references model {sha256[:16]}…, which is not installed; "
                             "pass that model to decode it (model= a SanSpec, model file or exported folder; "
                             "--model on the command line)")
    return found
