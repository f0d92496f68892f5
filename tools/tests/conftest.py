"""Shared fixtures for the interop checks: where the built executables and Swift-written fixtures are."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def run(*cmd, ok=True):
    """Runs a command (paths and numbers allowed as arguments); with ok, asserts it exits 0."""
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if ok:
        assert r.returncode == 0, f"{cmd}: {r.stderr}"
    return r


def sudoku4_model(bin_dir, directory, preset, size):
    """Initialises a Sudoku 4x4 checkpoint of `preset` with the `size` overrides and compiles it:
    returns (m.ckpt, m.trmg) in `directory`."""
    ckpt, model = directory / "m.ckpt", directory / "m.trmg"
    run(bin_dir / "trm-train", "init", "--preset", preset, "--task", "sudoku", "--grid", "4", *size, "-o", ckpt)
    run(bin_dir / "trm-compile", ckpt, "-o", model, "-q")
    return ckpt, model


@pytest.fixture(scope="session")
def bin_dir() -> pathlib.Path:
    """The release build's products directory (make test builds it first)."""
    path = os.environ.get("TRM_BIN")
    if path is None:
        path = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.strip()
    p = pathlib.Path(path)
    assert (p / "trm-train").exists(), f"trm-train is not built in {p}; run `make build` first"
    return p


@pytest.fixture(scope="session")
def fixtures_dir() -> pathlib.Path:
    """Files written by the Swift test suite (TRM_FIXTURES), which runs before these checks."""
    p = pathlib.Path(os.environ.get("TRM_FIXTURES", ROOT / ".build" / "fixtures"))
    assert (p / "tiny.trmg").exists(), f"no Swift-written fixtures in {p}; run the Swift tests with TRM_FIXTURES={p}"
    return p
