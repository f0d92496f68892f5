"""trm-run task modes end to end on initialised (untrained) models (issue: tasks and pass@K)."""
import json

import pytest

from conftest import ROOT, run

TINY = ["--hidden", "32", "--heads", "2", "--h-cycles", "1", "--l-cycles", "1", "--halt-max-steps", "1",
        "--d-state", "8", "--headdim", "16"]


def model(bin_dir, tmp_path, preset, task, *extra):
    ckpt, trmg = tmp_path / f"{task}.ckpt", tmp_path / f"{task}.trmg"
    run(bin_dir / "trm-train", "init", "--preset", preset, "--task", task, *TINY, *extra, "-o", ckpt)
    run(bin_dir / "trm-compile", ckpt, "-o", trmg, "-q")
    return trmg


def check_metrics(path, puzzles, queries):
    metrics = json.loads(path.read_text())
    assert metrics["puzzles"] == puzzles and metrics["queries"] == queries
    rates = [metrics["pass_at_k"][k] for k in sorted(metrics["pass_at_k"], key=int)]
    assert all(0 <= r <= 1 for r in rates)
    assert rates == sorted(rates), "pass@K must be non-decreasing in K"
    return metrics


def test_arc_ten_puzzles_eight_augmentations(bin_dir, tmp_path):
    data = ROOT / "data" / "arc" / "arc1.json"
    assert data.exists(), "run `make data` first (make test does)"
    trmg = model(bin_dir, tmp_path, "trm-attn", "arc", "--puzzle-emb-len", "1")
    out = run(bin_dir / "trm-run", trmg, "--task", "arc", "--data", data, "--limit", "10", "--num-aug", "7",
              "--batch", "16", "--json", tmp_path / "m.json", "--submission", tmp_path / "submission.json").stdout
    assert "pass@K" in out
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["puzzles"] == 10 and metrics["queries"] >= 80
    check_metrics(tmp_path / "m.json", 10, metrics["queries"])
    submission = json.loads((tmp_path / "submission.json").read_text())
    assert len(submission) == 10
    for attempts in submission.values():
        for pair in attempts:
            for key in ("attempt_1", "attempt_2"):
                grid = pair[key]
                assert grid and all(len(row) == len(grid[0]) for row in grid)
                assert all(0 <= v <= 9 for row in grid for v in row)


@pytest.mark.parametrize("preset,task,grid,aug", [("tr-mamba2attn", "sudoku", "6", "3"), ("trm-attn", "maze", "9", "7")])
def test_sudoku_and_maze_generated_test_sets(bin_dir, tmp_path, preset, task, grid, aug):
    trmg = model(bin_dir, tmp_path, preset, task, "--grid", grid)
    out = run(bin_dir / "trm-run", trmg, "--task", task, "--limit", "12", "--num-aug", aug, "--seed", "5",
              "--json", tmp_path / "m.json", "--show", "1", "--halting", "adaptive").stdout
    assert "exact accuracy" in out and "test 0:" in out
    check_metrics(tmp_path / "m.json", 12, 12 * (int(aug) + 1))


def test_sudoku_csv_data(bin_dir, tmp_path):
    csv = tmp_path / "s.csv"
    run(bin_dir / "trm-data", "generate", "--task", "sudoku", "--size", "4", "--count", "5", "--seed", "9", "-o", csv)
    trmg = model(bin_dir, tmp_path, "trm-mlpt", "sudoku", "--grid", "4")
    run(bin_dir / "trm-run", trmg, "--task", "sudoku", "--data", csv, "--json", tmp_path / "m.json", "-q")
    check_metrics(tmp_path / "m.json", 5, 5)


def test_bad_task_inputs_fail_cleanly(bin_dir, tmp_path):
    trmg = model(bin_dir, tmp_path, "trm-attn", "sudoku", "--grid", "4")
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("source,question,answer,rating\nx,12,34,0\n")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"train": {"p": {"train": [{"input": [[1, 12]], "output": [[1]]}], "test": []}}}')
    cases = [
        ["--task", "sudoku", "--data", bad_csv],
        ["--task", "sudoku", "--data", tmp_path / "missing.csv"],
        ["--task", "maze"],                                   # a sudoku model is not a maze model
        ["--task", "arc", "--data", bad_json],
        ["--task", "chess"],
        ["--task", "sudoku", "--k", "0"],
        ["--task", "sudoku", "--inputs", bad_csv],
    ]
    for args in cases:
        r = run(bin_dir / "trm-run", trmg, *args, ok=False)
        assert r.returncode in (1, 2), f"{args}: {r.returncode}"
        assert r.stderr.strip() and "Fatal error" not in r.stderr, f"{args}: {r.stderr}"
