"""The wheel and sdist: what they contain, and that the wheel installs and imports in a fresh venv."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


def test_wheel_holds_the_three_packages_and_no_tests(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    for package in ("modelslab_core", "langchain_modelslab", "llama_index_modelslab"):
        assert f"{package}/__init__.py" in names
        assert f"{package}/py.typed" in names
    assert "modelslab_core/testing/__main__.py" in names
    assert not [n for n in names if n.startswith(("tests/", "cassettes/", "benchmarks/"))]


def test_sdist_holds_tests_and_cassettes(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    top = names[0].split("/")[0]
    assert f"{top}/tests/data/corpus.jsonl" in names
    assert any(n.startswith(f"{top}/cassettes/") for n in names)
    assert f"{top}/README.md" in names and f"{top}/LICENSE" in names


def test_wheel_installs_and_imports_in_a_fresh_venv(dist: Path, tmp_path: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # install the wheel alone; its dependencies come from this environment's site-packages, put after the
    # venv's own on the path (so the wheel, not this checkout, is what gets imported)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(next((venv / "lib").glob("python*")) / "site-packages"),
            str(wheel),
        ],
        check=True,
        timeout=120,
    )
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    code = (
        "import modelslab_core, langchain_modelslab, llama_index_modelslab; "
        "from modelslab_core import Client; print(modelslab_core.__file__)"
    )
    proc = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert str(venv) in proc.stdout
