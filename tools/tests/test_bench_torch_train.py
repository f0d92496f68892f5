"""tools/bench_torch_train.py, the PyTorch side of the trainer benchmark, at a tiny size: it runs and
writes sane JSON; its step is trm-train's (from the same initial checkpoint and the same batch, a
single maze so that the data order and augmentation cannot differ, the losses of three consecutive
steps and the EMA weights and puzzle table after them agree); and the matrix products it performs
are the FLOPs trm counts (TrainingRun.flopsPerSample, as trm-train reports it)."""
import json
import sys

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from conftest import ROOT, run

sys.path.insert(0, str(ROOT / "tools"))
import bench_torch_train as btt  # noqa: E402
import torch_trm_model as model_torch  # noqa: E402
import torch_trm_train as train_torch  # noqa: E402

TINY = ["--hidden", "32", "--heads", "2", "--expansion", "2", "--h-cycles", "2", "--l-cycles", "2",
        "--halt-max-steps", "4", "--puzzle-emb-len", "2", "--d-state", "8", "--headdim", "8"]
STEPS, BATCH, LR, WARMUP, EMA = 3, 4, 1e-3, 2, 0.9


def test_tiny_run_writes_json_and_the_report_lines(bin_dir, tmp_path, capsys):
    out = tmp_path / "torch.json"
    btt.main(["--size", "tiny", "--preset", "trm-attn,tr-mamba2attn", "--threads", "1", "--repeat", "2",
              "--trm-train", str(bin_dir / "trm-train"), "--json", str(out)])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["trm-attn batch 4 threads 1", "tr-mamba2attn batch 4 threads 1"]
    assert all(" s/step best (" in line and "trm-train " in line for line in lines)
    report = json.loads(out.read_text())
    assert report["torch"] == torch.__version__ and report["attention"] == "sdpa"
    rows = report["results"]
    assert [(r["preset"], r["size"], r["batch"], r["threads"]) for r in rows] == \
        [("trm-attn", "tiny", 4, 1), ("tr-mamba2attn", "tiny", 4, 1)]
    for r in rows:
        assert 0 < r["s_best"] <= r["s_median"] < 10
        assert 0 < r["trm_train"]["s_best"] <= r["trm_train"]["s_median"] < 10
        assert r["torch_over_trm"] == pytest.approx(r["s_best"] / r["trm_train"]["s_best"])
        assert r["samples_per_s"] == pytest.approx(4 / r["s_best"]) and r["gflops"] > 0
        assert "--preset " + r["preset"] in r["trm_train"]["command"] and r["trm_train"]["command"].endswith("-o m.ckpt")
    # trm-train's own parameter count for the config (57,794 for trm-attn at this size).
    assert rows[0]["params"] == 57794


def maze_examples(csv):
    """The single maze of a trm-data CSV as examples: '# SGo' -> tokens 1..5 (docs/tasks.md §4)."""
    question, answer = csv.read_text().splitlines()[1].split(",")[1:3]
    encode = lambda s: torch.tensor([["#", " ", "S", "G", "o"].index(c) + 1 for c in s])  # noqa: E731
    return train_torch.Examples(encode(question)[None], encode(answer)[None], torch.zeros(1, dtype=torch.long))


@pytest.mark.parametrize("preset,extra", [("trm-attn", []), ("tr-mamba2attn", []),
                                          ("tr-mamba2attn", ["--direction", "bidirectional"])])
@pytest.mark.parametrize("attention", ["sdpa", "einsum"])
def test_step_reproduces_trm_train(bin_dir, tmp_path, preset, extra, attention):
    """trm-train trains on one maze (no augmentation, so every slot holds it whatever the draw order),
    without exploration; the PyTorch trainer starts from `trm-train init`'s checkpoint of the same seed."""
    csv = tmp_path / "maze.csv"
    run(bin_dir / "trm-data", "generate", "--task", "maze", "--size", "4", "--count", "1", "--seed", "3", "--threads", "1",
        "-o", csv)
    common = ["--task", "maze", "--grid", "4", "--preset", preset, *TINY, *extra]
    ckpt, init = tmp_path / "m.ckpt", tmp_path / "init.ckpt"
    run(bin_dir / "trm-train", *common, "--data", csv, "--steps", STEPS, "--batch", BATCH, "--lr", LR, "--warmup", WARMUP,
        "--ema", EMA, "--exploration", "0", "--eval-count", "0", "--log-every", "1", "--threads", "1", "-q", "-o", ckpt)
    run(bin_dir / "trm-train", "init", *common, "--seed", "0", "-o", init)
    records = [json.loads(line) for line in open(str(ckpt) + ".metrics.jsonl") if '"train"' in line]

    cfg, model = model_torch.load_trm_checkpoint(init, attention)
    options = train_torch.Options(lr=LR, warmup_steps=WARMUP, total_steps=STEPS, weight_decay=1.0, puzzle_emb_lr=1e-4,
                          puzzle_emb_weight_decay=1.0, ema=EMA, exploration=0.0, loss="stablemax")
    trainer = train_torch.Trainer(cfg, model, options, BATCH, maze_examples(csv))
    for record in records:
        loss, lm, halt = trainer.step()
        assert loss == pytest.approx(record["loss"], rel=1e-5), record["step"]
        assert lm == pytest.approx(record["lm_loss"], rel=1e-5)
        assert halt == pytest.approx(record["q_halt_loss"], rel=1e-4)  # BCE in fp32 here, float64 in trm
    assert len(records) == STEPS

    from safetensors.numpy import load_file
    trained, initial = load_file(str(ckpt)), load_file(str(init))
    names = [n[len(model_torch.PREFIX):] for n, _ in model.named_parameters()]
    moved = max(np.abs(trained[n] - initial[n]).max() for n in names)
    worst = max(np.abs(s.numpy() - trained[n]).max() for n, s in zip(names, trainer.shadow))
    assert moved > 5e-4 and worst < 5e-6, (moved, worst)  # the EMA shadow trm-train saves
    table = model.inner.puzzle_emb.weights.numpy()
    assert np.abs(trained["puzzle_emb.weights"] - initial["puzzle_emb.weights"]).max() > 1e-4
    assert np.abs(table - trained["puzzle_emb.weights"]).max() < 1e-7  # three SignSGD steps

    # The FLOP count of the step is trm-train's (TrainingRun.flopsPerSample = GFLOP/s ÷ samples/s).
    for record in records:
        counted = record["gflops"] * 1e9 / record["samples_per_s"]
        assert model_torch.trm_flops_per_sample(cfg, model) == pytest.approx(counted, rel=1e-9)


@pytest.mark.parametrize("preset", ["trm-attn", "tr-mamba2attn"])
def test_step_multiplies_what_trm_counts(preset):
    """With the einsum attention, the matrix products PyTorch runs in one step (forward and backward) are
    trm's count: the projections (aten.mm) and, for trm-attn, the attention products (aten.bmm) too; the
    only extra is q_head, which trm leaves out (2·D·2 per sample, three times). The Mamba-2 scan's
    products are not in trm's count (its scan is not a matmul), so only aten.mm is compared there."""
    cfg = btt.sudoku_config(preset, "tiny")
    model = model_torch.reference_init(model_torch.build_model(cfg, "einsum"))
    examples = train_torch.Examples.random_sudoku(cfg, 8)
    trainer = train_torch.Trainer(cfg, model, btt.size_options("tiny"), BATCH, examples)
    trainer.step()
    with FlopCounterMode(display=False) as counter:
        trainer.step()
    counts = {str(k): v for k, v in counter.get_flop_counts()["Global"].items()}
    s, d = cfg.full_len, cfg.hidden
    attention = 4 * s * s * d * cfg.sublayers.count("attn") * (cfg.h_cycles * (cfg.l_cycles + 1) + 2 * (cfg.l_cycles + 1))
    q_head = 3 * 2 * 2 * d
    expected = BATCH * (model_torch.trm_flops_per_sample(cfg, model) + q_head)
    assert counts["aten.mm"] == expected - BATCH * attention
    if preset == "trm-attn":
        assert counter.get_total_flops() == expected


def test_sizes_are_trm_benchs_and_the_shipped_models():
    ref = btt.sudoku_config("trm-attn", "reference")
    assert (ref.hidden, ref.heads, ref.h_cycles, ref.l_cycles, ref.full_len, ref.vocab) == (512, 8, 3, 6, 97, 11)
    small = btt.sudoku_config("tr-mamba2attn", "small")
    assert (small.hidden, small.heads, small.h_cycles, small.l_cycles, small.full_len, small.d_state, small.headdim) == \
        (128, 4, 2, 2, 37, 16, 32)
    assert btt.size_options("small").loss == "softmax" and btt.size_options("reference").loss == "stablemax"
    # The reference size's FLOPs as BENCHMARKS.md's trainer table states them (47.6 and 47.1 GFLOP per sample).
    for preset, gflop in [("trm-attn", 47.6), ("tr-mamba2attn", 47.1)]:
        cfg = btt.sudoku_config(preset, "reference")
        assert round(model_torch.trm_flops_per_sample(cfg, model_torch.build_model(cfg)) / 1e9, 1) == gflop
