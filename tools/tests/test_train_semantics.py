"""50 optimizer steps of trm-train against the PyTorch implementation of the same training semantics
(tools/torch_trm_train.py's Trainer), from the same initial weights on the same batches. trm-train records
its random draws (`--trace`: the augmented examples it loads into refilled slots and the exploration minima);
the PyTorch trainer replays them and computes everything else itself: the persistent carry and its reset on
refill, the ACT step, halting, CE + 0.5 · Q-halt BCE, sparse SignSGD on the puzzle rows, AdamATan2, the EMA.
Every step's losses and halting decisions agree and so do the saved EMA weights after 50 steps; and with one
piece of the semantics altered on the PyTorch side (torch_trm_train.MUTATIONS) the comparison fails, so
a semantic error shows up as a divergence, not as a slow curve. Every preset: trm-attn, tr-mamba2attn,
trm-mlpt and tr-mamba2mlpt."""
import json
import sys

import numpy as np
import pytest

from conftest import ROOT, run

sys.path.insert(0, str(ROOT / "tools"))
import torch_trm_model as model_torch  # noqa: E402
import torch_trm_train as train_torch  # noqa: E402

TINY = ["--hidden", "32", "--heads", "2", "--expansion", "2", "--h-cycles", "2", "--l-cycles", "2",
        "--halt-max-steps", "4", "--puzzle-emb-len", "2", "--d-state", "8", "--headdim", "8"]
PRESETS = ("trm-attn", "tr-mamba2attn", "trm-mlpt", "tr-mamba2mlpt")
STEPS, BATCH, LR, WARMUP, EMA, EXPLORATION = 50, 4, 1e-3, 5, 0.9, 0.5
# Bounds of the agreement: fp32 sums in another order, compounded over 50 steps (measured: see the test).
LOSS_RTOL, WEIGHT_ATOL = 1e-3, 1e-4


@pytest.fixture(scope="module")
def runs(bin_dir, tmp_path_factory):
    """Per preset: (trm-train's step records, its trace, the trained checkpoint, the initial checkpoint)."""
    out = {}
    for preset in PRESETS:
        d = tmp_path_factory.mktemp(preset)
        csv = d / "sudoku.csv"
        run(bin_dir / "trm-data", "generate", "--task", "sudoku", "--size", "4", "--count", "12", "--seed", "5",
            "--threads", "1", "-q", "-o", csv)
        common = ["--task", "sudoku", "--grid", "4", "--preset", preset, *TINY]
        ckpt, init, trace = d / "m.ckpt", d / "init.ckpt", d / "trace.jsonl"
        run(bin_dir / "trm-train", "init", *common, "--seed", "0", "-o", init)
        halting_init(init)
        run(bin_dir / "trm-train", *common, "--data", csv, "--steps", STEPS, "--batch", BATCH, "--lr", LR, "--warmup", WARMUP,
            "--ema", EMA, "--exploration", EXPLORATION, "--eval-count", "0", "--log-every", "1", "--threads", "1", "-q",
            "--trace", trace, "--init", init, "-o", ckpt)
        records = [json.loads(line) for line in open(str(ckpt) + ".metrics.jsonl") if '"train"' in line]
        traces = [json.loads(line) for line in trace.read_text().splitlines()]
        out[preset] = (records, traces, ckpt, init)
    return out


def halting_init(path):
    """The reference initialisation with the q_halt bias at +1 instead of −5, so that slots halt by q_halt from
    the start and exploration decides how long they stay (with −5 every slot runs to halt_max_steps for the
    first hundreds of steps, and neither halting rule would be tested); and the mlp_t output projections at
    half their initial scale: with full scale trm-mlpt's two sequence MLPs iterated H·(L+1) times per step
    amplify fp32 rounding (the two implementations' losses drift apart from 1e-7 to ~1e-4 over 50 steps
    with the same semantics, one step's by 1e-3), which would hide a small semantic error; at half scale the
    recursion is well conditioned, as a trained model's is (tools/official_torch_model.py `randomize`)."""
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file
    with safe_open(str(path), "np") as f:
        metadata = f.metadata()
    tensors = load_file(str(path))
    tensors["q_head.bias"] = np.array([1.0, tensors["q_head.bias"][1]], dtype=np.float32)
    for name in tensors:
        if ".mlp_t" in name and name.endswith("down_proj.weight"):
            tensors[name] = tensors[name] * np.float32(0.5)
    save_file(tensors, str(path), metadata=metadata)


def replay(init, traces, mutation=None):
    """The PyTorch trainer from `init` over the traced steps: (its (loss, lm, halt) per step, the trainer)."""
    cfg, model = model_torch.load_trm_checkpoint(init, "einsum")
    options = train_torch.Options(lr=LR, warmup_steps=WARMUP, total_steps=STEPS, weight_decay=1.0, puzzle_emb_lr=1e-4,
                          puzzle_emb_weight_decay=1.0, ema=EMA, exploration=EXPLORATION, loss="stablemax")
    trainer = train_torch.Trainer(cfg, model, options, BATCH, source=None)
    trainer.mutation = mutation
    return [trainer.step(t) for t in traces], trainer


def problems(records, traces, losses, trainer, ckpt):
    """Where the replay and trm-train differ beyond the bounds (empty: they agree)."""
    from safetensors.numpy import load_file
    found = []
    for r, (loss, lm, halt) in zip(records, losses):
        for name, ours, theirs in (("loss", loss, r["loss"]), ("lm_loss", lm, r["lm_loss"]), ("q_halt_loss", halt, r["q_halt_loss"])):
            if abs(ours - theirs) > LOSS_RTOL * max(abs(theirs), 1e-3):
                found.append(f"step {r['step']}: {name} {ours:.6g} vs trm-train {theirs:.6g}")
    trained = load_file(str(ckpt))
    names = [n[len(model_torch.PREFIX):] for n, _ in trainer.model.named_parameters()]
    worst = max(float(np.abs(s.numpy() - trained[n]).max()) for n, s in zip(names, trainer.shadow))
    if worst > WEIGHT_ATOL:
        found.append(f"EMA weights differ by {worst:.3g}")
    table = float(np.abs(trainer.inner.puzzle_emb.weights.numpy() - trained["puzzle_emb.weights"]).max())
    if table > WEIGHT_ATOL:
        found.append(f"puzzle table differs by {table:.3g}")
    return found


@pytest.mark.parametrize("preset", PRESETS)
def test_fifty_steps_replay_trm_train(runs, preset):
    records, traces, ckpt, init = runs[preset]
    assert len(records) == len(traces) == STEPS
    # The run exercises what it compares: slots refilled at different steps, halting by q_halt before
    # halt_max_steps, and explorations that kept a slot running.
    assert len({len(t["refills"]) for t in traces}) > 1
    assert sum(q > 0 and not h for t in traces for q, h in zip(t["q_halt"], t["halted"])) > 5, "exploration never mattered"
    assert sum(q > 0 and h for t in traces for q, h in zip(t["q_halt"], t["halted"])) > 5, "q_halt never halted a slot"
    losses, trainer = replay(init, traces)
    assert problems(records, traces, losses, trainer, ckpt) == []
    assert trainer.flips <= 2, f"{trainer.flips} halting decisions at |q_halt| < {train_torch.FLIP_BAND} followed the trace"


@pytest.mark.parametrize("mutation", train_torch.MUTATIONS)
def test_each_altered_piece_of_the_semantics_diverges(runs, mutation):
    records, traces, ckpt, init = runs["trm-attn"]
    try:
        losses, trainer = replay(init, traces, mutation)
    except AssertionError as e:  # the replay's halting or refills left trm-train's: caught
        assert "step" in str(e)
        return
    assert problems(records, traces, losses, trainer, ckpt), f"{mutation}: the comparison did not notice"


def test_init_and_trace_refuse_what_they_cannot_do(bin_dir, tmp_path):
    common = ["--task", "sudoku", "--grid", "4", "--preset", "trm-attn", *TINY]
    init = tmp_path / "init.ckpt"
    run(bin_dir / "trm-train", "init", *common, "-o", init)
    wider = [*common[:-len(TINY)], *TINY[:1], "48", *TINY[2:]]
    r = run(bin_dir / "trm-train", *wider, "--steps", "1", "--batch", "2", "--init", init, "-q", "-o", tmp_path / "m.ckpt", ok=False)
    assert r.returncode != 0 and "--init" in r.stderr and "config" in r.stderr, r.stderr
    assert not (tmp_path / "m.ckpt").exists()
    before = init.read_bytes()
    r = run(bin_dir / "trm-train", *common, "--steps", "1", "--batch", "2", "--trace", init, "-q", "-o", tmp_path / "n.ckpt",
            "--init", init, ok=False)
    assert r.returncode != 0 and init.read_bytes() == before, r.stderr  # the trace may not overwrite an input
    r = run(bin_dir / "trm-train", *common, "--steps", "1", "--batch", "2", "--trace", tmp_path / "t.jsonl", "--resume", "-q",
            "-o", tmp_path / "n.ckpt", ok=False)
    assert r.returncode != 0 and "--trace" in r.stderr, r.stderr
