"""tools/official_run.py turns a trm checkpoint into an official run folder and a trm-generated test
set into an official dataset folder (docs/formats.md §1.5-§1.6, docs/tasks.md §7): the converted run
must compile and run to exactly the checkpoint's outputs, and the dataset folder must hold the
puzzles trm-run generates, so that `make bench`'s official-format halting rows measure the same
model on the same puzzles as its trm-checkpoint rows."""
import json
import sys

import numpy as np
import torch
from safetensors import safe_open

from conftest import ROOT, run

sys.path.insert(0, str(ROOT / "tools"))
import official_run  # noqa: E402

TINY = ["--hidden", "32", "--heads", "4", "--h-cycles", "1", "--l-cycles", "2", "--halt-max-steps", "3"]
TRAINED = ROOT / "models" / "sudoku6-trm-attn.ckpt"


def convert(tmp_path, ckpt, name="run"):
    return run(sys.executable, ROOT / "tools" / "official_run.py", "convert", ckpt, tmp_path / name, ok=False)


def test_converted_run_computes_what_the_checkpoint_computes(bin_dir, tmp_path):
    """Tiny Sudoku 4×4 trm-attn: the step file holds exactly the checkpoint's tensors (fp32, official
    prefix), and both compiled models give byte-identical logits, predictions, q_halt and steps on
    the dataset folder's rows, with fixed and with adaptive halting."""
    ckpt = tmp_path / "m.ckpt"
    run(bin_dir / "trm-train", "init", "--preset", "trm-attn", "--task", "sudoku", "--grid", "4", *TINY, "--seed", 3,
        "-o", ckpt)
    assert convert(tmp_path, ckpt).returncode == 0
    state = torch.load(tmp_path / "run" / "step_1", weights_only=True, map_location="cpu")
    with safe_open(str(ckpt), "np") as f:
        want = {official_run.PREFIX + k: f.get_tensor(k) for k in f.keys()}
    assert list(state) == list(want)
    for k, t in state.items():
        assert t.dtype == torch.float32, k
        assert np.array_equal(t.numpy(), want[k]), k
    yaml = (tmp_path / "run" / "all_config.yaml").read_text()
    assert "forward_dtype: float32" in yaml and "L_layers: 2" in yaml and "L_cycles: 2" in yaml

    data = tmp_path / "data"
    r = run(sys.executable, ROOT / "tools" / "official_run.py", "testset", ckpt, data, "--trm-data", bin_dir / "trm-data",
            "--count", 12, "--seed", 0)
    assert r.stdout.startswith("12 puzzles")
    assert json.loads((data / "identifiers.json").read_text()) == ["<blank>"]
    inputs = np.load(data / "test" / "all__inputs.npy")
    assert inputs.dtype == np.uint8 and inputs.shape == (12, 16)

    run(bin_dir / "trm-compile", ckpt, "-o", tmp_path / "trm.trmg", "-q")
    r = run(bin_dir / "trm-compile", tmp_path / "run", "--dataset", data, "-o", tmp_path / "official.trmg")
    assert "step_1" in r.stdout and '"task":"sudoku"' in r.stdout, r.stdout
    for halting in ("fixed", "adaptive"):
        outputs = {}
        for name in ("trm", "official"):
            out = tmp_path / f"{name}-{halting}"
            run(bin_dir / "trm-run", tmp_path / f"{name}.trmg", "--inputs", data / "test" / "all__inputs.npy", "--out", out,
                "--batch", 4, "--threads", 1, "--halting", halting, "-q")
            outputs[name] = {f: (out / f).read_bytes() for f in ("logits.npy", "preds.npy", "q_halt.npy", "steps.npy")}
        assert outputs["trm"] == outputs["official"], halting


def test_trained_model_scores_the_same_on_both_paths(bin_dir, tmp_path):
    """The trained Sudoku 6×6 model: trm-run's own generated test set (seed 0) from the checkpoint and
    `testset`'s folder of the same puzzles from the converted run give the same pass@K and batch steps
    (fixed halting; adaptive is compared output by output above), for a model that solves most of
    them, so the equality is not 0 = 0 and the folder holds the same puzzles with their answers."""
    assert convert(tmp_path, TRAINED).returncode == 0
    data = tmp_path / "data"
    run(sys.executable, ROOT / "tools" / "official_run.py", "testset", TRAINED, data, "--trm-data", bin_dir / "trm-data",
        "--count", 16, "--seed", 0)
    run(bin_dir / "trm-compile", TRAINED, "-o", tmp_path / "trm.trmg", "-q")
    run(bin_dir / "trm-compile", tmp_path / "run", "--dataset", data, "-o", tmp_path / "official.trmg", "-q")
    common = ["--task", "sudoku", "--batch", 16, "--threads", 1, "-q"]
    run(bin_dir / "trm-run", tmp_path / "trm.trmg", *common, "--limit", 16, "--seed", 0, "--json", tmp_path / "a.json")
    run(bin_dir / "trm-run", tmp_path / "official.trmg", *common, "--data", data, "--json", tmp_path / "b.json")
    a, b = (json.loads((tmp_path / f).read_text()) for f in ("a.json", "b.json"))
    assert a["queries"] == b["queries"] == 16
    assert (a["pass_at_k"], a["batch_steps"]) == (b["pass_at_k"], b["batch_steps"])
    assert a["pass_at_k"]["1"] > 0.5, a


def test_mamba2_checkpoint_is_refused_with_exit_code_3(bin_dir, tmp_path):
    ckpt = tmp_path / "m.ckpt"
    run(bin_dir / "trm-train", "init", "--preset", "tr-mamba2attn", "--task", "sudoku", "--grid", "4", *TINY,
        "--d-state", 16, "--headdim", 16, "-o", ckpt)
    r = convert(tmp_path, ckpt)
    assert r.returncode == official_run.UNSUPPORTED, r.stderr
    assert "mamba2" in r.stderr and "official architecture" in r.stderr
    assert not (tmp_path / "run").exists()


def test_dataset_tokens_are_the_official_builders(tmp_path):
    """Sudoku: blank 1, digit d -> d + 1; Maze: `# SGo` -> 1...5; identifier 0, one puzzle per row."""
    (tmp_path / "s.csv").write_text("source,question,answer,rating\nx,1.3.,1234,0\n")
    inputs, labels = official_run.csv_rows(tmp_path / "s.csv", "sudoku")
    assert inputs.tolist() == [[2, 1, 4, 1]] and labels.tolist() == [[2, 3, 4, 5]]
    (tmp_path / "m.csv").write_text('source,question,answer,rating\nx,"# SG",#oSG,1\n')
    inputs, labels = official_run.csv_rows(tmp_path / "m.csv", "maze")
    assert inputs.tolist() == [[1, 2, 3, 4]] and labels.tolist() == [[1, 5, 3, 4]]
    assert official_run.write_dataset(tmp_path / "s.csv", tmp_path / "d", "sudoku") == 1
    meta = json.loads((tmp_path / "d" / "test" / "dataset.json").read_text())
    assert (meta["vocab_size"], meta["seq_len"], meta["num_puzzle_identifiers"]) == (4, 4, 1)
    assert np.load(tmp_path / "d" / "test" / "all__puzzle_identifiers.npy").tolist() == [0]
