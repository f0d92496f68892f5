"""For every preset, a checkpoint trained by trm-train, compiled by trm-compile and run by trm-run
reproduces the trainer's eager forward (`trm-train eager`): max |Δlogit| ≤ 1e-4 over 2 ACT steps."""
import numpy as np
import pytest

from conftest import run

SMALL = ["--hidden", "32", "--heads", "2", "--h-cycles", "2", "--l-cycles", "2", "--halt-max-steps", "4",
         "--puzzle-emb-len", "2", "--d-state", "8", "--headdim", "8", "--expansion", "2"]


@pytest.mark.parametrize("preset,task,grid", [("trm-attn", "sudoku", 4), ("tr-mamba2attn", "sudoku", 4),
                                              ("trm-mlpt", "sudoku", 4), ("tr-mamba2mlpt", "maze", 5)])
def test_compiled_trained_model_matches_eager_forward(bin_dir, tmp_path, preset, task, grid):
    ckpt = tmp_path / "m.ckpt"
    run(bin_dir / "trm-train", "--task", task, "--grid", grid, "--preset", preset, *SMALL, "--steps", "6", "--batch", "8",
        "--lr", "3e-3", "--warmup", "1", "--no-ema", "--train-count", "50", "--eval-count", "0", "--threads", "1", "-q", "-o", ckpt)
    graph = tmp_path / "m.trmg"
    run(bin_dir / "trm-compile", ckpt, "-o", graph, "-q")
    rng = np.random.default_rng(7)
    vocab = 6 if task == "maze" else grid + 2
    tokens = rng.integers(1, vocab, size=(5, grid * grid)).astype(np.int32)
    np.save(tmp_path / "tokens.npy", tokens)
    run(bin_dir / "trm-run", graph, "--inputs", tmp_path / "tokens.npy", "--out", tmp_path / "compiled", "--steps", "2",
        "--batch", "4", "--threads", "1", "-q")
    run(bin_dir / "trm-train", "eager", ckpt, "--inputs", tmp_path / "tokens.npy", "--out", tmp_path / "eager", "--steps", "2",
        "--batch", "3")
    compiled, eager = np.load(tmp_path / "compiled" / "logits.npy"), np.load(tmp_path / "eager" / "logits.npy")
    assert compiled.shape == eager.shape == (5, grid * grid, vocab)
    diff = np.abs(compiled - eager).max()
    assert diff <= 1e-4, f"{preset}: max |Δlogit| {diff}"
    assert np.abs(np.load(tmp_path / "compiled" / "q_halt.npy") - np.load(tmp_path / "eager" / "q_halt.npy")).max() <= 1e-4
    # The weights moved away from the initialisation, so this is a trained model, not the init.
    init = tmp_path / "init.ckpt"
    run(bin_dir / "trm-train", "init", "--task", task, "--grid", grid, "--preset", preset, *SMALL, "-o", init)
    from safetensors.numpy import load_file
    assert not np.array_equal(load_file(str(init))["lm_head.weight"], load_file(str(ckpt))["lm_head.weight"])
