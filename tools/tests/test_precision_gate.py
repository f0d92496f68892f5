"""tools/precision_gate.py: the comparison that decides the bf16 gate, and one real run."""
import json
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import precision_gate  # noqa: E402

from conftest import ROOT, run  # noqa: E402


def result(pass_at_k, scored=1000):
    return {"pass_at_k": pass_at_k, "scored_puzzles": scored}


def test_within_half_a_point_passes_and_beyond_fails():
    fp32 = result({"1": 0.782, "2": 0.80})
    _, worst, passed, problem = precision_gate.compare(fp32, result({"1": 0.786, "2": 0.80}), 0.5)
    assert passed and problem is None and worst == pytest.approx(0.4)
    diffs, worst, passed, _ = precision_gate.compare(fp32, result({"1": 0.782, "2": 0.806}), 0.5)
    assert not passed and worst == pytest.approx(0.6) and diffs["2"] == pytest.approx(0.6)
    # A drop counts as much as a gain.
    assert not precision_gate.compare(fp32, result({"1": 0.776, "2": 0.80}), 0.5)[2]


def test_mismatched_runs_fail():
    fp32 = result({"1": 0.5, "2": 0.6})
    assert precision_gate.compare(fp32, result({"1": 0.5}), 0.5)[3].startswith("the runs report different K")
    assert "scored" in precision_gate.compare(fp32, result({"1": 0.5, "2": 0.6}, scored=999), 0.5)[3]
    assert not precision_gate.compare(fp32, {"pass_at_k": {}}, 0.5)[2]


def test_task_of_each_shipped_model():
    assert precision_gate.task_args("sudoku6-trm-attn", 1000) == (
        ["--task", "sudoku", "--limit", "1000", "--seed", "0", "--batch", "64"], True)
    assert precision_gate.task_args("maze9-trm-attn", 10)[0][:2] == ["--task", "maze"]
    assert precision_gate.task_args("arc4-trm-attn", 1000)[1] is False
    with pytest.raises(ValueError):
        precision_gate.task_args("mystery", 10)


def test_gate_runs_a_shipped_model(bin_dir, tmp_path):
    out = tmp_path / "gate.json"
    r = run(sys.executable, ROOT / "tools" / "precision_gate.py", "--bin", bin_dir, "--models", ROOT / "models",
            "--select", "sudoku6-trm-attn.ckpt", "--limit", "50", "--json", out)
    rows = json.loads(out.read_text())["models"]
    assert [m["model"] for m in rows] == ["sudoku6-trm-attn"] and rows[0]["puzzles"] == 50, r.stdout
    assert rows[0]["passed"] and rows[0]["gated"] and "1" in rows[0]["bf16_pass_at_k"]


def test_missing_binaries_and_models_are_clear_errors(tmp_path):
    r = run(sys.executable, ROOT / "tools" / "precision_gate.py", "--bin", tmp_path, ok=False)
    assert r.returncode == 2 and "does not exist" in r.stderr
