"""Packaging: cli/ and export/ install as sancodec.cli / sancodec.export; torch stays lazy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[1]


def _run(code: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def _declared_packages() -> tuple[list[str], dict[str, str]]:
    cfg = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    return cfg["packages"], cfg["package-dir"]


def test_every_package_folder_is_declared():
    """The code packages (folders with an __init__.py) are the declared ones, and the other declared ones are the
    bundled data's folders (namespace packages, so that setuptools ships their files without warning)."""
    packages, mapping = _declared_packages()
    folders = {"sancodec": REPO / "sancodec", **{k: REPO / v for k, v in mapping.items()}}
    found = set()
    for name, root in folders.items():
        for init in root.rglob("__init__.py"):
            rel = init.parent.relative_to(root)
            found.add(".".join([name, *rel.parts]) if rel.parts else name)
    data = {p for p in packages if p.startswith("sancodec.data.")}
    assert found == set(packages) - data
    walked = {".".join(["sancodec", *d.relative_to(REPO / "sancodec").parts])
              for d in (REPO / "sancodec" / "data").rglob("*") if d.is_dir()}
    assert walked == data and not any((REPO / "sancodec" / "data").rglob("__init__.py"))


def test_editable_install_maps_cli_and_export(tmp_path):
    out = _run("import sancodec.cli, sancodec.export; print(sancodec.cli.__file__); "
               "print(sancodec.export.__file__)", cwd=tmp_path)
    cli_file, export_file = out.splitlines()
    assert Path(cli_file).resolve() == (REPO / "cli" / "__init__.py").resolve()
    assert Path(export_file).resolve() == (REPO / "export" / "__init__.py").resolve()


def test_wheel_contains_only_the_sancodec_tree_and_imports(tmp_path):
    wheel_dir = tmp_path / "wheel"
    # built from a copy of the tree as a clone has it: a checkout's build/ folder keeps what earlier builds put in
    # it, which setuptools would ship again
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "out", "*.egg-info",
                                                                "__pycache__", ".hypothesis", ".ruff_cache", "*.so"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
         str(wheel_dir), str(source)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    assert "absent from the `packages` configuration" not in built.stdout + built.stderr  # no screen of warnings
    (wheel,) = wheel_dir.glob("sancodec-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "sancodec/cli/__init__.py" in names and "sancodec/export/__init__.py" in names
    assert "sancodec/py.typed" in names and "sancodec/data/samples/100.dat" in names
    assert "sancodec/data/models/default/decoder.onnx" in names
    assert "sancodec/data/samples/multisegment/ms100.hea" in names
    assert not any(n.endswith((".c", ".h")) for n in names)  # the kernels' sources: the sdist's, not the wheel's
    tops = {n.split("/")[0] for n in names}
    assert tops <= {"sancodec", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)
    env = {**os.environ, "PYTHONPATH": str(target), "PYTHONNOUSERSITE": "1"}
    # The wheel tree goes first on sys.path, ahead of the editable install's finder.
    code = (f"import sys, importlib.util; sys.path.insert(0, {str(target)!r}); "
            "import sancodec.cli, sancodec.export; print(sancodec.cli.__file__); "
            "print(importlib.util.find_spec('cli') is None)")
    cli_file, no_top_level_cli = _run(code, cwd=tmp_path, env=env).splitlines()
    assert cli_file.startswith(str(target))
    assert no_top_level_cli == "True"


def test_console_script_and_module_entry_points(tmp_path):
    exe = Path(sys.executable).with_name("sancodec")
    version = subprocess.run([str(exe), "version"], capture_output=True, text=True, timeout=60).stdout.strip()
    assert version == __import__("sancodec").__version__
    out = subprocess.run([sys.executable, "-m", "sancodec", "version"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == __import__("sancodec").__version__
