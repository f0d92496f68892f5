"""Times trm-train's supervision step in PyTorch (eager, fp32, torch.set_num_threads), for the trainer
ratio of `make bench` (issue 19): the same model, sizes, step and optimizers as `trm-bench --trainer`
(Sources/trm-bench/TrainerBench.swift, Sources/Trainer/Training/TrainingRun.swift).

    python tools/bench_torch_train.py --preset trm-attn,tr-mamba2attn --batch 8 --threads 2 --repeat 3 \\
        --size reference --json torch-train.json
    python tools/bench_torch_train.py --size small --threads 1,2 --trm-train .build/release/trm-train ...

One timed step is `Trainer.step` of tools/torch_trm_train.py (trm-train's `TrainingRun.trainStep`, docs/model.md
§9.1) on the model of tools/torch_trm_model.py: the official TRM module tree of tools/official_torch_model.py with
attention through F.scaled_dot_product_attention, as the official layers.py does (`--attention einsum` keeps that
module's einsum attention), and for tr-mamba2attn a Mamba-2 mixer of trm's own function (the scan in its exact
quadratic form).

Sizes: `reference` is trm-bench --trainer's (Sudoku 9×9, hidden 512, 8 heads, expansion 4, H_cycles 3,
L_cycles 6, S = 81 + 16, 16 ACT steps, Mamba-2 d_state 128 / headdim 64; TrainingOptions' defaults:
stablemax, EMA 0.999); `small` is the shipped Sudoku 6×6 models' (models/README.md: hidden 128, 4 heads,
H_cycles 2, L_cycles 2, one prefix token, 8 ACT steps, d_state 16 / headdim 32, softmax, EMA 0.995,
batch 64 for trm-attn and 32 for tr-mamba2attn). With --trm-train, trm-train itself runs the same
configuration right after (generated puzzles, `--log-every 1`) and its per-step times are recorded
next to PyTorch's: trm-bench --trainer times only the reference size.
"""
import argparse
import dataclasses
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from torch_trm_model import PRESETS, Config, build_model, reference_init, trm_flops_per_sample  # noqa: E402
from torch_trm_train import Examples, Options, Trainer  # noqa: E402


# The two sizes of the benchmark: (task grid, model fields, options, batch per preset).
SIZES = {
    "reference": dict(grid=9, model={}, options={}, batch={"trm-attn": 8, "tr-mamba2attn": 8}),
    "small": dict(grid=6,
                  model=dict(hidden=128, puzzle_emb_ndim=128, heads=4, h_cycles=2, l_cycles=2, halt_max_steps=8,
                             puzzle_emb_len=1),
                  mamba=dict(d_state=16, headdim=32),
                  options=dict(lr=1e-3, warmup_steps=100, weight_decay=0.1, puzzle_emb_lr=1e-4,
                               puzzle_emb_weight_decay=1.0, ema=0.995, loss="softmax"),
                  batch={"trm-attn": 64, "tr-mamba2attn": 32}),
    # For the tests: seconds, not minutes.
    "tiny": dict(grid=4,
                 model=dict(hidden=32, puzzle_emb_ndim=32, heads=2, expansion=2, h_cycles=2, l_cycles=2,
                            halt_max_steps=4, puzzle_emb_len=2),
                 mamba=dict(d_state=8, headdim=8),
                 options=dict(lr=1e-3, warmup_steps=1),
                 batch={"trm-attn": 4, "tr-mamba2attn": 4}),
}


def sudoku_config(preset, size):
    """The config trm builds for `preset` on Sudoku at `size` (Preset.config(task: .sudoku, grid:) and the
    shipped models' overrides)."""
    s = SIZES[size]
    n = s["grid"]
    fields = dict(sublayers=PRESETS[preset], vocab=n + 2, seq_len=n * n, **s["model"])
    if "mamba2" in PRESETS[preset]:
        fields.update(s.get("mamba", {}))
    return Config(**fields)


def size_options(size):
    return Options(**SIZES[size]["options"])


# ---------------------------------------------------------------- timing


def time_torch(preset, size, batch, threads, repeat, attention="sdpa", dtype="fp32"):
    cfg, options = sudoku_config(preset, size), size_options(size)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = reference_init(build_model(cfg, attention), seed=1)
    trainer = Trainer(cfg, model, options, batch, Examples.random_sudoku(cfg, max(batch, 8)))
    trainer.autocast = dtype == "bf16"
    trainer.step()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        trainer.step()
        times.append(time.perf_counter() - t0)
    flops = trm_flops_per_sample(cfg, model)
    best, median = min(times), statistics.median(times)
    return {"preset": preset, "size": size, "batch": batch, "threads": threads, "s_best": best, "s_median": median,
            "samples_per_s": batch / best, "gflop_per_sample": flops / 1e9, "gflops": batch * flops / best / 1e9,
            "params": sum(p.numel() for p in trainer.dense), "config": dataclasses.asdict(cfg),
            "loss": options.loss, "ema": options.ema, "dtype": dtype}


def trm_train_command(binary, preset, size, batch, threads, steps, output, precision="fp32"):
    """The trm-train command of the same configuration (the shipped models' flags for `small`)."""
    cfg, o = sudoku_config(preset, size), size_options(size)
    n = SIZES[size]["grid"]
    cmd = [str(binary), "--task", "sudoku", "--grid", str(n), "--preset", preset, "--hidden", str(cfg.hidden),
           "--heads", str(cfg.heads), "--expansion", str(cfg.expansion), "--h-cycles", str(cfg.h_cycles),
           "--l-cycles", str(cfg.l_cycles), "--halt-max-steps", str(cfg.halt_max_steps),
           "--puzzle-emb-len", str(cfg.puzzle_emb_len), "--steps", str(steps), "--batch", str(batch), "--lr", str(o.lr),
           "--warmup", str(o.warmup_steps), "--weight-decay", str(o.weight_decay), "--puzzle-emb-lr", str(o.puzzle_emb_lr),
           "--puzzle-emb-weight-decay", str(o.puzzle_emb_weight_decay), "--loss", o.loss,
           "--exploration", str(o.exploration), "--train-count", str(max(batch, 8)), "--eval-count", "0",
           "--log-every", "1", "--checkpoint-every", "1000000000", "--threads", str(threads), "--seed", "0", "-q",
           "--precision", precision]
    cmd += ["--ema", str(o.ema)] if o.ema is not None else ["--no-ema"]
    if "mamba2" in cfg.sublayers:
        cmd += ["--d-state", str(cfg.d_state), "--headdim", str(cfg.headdim)]
    return cmd + ["-o", str(output)]


def time_trm_train(binary, preset, size, batch, threads, repeat, precision="fp32"):
    """trm-train's own per-step times (batch / samples_per_s of each `--log-every 1` record, which times
    the optimizer step alone) for 1 warm-up + `repeat` steps of the same configuration."""
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "m.ckpt"
        cmd = trm_train_command(binary, preset, size, batch, threads, 1 + repeat, out, precision)
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        records = [json.loads(line) for line in open(str(out) + ".metrics.jsonl")]
    times = [batch / r["samples_per_s"] for r in records if r["kind"] == "train" and r["step"] > 1]
    assert len(times) == repeat, records
    shown = cmd[1:-1] + ["m.ckpt"]  # the temporary output's path is of no interest
    return {"s_best": min(times), "s_median": statistics.median(times), "command": " ".join(shown)}


def fmt(seconds):
    return f"{seconds:.3g}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="trm-attn,tr-mamba2attn", help="comma-separated: " + ", ".join(PRESETS))
    parser.add_argument("--size", default="reference", help="comma-separated: reference, small (tiny: for the tests)")
    parser.add_argument("--batch", help="comma-separated batch sizes (default: reference 8; small the shipped models')")
    parser.add_argument("--threads", default="2", help="comma-separated thread counts")
    parser.add_argument("--repeat", type=int, default=3, help="timed steps after one warm-up step")
    parser.add_argument("--attention", default="sdpa", choices=["sdpa", "einsum"],
                        help="F.scaled_dot_product_attention (the official layers.py) or official_torch_model's einsum")
    parser.add_argument("--dtype", default="fp32",
                        help="comma-separated: fp32 (the semantics test's arithmetic), bf16 (torch.autocast to bfloat16 "
                             "around the forward, PyTorch's CPU mixed precision; timing only)")
    parser.add_argument("--trm-train", help="also time trm-train (this binary) on the same configurations")
    parser.add_argument("--json", help="write the results as JSON")
    args = parser.parse_args(argv)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set, or inter-op work already started (a second call in one process)
        pass
    dtypes = args.dtype.split(",")
    if any(d not in ("fp32", "bf16") for d in dtypes):
        parser.error(f"--dtype: {args.dtype!r} is not a list of fp32 and bf16")
    rows, threads_before = [], torch.get_num_threads()
    for size in args.size.split(","):
        if size not in SIZES:
            parser.error(f"unknown size {size!r}")
        for preset in args.preset.split(","):
            if preset not in PRESETS:
                parser.error(f"unknown preset {preset!r}")
            batches = [int(b) for b in args.batch.split(",")] if args.batch else [SIZES[size]["batch"][preset]]
            for batch in batches:
                for threads in [int(t) for t in args.threads.split(",")]:
                    for dtype in dtypes:
                        r = time_torch(preset, size, batch, threads, args.repeat, args.attention, dtype)
                        line = (f"{preset} batch {batch} threads {threads}: {fmt(r['s_best'])} s/step best "
                                f"({fmt(r['s_median'])} median), PyTorch {torch.__version__} eager "
                                f"{'fp32' if dtype == 'fp32' else 'bf16 autocast'}, {size} size, {r['gflops']:.1f} GFLOP/s")
                        if args.trm_train:
                            r["trm_train"] = time_trm_train(args.trm_train, preset, size, batch, threads, args.repeat, dtype)
                            r["torch_over_trm"] = r["s_best"] / r["trm_train"]["s_best"]
                            line += (f"; trm-train {fmt(r['trm_train']['s_best'])} s/step best "
                                     f"(PyTorch ÷ trm = {r['torch_over_trm']:.2f})")
                        print(line, flush=True)
                        rows.append(r)
    torch.set_num_threads(threads_before)
    if args.json:
        report = {"torch": torch.__version__, "attention": args.attention, "repeat": args.repeat,
                  "mamba2": "Mamba-2 mixer of tools/torch_trm_model.py (quadratic SSD form of the scan)",
                  "cpu_count": os.cpu_count(), "results": rows}
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
