"""trm-train end to end: a run killed with SIGKILL mid-way and resumed with --resume ends with the same
weights (checkpoint and optimizer state) as an uninterrupted run of the same command; the metrics log
and the curve are written; a compiled checkpoint runs through trm-run."""
import json
import signal
import struct
import subprocess
import time

import numpy as np
from safetensors.numpy import load_file

from conftest import ROOT, run

TRAIN = ["--task", "sudoku", "--grid", "6", "--preset", "trm-attn", "--hidden", "32", "--heads", "2",
         "--h-cycles", "2", "--l-cycles", "2", "--halt-max-steps", "4", "--puzzle-emb-len", "1",
         "--steps", "40", "--batch", "32", "--lr", "1e-3", "--warmup", "5", "--train-count", "300",
         "--eval-count", "16", "--eval-every", "20", "--checkpoint-every", "4", "--log-every", "4",
         "--threads", "1", "--seed", "3", "-q"]


def saved_step(state_path):
    """The step recorded in a training-state sidecar's metadata (None while it does not exist)."""
    try:
        with open(state_path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
        return int(header["__metadata__"]["trm.step"])
    except (FileNotFoundError, struct.error, json.JSONDecodeError, KeyError):
        return None


def test_killed_and_resumed_run_matches_uninterrupted(bin_dir, tmp_path):
    train = bin_dir / "trm-train"
    straight = tmp_path / "straight.ckpt"
    run(train, *TRAIN, "-o", straight)

    resumed = tmp_path / "resumed.ckpt"
    proc = subprocess.Popen([str(train), *TRAIN, "-o", str(resumed)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        step = saved_step(f"{resumed}.state")
        if step is not None and step >= 8:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be killed; the test needs a longer run"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = saved_step(f"{resumed}.state")
    assert killed_at is not None and 8 <= killed_at < 40, killed_at

    # Without --resume an existing run is not overwritten.
    r = run(train, *TRAIN, "-o", resumed, ok=False)
    assert r.returncode == 2 and "--resume" in r.stderr

    run(train, *TRAIN, "-o", resumed, "--resume")
    assert saved_step(f"{resumed}.state") == 40

    a, b = load_file(str(straight)), load_file(str(resumed))
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), f"checkpoint tensor {k} differs after kill and resume"
    sa, sb = load_file(f"{straight}.state"), load_file(f"{resumed}.state")
    assert sa.keys() == sb.keys()
    for k in sa:
        assert np.array_equal(sa[k], sb[k]), f"state tensor {k} differs after kill and resume"
    # Training moved the weights (so equality above is not trivial).
    init = tmp_path / "init.ckpt"
    run(train, "init", "--task", "sudoku", "--grid", "6", "--preset", "trm-attn", "--hidden", "32", "--heads", "2",
        "--h-cycles", "2", "--l-cycles", "2", "--halt-max-steps", "4", "--puzzle-emb-len", "1", "--seed", "3", "-o", init)
    assert not np.array_equal(load_file(str(init))["lm_head.weight"], a["lm_head.weight"])

    # The metrics log holds each logged step once, in order, after the resume dropped the redone part.
    for path in (straight, resumed):
        lines = [json.loads(line) for line in open(f"{path}.metrics.jsonl")]
        train_steps = [r["step"] for r in lines if r["kind"] == "train"]
        assert train_steps == list(range(4, 41, 4)), train_steps
        assert [r["step"] for r in lines if r["kind"] == "eval"] == [20, 40]
        svg = open(f"{path}.curve.svg").read()
        assert svg.startswith("<svg") and "polyline" in svg

    # The trained checkpoint compiles and runs.
    graph = tmp_path / "model.trmg"
    run(bin_dir / "trm-compile", straight, "-o", graph)
    r = run(bin_dir / "trm-run", graph, "--task", "sudoku", "--limit", "8", "--threads", "1", "-q", "--json", tmp_path / "m.json")
    report = json.load(open(tmp_path / "m.json"))
    assert report["puzzles"] == 8 and report["scored_puzzles"] == 8 and "1" in report["pass_at_k"]


def test_bad_arguments_are_refused(bin_dir, tmp_path):
    train = bin_dir / "trm-train"
    for args, needle in [
        (["--task", "sudoku", "--preset", "trm-attn"], "-o"),
        (["--task", "chess", "--preset", "trm-attn", "-o", tmp_path / "x.ckpt"], "--task"),
        (["--task", "sudoku", "--preset", "trm-attn", "--steps", "0", "-o", tmp_path / "x.ckpt"], "--steps"),
        (["--task", "sudoku", "--preset", "trm-attn", "--split", "training", "-o", tmp_path / "x.ckpt"], "--split"),
        (["--task", "sudoku", "--preset", "trm-attn", "--resume", "-o", tmp_path / "x.ckpt"], "no saved run"),
        (["--task", "sudoku", "--preset", "trm-attn", "--data", tmp_path / "missing.csv", "-o", tmp_path / "x.ckpt"], "missing.csv"),
        (["--task", "sudoku", "--preset", "trm-attn", "-o", tmp_path / "no" / "dir" / "x.ckpt"], "does not exist"),
    ]:
        r = run(train, *args, ok=False)
        assert r.returncode in (1, 2) and needle in r.stderr, (args, r.stderr)
    assert not (tmp_path / "x.ckpt").exists()


def test_small_arc_run_stores_identifiers_that_trm_run_uses(bin_dir, tmp_path):
    """ARC training on named training puzzles with their test pairs held out: the checkpoint holds one
    identifier per augmented version, and trm-run --puzzles evaluates exactly those puzzles with them."""
    arc = ROOT / "data" / "arc" / "arc1.json"
    if not arc.exists():
        import pytest
        pytest.skip("no ARC data (make data)")
    ckpt = tmp_path / "arc.ckpt"
    puzzles = "3c9b0459,6150a2bd"
    run(bin_dir / "trm-train", "--task", "arc", "--preset", "trm-attn", "--data", arc, "--split", "training",
        "--hold-out-tests", "--puzzles", puzzles, "--num-aug", "2", "--hidden", "16", "--heads", "2", "--h-cycles", "1",
        "--l-cycles", "1", "--halt-max-steps", "2", "--puzzle-emb-len", "1", "--steps", "2", "--batch", "2",
        "--threads", "1", "-q", "-o", ckpt)
    header = json.loads(open(ckpt, "rb").read()[8:8 + struct.unpack("<Q", open(ckpt, "rb").read(8))[0]])
    ids = json.loads(header["__metadata__"]["trm.identifiers"])
    assert ids[0] == "<blank>" and len(ids) == 1 + 2 * 3
    assert {i.split("|||")[0] for i in ids[1:]} == set(puzzles.split(","))
    config = json.loads(header["__metadata__"]["trm.config"])
    assert config["num_puzzle_ids"] == len(ids)
    graph = tmp_path / "arc.trmg"
    run(bin_dir / "trm-compile", ckpt, "-o", graph, "-q")
    run(bin_dir / "trm-run", graph, "--task", "arc", "--data", arc, "--split", "train", "--puzzles", puzzles, "--num-aug", "2",
        "--threads", "1", "-q", "--json", tmp_path / "arc.json")
    report = json.load(open(tmp_path / "arc.json"))
    assert report["puzzles"] == 2 and report["queries"] == 2 * 3
    r = run(bin_dir / "trm-train", "--task", "arc", "--preset", "trm-attn", "--data", arc, "--split", "training",
            "--puzzles", "nosuchpuzzle", "--steps", "1", "-o", tmp_path / "bad.ckpt", ok=False)
    assert r.returncode == 1 and "nosuchpuzzle" in r.stderr
