"""trm-run matches onnxruntime executing the same .trmg through its function bodies (issue:
compiler and runtime). Small models of every preset here; the ARC size is `make check-large`."""
import json
import os
import sys

import numpy as np
import pytest

from conftest import ROOT, run, sudoku4_model
from test_checkpoint_interop import CONFIG, python_checkpoint

SMALL = ["--hidden", "64", "--h-cycles", "2", "--l-cycles", "2", "--halt-max-steps", "3", "--d-state", "16",
         "--headdim", "32", "--heads", "4"]


def compile_and_compare(bin_dir, tmp_path, ckpt, batch=2, count=3, steps=3, extra=(), atol=1e-3):
    model = tmp_path / "model.trmg"
    run(bin_dir / "trm-compile", ckpt, "-o", model, "-q", *extra)
    config = json.loads(run(bin_dir / "trm-info", model, "--json").stdout)
    rng = np.random.default_rng(7)
    tokens = rng.integers(0, config["vocab"], (count, config["seq_len"])).astype(np.int32)
    np.save(tmp_path / "tokens.npy", tokens)
    run(bin_dir / "trm-run", model, "--inputs", tmp_path / "tokens.npy", "--out", tmp_path / "trm",
        "--batch", batch, "--steps", steps, "-q")
    r = run(sys.executable, ROOT / "tools" / "ort_oracle.py", model, "--inputs", tmp_path / "tokens.npy",
            "--steps", steps, "--out", tmp_path / "ort", "--compare", tmp_path / "trm", "--atol", atol, ok=False)
    assert r.returncode == 0, r.stdout + r.stderr
    ours, theirs = np.load(tmp_path / "trm" / "logits.npy"), np.load(tmp_path / "ort" / "logits.npy")
    assert ours.shape == (count, config["seq_len"], config["vocab"])
    assert np.abs(ours - theirs).max() <= atol
    assert (np.load(tmp_path / "trm" / "preds.npy") == ours.argmax(-1)).all()
    return np.abs(ours - theirs).max()


@pytest.mark.parametrize("preset,task,extra", [
    ("trm-attn", "sudoku", []), ("tr-mamba2attn", "sudoku", []), ("trm-mlpt", "sudoku", []),
    ("tr-mamba2mlpt", "sudoku", []), ("tr-mamba2attn", "maze", ["--grid", "6", "--direction", "bidirectional"]),
    ("tr-mamba2attn", "sudoku", ["--direction", "reverse", "--ngroups", "2"]), ("trm-attn", "arc", ["--puzzle-emb-len", "4"]),
])
def test_every_preset_matches_onnxruntime(bin_dir, tmp_path, preset, task, extra):
    ckpt = tmp_path / "m.ckpt"
    grid = [] if "--grid" in extra or task != "sudoku" else ["--grid", "4"]
    run(bin_dir / "trm-train", "init", "--preset", preset, "--task", task, *grid, *SMALL, *extra, "-o", ckpt)
    compile_and_compare(bin_dir, tmp_path, ckpt)


def test_unfused_graph_matches_onnxruntime(bin_dir, tmp_path):
    ckpt = tmp_path / "m.ckpt"
    run(bin_dir / "trm-train", "init", "--preset", "tr-mamba2attn", "--task", "sudoku", "--grid", "4", *SMALL, "-o", ckpt)
    compile_and_compare(bin_dir, tmp_path, ckpt, extra=["--no-fuse"])


def test_python_written_checkpoint_compiles_and_runs(bin_dir, tmp_path):
    ckpt = tmp_path / "py.ckpt"
    python_checkpoint(ckpt, CONFIG, np.random.default_rng(3))
    compile_and_compare(bin_dir, tmp_path, ckpt, batch=1, count=2, steps=2)


@pytest.mark.skipif(not os.environ.get("TRM_LARGE"), reason="ARC-size check: run `make check-large`")
@pytest.mark.parametrize("preset", ["trm-attn", "tr-mamba2attn"])
def test_arc_size_matches_onnxruntime(bin_dir, tmp_path, preset):
    ckpt = tmp_path / "arc.ckpt"
    run(bin_dir / "trm-train", "init", "--preset", preset, "--task", "arc", "-o", ckpt)
    diff = compile_and_compare(bin_dir, tmp_path, ckpt, batch=2, count=2, steps=2)
    print(f"{preset} ARC size, batch 2, 2 ACT steps: max |dlogit| = {diff:.3g}")


def test_c_example_runs(bin_dir, tmp_path):
    ckpt, model = sudoku4_model(bin_dir, tmp_path, "tr-mamba2attn", SMALL)
    lib = bin_dir / "libtrm_runtime.so"
    assert lib.exists(), "libtrm_runtime.so is not built (make build)"
    exe = tmp_path / "solve"
    run("cc", "-Wall", "-Werror", "-I", ROOT / "include", ROOT / "examples" / "c" / "solve.c", "-L", bin_dir,
        "-ltrm_runtime", f"-Wl,-rpath,{bin_dir}", "-o", exe)
    out = run(exe, model, 2).stdout
    assert out.strip().endswith("ok")
    assert "missing file -> error" in out and "bad token -> error" in out


def test_c_threads_example_runs(bin_dir, tmp_path):
    """One model shared by four threads with a session each: results equal the main thread's."""
    ckpt, model = sudoku4_model(bin_dir, tmp_path, "tr-mamba2attn", SMALL)
    exe = tmp_path / "threads"
    run("cc", "-Wall", "-Werror", "-I", ROOT / "include", ROOT / "examples" / "c" / "threads.c", "-L", bin_dir,
        "-ltrm_runtime", f"-Wl,-rpath,{bin_dir}", "-lpthread", "-o", exe)
    assert run(exe, model, 4, 2).stdout.strip().endswith(": ok")


def test_python_ctypes_example_runs(bin_dir, tmp_path):
    ckpt, model = sudoku4_model(bin_dir, tmp_path, "trm-attn", SMALL)
    out = run(sys.executable, ROOT / "examples" / "python" / "solve.py", model, "--lib", bin_dir / "libtrm_runtime.so").stdout
    assert out.strip().endswith("ok") and "bad model ->" in out
