"""Writes BENCHMARKS.md from trm-bench's and bench_ort.py's JSON (same models, same run), trm-run's halting
reports and tools/bench_large.py's JSON."""
import argparse
import datetime
import json
import os
import platform
import re
import sys


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


OFFICIAL_SUFFIX = ".official"


def halting_section(paths):
    """Fixed vs adaptive halting of the same trained model on the same task, from trm-run --json reports
    named NAME.halting-MODE.json (the trm checkpoint) or NAME.official.halting-MODE.json (the official
    run folder converted from it, with the same puzzles as an official dataset folder)."""
    rows = []
    for path in paths:
        stem = os.path.basename(path).split(".halting-")[0]
        official = stem.endswith(OFFICIAL_SUFFIX)
        rows.append((stem[:-len(OFFICIAL_SUFFIX)] if official else stem, official, json.load(open(path))))
    lines = ["", "## Adaptive vs fixed halting", "",
             "A trained model from `models/` (see models/README.md), the same generated test set (the 1000 puzzles "
             "`trm-run --task T --limit 1000 --seed 0` generates), one run each, batch 64. Fixed halting "
             "runs every query for the model's halt_max_steps ACT steps; adaptive halts a query when q_halt > 0 and "
             "refills its batch slot. The official evaluation always runs halt_max_steps steps (q_halt is used in "
             "training only): fixed halting is that, and stays the default for official models.", "",
             "Path *official run*: the same weights as an official TinyRecursiveModels run folder (`tools/official_run.py "
             "convert`: `step_1` written by torch.save under the official names, fp32 throughout, and `all_config.yaml`), "
             "compiled with `trm-compile RUN_DIR --dataset DATA_DIR`, and the same puzzles as an official Sudoku/Maze "
             "test dataset folder (`official_run.py testset`), run with `trm-run --data DATA_DIR`. A model with Mamba-2 "
             "sub-layers has no official-format rows: the official architecture (trm.py) has attention or mlp_t blocks "
             "only.", "",
             "| model | path | halting | queries | batch steps | seconds | queries/s | pass@1 |",
             "|---|---|---|---|---|---|---|---|"]
    for model, official, r in rows:
        path = "official run" if official else "trm checkpoint"
        lines.append(f"| {model} | {path} | {r['halting']} | {r['queries']} | {r['batch_steps']} | {r['seconds']:.2f} | "
                     f"{r['queries_per_second']:.1f} | {100 * r['pass_at_k']['1']:.1f}% |")
    checks = []
    by = {(m, o, r["halting"]): r for m, o, r in rows}
    for (model, official, halting), r in by.items():
        base = by.get((model, False, halting))
        if not official or base is None:
            continue
        same = r["pass_at_k"] == base["pass_at_k"] and r["batch_steps"] == base["batch_steps"] \
            and r["queries"] == base["queries"]
        verdict = "the same as" if same else "**different from**"
        checks.append(f"{model}, {halting} halting: the official run's pass@1 {100 * r['pass_at_k']['1']:.1f}% "
                      f"(pass@K for every K, batch steps and queries) is {verdict} the trm checkpoint's "
                      f"({100 * base['pass_at_k']['1']:.1f}%).")
    if checks:
        lines += ["", "Same weights and puzzles, so the two paths must agree exactly:", ""] + [f"- {c}" for c in checks]
    return lines


GIB = 2 ** 30
OPEN_GOAL_S, OPEN_GOAL_RSS, COMPILE_GOAL_RATIO = 2.0, 300e6, 1.5


def gb(n):
    return f"{n / 1e9:.2f} GB"


def mb(n):
    """Megabytes, or gigabytes from 1 GB on."""
    return gb(n) if n >= 1e9 else f"{n / 1e6:.0f} MB"


def large_section(path):
    """The large puzzle tables of tools/bench_large.py's JSON, against issue 15's goals."""
    report = json.load(open(path))
    results = report["results"]
    threads = sorted({r["threads"] for r in results})
    lines = ["", "## Large models", "",
             "Random-weight trm-attn ARC models (`trm-train init --preset trm-attn --task arc --num-puzzle-ids N "
             "--seed 0`; the puzzle table is N × 512 fp32) with the ARC-AGI-1 row count (876,406) and one past "
             f"2 GiB, measured by `tools/bench_large.py` on {report['cpu']}, {report['cores']} cores, "
             f"{report['memory_bytes'] / GIB:.0f} GiB. Each time and peak RSS is the child process's own (wall time, "
             "`ru_maxrss` from `wait4`). Compiled with the default external-data threshold (16 MiB: only the puzzle "
             "table goes to `model.trmg.data`, docs/formats.md §2.5) unless *inline* (`--no-external-data`, possible "
             "under 2 GiB only: a protobuf holds at most 2 GiB). *Open* is `trm-info model.trmg`, which opens and "
             "validates the model as the runtime does; *run* is `trm-run` raw mode, one sample of puzzle id N − 1, "
             f"batch 1, `--steps 2`, {', '.join(map(str, threads))} threads (the model's open included). The official "
             "row is the same checkpoint converted by `tools/official_run.py convert` into a run folder whose `step_1` "
             "torch.save wrote, compiled with `trm-compile RUN_DIR --task arc`. Files are in the page cache, just "
             "written. GB and MB are 10⁹ and 10⁶ bytes, for sizes and RSS alike. A model past 2 GiB has no inline "
             "row: trm-compile writes it only with external data.", "",
             f"Goals (issue 15): compile peak RSS under {COMPILE_GOAL_RATIO}× the checkpoint's size; open in under "
             f"{OPEN_GOAL_S:.0f} s with RSS under {OPEN_GOAL_RSS / 1e6:.0f} MB plus the pages a run touches.", "",
             "| rows | source | layout | checkpoint | files written | compile s / peak RSS | compile RSS / checkpoint | "
             "open s / RSS | run (2 steps) s / RSS | goals met |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        files = f".trmg {mb(r['trmg_bytes'])}"
        if r["data_bytes"]:
            files += f" + .data {gb(r['data_bytes'])}"
        ratio = r["compile"]["rss_bytes"] / r["checkpoint_bytes"]
        goals = []
        if r["layout"] == "external":
            goals.append(ratio < COMPILE_GOAL_RATIO)
            goals += [r["open"]["s"] < OPEN_GOAL_S, r["open"]["rss_bytes"] < OPEN_GOAL_RSS]
            met = "yes" if all(goals) else "**no**"
        else:
            met = "- (comparison)"
        lines.append(f"| {r['rows']:,} | {r['source']} | {r['layout']} | {gb(r['checkpoint_bytes'])} | {files} | "
                     f"{r['compile']['s']:.1f} / {gb(r['compile']['rss_bytes'])} | {ratio:.2f}× | "
                     f"{r['open']['s']:.2f} / {mb(r['open']['rss_bytes'])} | "
                     f"{r['run']['s']:.1f} / {mb(r['run']['rss_bytes'])} | {met} |")
    compared = [r for r in results if "outputs_equal_reference" in r]
    if compared:
        same = all(r["outputs_equal_reference"] for r in compared)
        names = ", ".join(f"{r['rows']:,} rows {r['source']} {r['layout']}" for r in compared)
        lines += ["", ("Logits and q_halt are byte-identical" if same else "**Logits or q_halt differ**") +
                  f" to the external trm-checkpoint compile of the same rows for: {names}."]
    return lines


ARC_VERSIONS = (8, 1001)  # trm-run's default (the original + 7), and the reference evaluation's


def shards_section(path, trm, halting_paths=()):
    """One process vs two shards (tools/bench_shards.py), and the projected cost of a full ARC-AGI-1
    evaluation from this run's ARC-size ACT step times."""
    r = json.load(open(path))
    one, two = r["single"]["1"], r["single"]["2"]
    shard = r["shards"]
    efficiency = shard["queries_per_second"] / (2 * one["queries_per_second"])
    lines = ["", "## Sharded evaluation", "",
             f"`trm-run` on {r['model']} ({r['queries']} generated Sudoku queries, batch {r['batch']}, fixed halting), "
             f"{r['cores']} cores: one process, and two shards of one thread each run at once "
             "(`--candidates s<i>.cand --shard i/2`, timed from the first start to the last exit) and merged "
             "(`trm-run merge`, docs/sharding.md). Scaling efficiency = the shards' queries/s ÷ 2 × the 1-thread "
             "process's.", "",
             "| run | seconds | queries/s |", "|---|---|---|",
             f"| 1 process, 1 thread | {one['seconds']:.2f} | {one['queries_per_second']:.1f} |",
             f"| 1 process, 2 threads | {two['seconds']:.2f} | {two['queries_per_second']:.1f} |",
             f"| 2 shards × 1 thread | {shard['seconds']:.2f} | {shard['queries_per_second']:.1f} |", "",
             f"Scaling efficiency {100 * efficiency:.0f}%; two shards give {shard['queries_per_second'] / two['queries_per_second']:.2f}× "
             "the queries/s of one 2-thread process. The merged pass@K " +
             ("equals" if r["merge_equals_single"] else "**differs from**") + " the single run's."]
    pairs = r.get("arc_eval_test_pairs")
    steps = {(os.path.basename(x["model"]), x.get("precision", "fp32")): x for x in trm["results"]
             if x["batch"] == max(y["batch"] for y in trm["results"]) and x["threads"] == max(y["threads"] for y in trm["results"])}
    rows = [(k, v) for k, v in sorted(steps.items()) if k[0].startswith("trm-attn")]
    if pairs and rows:
        ratios = []
        for hp in halting_paths:
            if ".official." in os.path.basename(hp) or not hp.endswith("halting-adaptive.json"):
                continue
            fixed_path = hp.replace("halting-adaptive", "halting-fixed")
            if os.path.exists(fixed_path):
                ratios.append(json.load(open(hp))["batch_steps"] / json.load(open(fixed_path))["batch_steps"])
        adaptive = sum(ratios) / len(ratios) if ratios else None
        lines += ["", f"Projected ARC-AGI-1 evaluation ({pairs} test pairs of the evaluation split, each a query per "
                  "augmented version) on one node like this one, from the ARC-size trm-attn ACT step of this run "
                  f"(batch {rows[0][1]['batch']}, {rows[0][1]['threads']} threads) × 16 ACT steps per query (fixed halting). "
                  "Shards are independent, so N nodes take 1/N of the wall time. "
                  + (f"Adaptive halting is projected with the batch-step ratio the trained Sudoku models measured above "
                     f"({adaptive:.2f}); a trained ARC model's ratio may differ." if adaptive else ""), "",
                  "| precision | s per query-step | versions | queries | node-hours fixed | node-hours adaptive |",
                  "|---|---|---|---|---|---|"]
        for (name, precision), x in rows:
            per = x["ms_best"] / 1000 / x["batch"]
            for versions in ARC_VERSIONS:
                q = pairs * versions
                hours = q * 16 * per / 3600
                lines.append(f"| {precision} | {per:.2f} | {versions} | {q:,} | {hours:,.1f} | "
                             + (f"{hours * adaptive:,.1f}" if adaptive else "-") + " |")
    return lines


TRAINER_GOAL = 1.5  # issue 19: trm-train ≥ 1.5× the PyTorch step at the reference size


def torch_trainer_section(trainer_rows, paths):
    """The same trainer step in PyTorch (tools/bench_torch_train.py, same make bench run): at the reference
    size against trm-bench --trainer's rows (each of trm's precisions), at the shipped models' small size
    against trm-train's own per-step times, which the script measures right after its PyTorch timing in the
    same arithmetic; then the speed goal: the fastest trm step against the fastest PyTorch step."""
    reports = [json.load(open(p)) for p in paths]
    rows = [r for report in reports for r in report["results"]]
    versions = sorted({report["torch"] for report in reports})
    attention = sorted({report.get("attention", "sdpa") for report in reports})
    trm_by = {(r["preset"], r["batch"], r["threads"], r.get("precision", "fp32")): r for r in trainer_rows}
    lines = ["", "### The same step in PyTorch", "",
             f"`tools/bench_torch_train.py`: PyTorch {', '.join(versions)}, eager, `torch.set_num_threads(threads)`, "
             "fp32, and with `--dtype bf16` the forward under `torch.autocast(\"cpu\", dtype=torch.bfloat16)` (PyTorch's "
             "own CPU mixed precision, fp32 master weights), the official TRM module tree of `tools/official_torch_model.py` "
             "(attention through "
             + ("F.scaled_dot_product_attention" if attention == ["sdpa"] else "/".join(attention))
             + ", as the official layers.py), a Mamba-2 mixer of `tools/torch_trm_model.py`'s own for tr-mamba2attn (the scan in "
             "its exact quadratic single-chunk form), the step of `tools/torch_trm_train.py`: the same sizes, recursion (H_cycles − 1 cycles without gradient, the last "
             "with autograd), losses, AdamATan2, SignSGD and EMA, random init, random stand-in puzzles; best / median "
             "of the repeats after one warm-up step. tools/tests/test_bench_torch_train.py checks at a tiny size that "
             "its fp32 losses over three steps (to 1e-5) and the EMA weights and puzzle table after them (to 5e-6) equal "
             "trm-train's, from the same checkpoint and data. trm's bf16 runs every Linear product (forward, input and "
             "weight gradients) and attention's products on bf16 operands with fp32 sums (`trm-train --precision bf16`, "
             "docs/precision.md).",
             "", "| size | preset | batch | threads | PyTorch arithmetic | PyTorch s per step (best / median) | "
             "trm fp32 s per step | PyTorch ÷ trm fp32 | trm bf16 s per step | PyTorch ÷ trm bf16 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        dtype = r.get("dtype", "fp32")
        digits = 2 if r["size"] == "reference" else 3
        cells = []
        for precision in ("fp32", "bf16"):
            if r["size"] == "reference":
                t, source = trm_by.get((r["preset"], r["batch"], r["threads"], precision)), "trm-bench"
            else:
                t, source = (r.get("trm_train") if precision == dtype else None), "trm-train"
            if t:
                cells += [f"{t['s_best']:.{digits}f} / {t['s_median']:.{digits}f} ({source})", f"{r['s_best'] / t['s_best']:.2f}×"]
            else:
                cells += ["-", "-"]
        if r["size"] == "reference":
            size = "Sudoku 9×9 reference (hidden 512)"
        else:
            size = f"Sudoku 6×6 small (hidden {r['config']['hidden']}, as models/)" if r["size"] == "small" else r["size"]
        arithmetic = "fp32" if dtype == "fp32" else "bf16 autocast"
        lines.append(f"| {size} | {r['preset']} | {r['batch']} | {r['threads']} | {arithmetic} | "
                     f"{r['s_best']:.{digits}f} / {r['s_median']:.{digits}f} | " + " | ".join(cells) + " |")
    commands = sorted({re.sub(r"--threads \d+", "--threads T", r["trm_train"]["command"]) for r in rows if "trm_train" in r})
    if commands:
        lines += ["", "trm-train at the small size ran `trm-train " + "`, `trm-train ".join(commands) + "` (generated "
                  "puzzles; each step's time is batch ÷ the samples/s of its `--log-every 1` record, after one warm-up step)."]
    goals = []
    for preset in sorted({r["preset"] for r in rows if r["size"] == "reference"}):
        for threads in sorted({r["threads"] for r in rows if r["size"] == "reference" and r["preset"] == preset}):
            torch_rows = [r for r in rows if r["size"] == "reference" and r["preset"] == preset and r["threads"] == threads]
            trm_rows = [t for (p, _, th, _), t in trm_by.items() if p == preset and th == threads]
            if not torch_rows or not trm_rows:
                continue
            best_torch = min(torch_rows, key=lambda r: r["s_best"])
            best_trm = min(trm_rows, key=lambda t: t["s_best"])
            ratio = best_torch["s_best"] / best_trm["s_best"]
            goals.append(f"- {preset}, {threads} thread(s): trm {best_trm.get('precision', 'fp32')} "
                         f"{best_trm['s_best']:.2f} s against PyTorch's fastest "
                         f"({'fp32' if best_torch.get('dtype', 'fp32') == 'fp32' else 'bf16 autocast'}) "
                         f"{best_torch['s_best']:.2f} s: {ratio:.2f}× (goal ≥ {TRAINER_GOAL}× at 2 threads): "
                         + ("met" if ratio >= TRAINER_GOAL else "**not met**" if threads == 2 else "for information"))
            # The issue's own baseline was PyTorch's default (fp32) eager step: that ratio beside it.
            eager = [r for r in torch_rows if r.get("dtype", "fp32") == "fp32"]
            if eager and best_torch.get("dtype", "fp32") != "fp32":
                goals.append(f"  - against PyTorch's fp32 eager step {eager[0]['s_best']:.2f} s: "
                             f"{eager[0]['s_best'] / best_trm['s_best']:.2f}×")
    if goals:
        lines += ["", "Trainer speed goal (the fastest trm step against the fastest PyTorch step, reference size, "
                  "this run):", ""] + goals
    return lines


def matmul_cell(r, peaks):
    """The MatMul nodes' own GFLOP/s and its fraction of the peak of the row's arithmetic."""
    rate = r.get("matmul_gflops")
    if not rate:
        return "-"
    key = ("bf16" if r.get("precision") == "bf16" else "fma") + f"_gflops_t{r['threads']}"
    peak = peaks.get(key)
    return f"{rate:.1f} ({100 * rate / peak:.0f}%)" if peak else f"{rate:.1f}"


PROFILE_OPS = ("MatMul", "MatMul+SwiGLU", "FusedAttention", "Mamba2ScanGate")


def profile_section(trm):
    """Per-op time and rate of one profiled step, for the largest batch at the most threads."""
    rows = [r for r in trm["results"] if r.get("profile")]
    if not rows:
        return []
    batch, threads = max(r["batch"] for r in rows), max(r["threads"] for r in rows)
    lines = ["", f"Where a step's time goes (one profiled step, batch {batch}, {threads} threads): each op's share of "
             "the step and its GFLOP/s over its own time.", "",
             "| model | precision | " + " | ".join(PROFILE_OPS) + " |", "|---|---|" + "---|" * len(PROFILE_OPS)]
    for r in rows:
        if r["batch"] != batch or r["threads"] != threads:
            continue
        by = {p["op"]: p for p in r["profile"]}
        total = sum(p["seconds"] for p in r["profile"]) or 1
        cells = []
        for op in PROFILE_OPS:
            p = by.get(op)
            cells.append(f"{100 * p['seconds'] / total:.0f}%, {p['gflop'] / p['seconds']:.0f} GFLOP/s"
                         if p and p["seconds"] > 0 and p["gflop"] > 0 else "-")
        lines.append(f"| {os.path.basename(r['model'])} | {r.get('precision', 'fp32')} | " + " | ".join(cells) + " |")
    return lines


# Issue 16's goals at batch 8, 2 threads: (model prefix, precision, against, at least).
GOALS = (("trm-attn", "bf16", "onnxruntime", 1.8), ("trm-attn", "bf16", "trm fp32", 1.6),
         ("tr-mamba2attn", "bf16", "onnxruntime", 4.0), ("trm-attn", "fp32", "onnxruntime", 1.2),
         ("tr-mamba2attn", "fp32", "onnxruntime", 3.0))
BF16_MATMUL_GOAL = 0.65


def best_times(trm, ort_by, headline):
    """Batch-8, 2-thread best times of this run: {(model, precision): ms} for trm and {model: ms} for onnxruntime,
    each the least over the main run and the alternating headline rounds (tools/bench_headline.py), if any."""
    trm_best, ort_best = {}, {}

    def keep(table, key, ms):
        table[key] = min(ms, table.get(key, ms))
    for r in trm["results"]:
        if r["batch"] == 8 and r["threads"] == 2:
            keep(trm_best, (os.path.basename(r["model"]).removesuffix(".trmg"), r.get("precision", "fp32")), r["ms_best"])
    for (name, batch, threads), r in ort_by.items():
        if batch == 8 and threads == 2:
            keep(ort_best, name.removesuffix(".trmg"), r["ms_best"])
    for r in (headline or {}).get("rows", []):
        model = os.path.basename(r["model"]).removesuffix(".trmg")
        if r["side"] == "trm":
            keep(trm_best, (model, r["precision"]), r["ms_best"])
        else:
            keep(ort_best, model, r["ms_best"])
    return trm_best, ort_best


def headline_section(headline):
    """Every alternating round of tools/bench_headline.py, one row per round and model."""
    if not headline or not headline.get("rows"):
        return []
    cells = {}
    for r in headline["rows"]:
        side = r["precision"] if r["side"] == "trm" else "onnxruntime"
        cells.setdefault((r["round"], os.path.basename(r["model"])), {})[side] = r["ms_best"]
    lines = ["", f"Headline rounds (batch 8, 2 threads, best of {headline['repeat']} each; trm-bench and onnxruntime "
             "alternate, trm first in even rounds):", "", "| round | model | trm fp32 ms | trm bf16 ms | onnxruntime fp32 ms |",
             "|---|---|---|---|---|"]
    for (i, model), c in sorted(cells.items()):
        lines.append(f"| {i} | {model} | " + " | ".join(f"{c[k]:.0f}" if k in c else "-" for k in ("fp32", "bf16", "onnxruntime")) + " |")
    return lines


def goals_section(trm, ort_by, headline=None):
    """The speed goals of the bf16 issue, on this run's batch-8, 2-thread best times (the main run and, if any, the
    alternating headline rounds)."""
    by, ort_best = best_times(trm, ort_by, headline)
    if not by:
        return []
    rounds = len({r["round"] for r in (headline or {}).get("rows", [])})
    scope = f"this run: the best of the main run and {rounds} alternating rounds" if rounds else "this run"
    lines = ["", f"Goals (batch 8, 2 threads, {scope}):", ""]
    for model, precision, against, goal in GOALS:
        ms = by.get((model, precision))
        base = ort_best.get(model) if against == "onnxruntime" else by.get((model, "fp32"))
        if not ms or not base:
            continue
        ratio = base / ms
        lines.append(f"- {model} {precision} vs {against}: {ratio:.2f}× (goal ≥ {goal}×): {'met' if ratio >= goal else '**not met**'}")
    peak = trm["peaks"].get("bf16_gflops_t2")
    rows = {(os.path.basename(r["model"]).removesuffix(".trmg"), r.get("precision", "fp32")): r for r in trm["results"]
            if r["batch"] == 8 and r["threads"] == 2}
    for model in ("trm-attn", "tr-mamba2attn"):
        r = rows.get((model, "bf16"))
        if r and r.get("matmul_gflops") and peak:
            f = r["matmul_gflops"] / peak
            lines.append(f"- {model} bf16 MatMul kernels at {100 * f:.0f}% of the bf16 dot peak (goal ≥ "
                         f"{100 * BF16_MATMUL_GOAL:.0f}%): {'met' if f >= BF16_MATMUL_GOAL else '**not met**'}")
    return lines


def accuracy_section(trm, gate_path):
    """bf16 against fp32: trm-bench's ARC-size comparison and tools/precision_gate.py on the trained models."""
    lines = []
    if trm.get("accuracy"):
        lines += ["", "## bf16 accuracy gate at the ARC size (random weights)", "",
                  "The same random-weight ARC-size models in fp32 and bf16 on the same random tokens (batch 2, fixed "
                  "halting; `PrecisionGate` in Sources/Runtime/ACT/PrecisionComparison.swift, which "
                  "Tests/CompilerTests/PrecisionTests.swift gates in `make test`: relative error ≤ 4 % after one step, "
                  "≤ 20 % after two, argmax agreement ≥ 95 % and ≥ 90 %; docs/precision.md derives the bounds).", "",
                  "| model | ACT steps | argmax agreement | relative logit error | worst position |", "|---|---|---|---|---|"]
        for a in trm["accuracy"]:
            lines.append(f"| {os.path.basename(a['model'])} | {a['steps']} | {100 * a['argmax_agreement']:.2f}% | "
                         f"{100 * a['relative_error']:.2f}% | {100 * a['max_row_relative_error']:.2f}% |")
    return lines + gate_section(gate_path)


def gate_section(path):
    """tools/precision_gate.py's JSON: bf16 against fp32 on the trained models of models/ (no section when the
    gate did not run)."""
    if not path or not os.path.exists(path):
        return []
    gate = json.load(open(path))
    rows = gate["models"]
    tolerance = gate["tolerance_points"]
    lines = ["", "## bf16 accuracy gate on the trained models", "",
             "`tools/precision_gate.py` (`make precision-gate`): each checkpoint of `models/` compiled and run by `trm-run` "
             "in fp32 and in bf16 on the same held-out puzzles, fixed halting (Sudoku/Maze: the 1000 puzzles of "
             "`--limit 1000 --seed 0`, one query each, as models/README.md scores them; ARC: the 4 held-out puzzles of "
             "models/README.md × 8 versions, reported but not gated, since one puzzle is 25 points). Each precision runs "
             "as one shard (`--candidates`) scored by `trm-run merge --json`, so the per-query predictions are there to "
             f"compare. Gate: pass@K of bf16 within {tolerance} points of fp32's for every K (pass@1 is the exact "
             "accuracy). *Same predictions* is the share of queries whose decoded grid is identical in both precisions; "
             "*cell accuracy* counts the true output cells each query's prediction gets right. Seconds are trm-run's wall "
             f"time per precision, {gate.get('threads', '?')} threads.", "",
             "| model | puzzles | bf16 execution | fp32 pass@1 | bf16 pass@1 | worst |Δ| over K (points) | fp32 s | bf16 s | "
             "gate | same predictions | cell accuracy fp32 / bf16 |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]

    def pct(x):
        return "n/a" if x is None else f"{100 * x:.1f}%"

    for m in rows:
        first = min(m["fp32_pass_at_k"], key=int)
        if m.get("problem"):
            verdict = f"**fail** ({m['problem']})"
        elif not m["gated"]:
            verdict = "not gated" + (f" ({m['not_gated_reason']})" if m.get("not_gated_reason") else "")
        else:
            verdict = "pass" if m["passed"] else "**fail**"
        worst = "n/a" if m["worst_difference_points"] is None else f"{m['worst_difference_points']:.2f}"
        puzzles = str(m["puzzles"])
        if m.get("queries") not in (None, m["puzzles"]):
            puzzles += f" ({m['queries']} queries)"
        cells = ("n/a" if m.get("fp32_cell_accuracy") is None
                 else f"{pct(m['fp32_cell_accuracy'])} / {pct(m.get('bf16_cell_accuracy'))}")
        lines.append(f"| {m['model']} | {puzzles} | {m['bf16_execution']} | {100 * m['fp32_pass_at_k'][first]:.1f}% | "
                     f"{100 * m['bf16_pass_at_k'][first]:.1f}% | {worst} | {m['fp32_seconds']:.1f} | "
                     f"{m['bf16_seconds']:.1f} | {verdict} | {pct(m.get('identical_query_share'))} | {cells} |")
    gated = [m for m in rows if m["gated"]]
    failed = [m["model"] for m in rows if m.get("problem") or (m["gated"] and not m["passed"])]
    summary = (f"**The gate fails** on {', '.join(failed)}." if failed else
               f"The gate passes on all {len(gated)} gated models.")
    if "seconds" in gate:
        summary += (f" The whole gate ({len(rows)} models, compile and both precisions) took {gate['seconds']:.0f} s wall, "
                    f"{gate['cpu_seconds']:.0f} s CPU.")
    return lines + ["", summary]


def main(trm_path, ort_path, command, halting_paths=(), large_path=None, shards_path=None, torch_paths=(), gate_path=None,
         headline_path=None):
    trm, ortr = json.load(open(trm_path)), json.load(open(ort_path))
    headline = json.load(open(headline_path)) if headline_path else None
    ort_by = {(os.path.basename(r["model"]), r["batch"], r["threads"]): r for r in ortr["results"]}
    peaks = trm["peaks"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.date.today().isoformat()} on {cpu_model()}, {os.cpu_count()} cores, "
        f"onnxruntime {ortr['onnxruntime']}, OpenBLAS (Debian libopenblas0-pthread, {trm.get('openblas_core', 'core not recorded')} "
        "kernels). Random-weight models from "
        "`trm-train init` at the ARC size (S = 916, hidden 512), one ACT step = the H_cycles × (L_cycles + 1) = 15 "
        "unrolled network applications. Timings are best / median of the repeats after one warm-up step; the "
        "machine is shared, so compare ratios measured in the same run, not absolute numbers across runs.",
        "",
        "Peaks measured in the same run: " + ", ".join(
            f"{k.replace('_gflops_t', ' (threads ').replace('sgemm', '512×1536×7328 sgemm').replace('fma', 'fp32 FMA').replace('bf16', 'bf16 dot (VDPBF16PS)')}) {v:.1f} GFLOP/s"
            for k, v in sorted(peaks.items())) + ".",
        "",
        "| model | batch | threads | precision | trm ms (best / median) | onnxruntime fp32 ms (best / median) | speed-up vs onnxruntime | vs trm fp32 | step GEMM GFLOP/s | of sgemm peak | MatMul kernels GFLOP/s (of its peak) | arena MB | allocations per step | Mamba2ScanGate share | scan GFLOP/s (of FMA peak) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    fp32_by = {(os.path.basename(r["model"]), r["batch"], r["threads"]): r for r in trm["results"]
               if r.get("precision", "fp32") == "fp32"}
    for r in trm["results"]:
        name = os.path.basename(r["model"])
        precision = r.get("precision", "fp32")
        o = ort_by.get((name, r["batch"], r["threads"]))
        base = fp32_by.get((name, r["batch"], r["threads"]))
        vs_fp32 = f"{base['ms_best'] / r['ms_best']:.2f}×" if base and precision != "fp32" else "-"
        of_bf16 = matmul_cell(r, peaks)
        if precision != "fp32" and r.get("precision_execution", "").find("emulated") >= 0:
            precision += " (emulated)"
        ort_cell = f"{o['ms_best']:.0f} / {o['ms_median']:.0f}" if o else "n/a"
        speed = f"{o['ms_best'] / r['ms_best']:.2f}×" if o else "n/a"
        scan = f"{100 * r['scan_share']:.0f}%" if "scan_share" in r else "-"
        scan_rate = f"{r['scan_gflops']:.1f} ({100 * r['scan_fma_peak_fraction']:.0f}%)" if "scan_gflops" in r else "-"
        lines.append(f"| {name} | {r['batch']} | {r['threads']} | {precision} | {r['ms_best']:.0f} / {r['ms_median']:.0f} | "
                     f"{ort_cell} | {speed} | {vs_fp32} | "
                     f"{r['gemm_gflops']:.1f} | {100 * r['sgemm_peak_fraction']:.0f}% | {of_bf16} | {r['arena_mb']:.1f} | "
                     f"{r['allocations_per_step']:.0f} | {scan} | {scan_rate} |")
    lines += ["", "GEMM FLOPs count the projections and the attention products (QKᵀ, PV); the scan's FLOPs are "
              "5·P·N per head and token. *Step GEMM GFLOP/s* divides them by the whole step's time; *MatMul kernels* "
              "divides the MatMul nodes' FLOPs by those nodes' own time in one profiled step (`trm-bench --profile`), "
              "against the fp32 FMA peak for fp32 rows and the bf16 dot peak for bf16 rows. The sgemm peak is OpenBLAS "
              "on that one shape, measured once per thread count at the start of the run. On AVX-512 CPUs fp32 MatMuls "
              "run on trm's own GEMM over weights packed at session creation, elsewhere on OpenBLAS; attention runs on "
              "trm's own per-head kernel with K and V packed once per head, so a step can pass the sgemm peak. The "
              "scan share and rate time the whole fused Mamba2ScanGate op (conv, scan, gate and norm) against the "
              "scan's FLOPs only. bf16 rows run every MatMul on bf16-packed weights and attention's QKᵀ and P·V on "
              "bf16 operands, with fp32 sums (docs/precision.md); the softmax, the scan and the norms stay fp32. "
              "Whether bf16 pays depends on the CPU's VDPBF16PS rate against its fp32 FMA rate: both peaks are above."]
    lines += profile_section(trm)
    lines += goals_section(trm, ort_by, headline)
    lines += headline_section(headline)
    lines += accuracy_section(trm, gate_path)
    if trm.get("trainer"):
        lines += ["", "## Trainer throughput", "",
                  "`trm-train` optimizer steps at the Sudoku 9×9 reference size (hidden 512, H_cycles 3, L_cycles 6, "
                  "S = 97, random init): refill, one ACT step on every slot, backward through the last H-cycle, SignSGD, "
                  "AdamATan2 and EMA. GFLOP/s counts the matmul FLOPs of the step (the 14 no-gradient network "
                  "applications once, the 7 differentiated ones three times, plus the heads) against the sgemm peak of "
                  "the same run" + (" (" + ", ".join(f"{k.replace('_gflops_t', ' threads ')}: {v:.1f} GFLOP/s" for k, v in sorted(trm["trainer_peaks"].items()))
                                     + ", measured with the trainer rows)" if "trainer_peaks" in trm else "") + ".", "",
                  "| preset | batch | threads | precision | s per step (best / median) | samples/s | GFLOP per sample | GFLOP/s | of sgemm peak |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in trm["trainer"]:
            lines.append(f"| {r['preset']} | {r['batch']} | {r['threads']} | {r.get('precision_execution', r.get('precision', 'fp32'))} | "
                         f"{r['s_best']:.2f} / {r['s_median']:.2f} | "
                         f"{r['samples_per_s']:.2f} | {r['gflop_per_sample']:.1f} | {r['gflops']:.1f} | "
                         f"{100 * r['sgemm_peak_fraction']:.0f}% |")
        if torch_paths:
            lines += torch_trainer_section(trm["trainer"], torch_paths)
    if halting_paths:
        lines += halting_section(halting_paths)
    if large_path:
        lines += large_section(large_path)
    if shards_path:
        lines += shards_section(shards_path, trm, halting_paths)
    lines += ["", "Produced by:", "", "```", command, "```", ""]
    sys.stdout.write("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("trm", help="trm-bench --json")
    parser.add_argument("ort", help="bench_ort.py --json")
    parser.add_argument("command", nargs="?", default="make bench", help="the command the report says produced it")
    parser.add_argument("halting", nargs="*", help="trm-run --json reports NAME[.official].halting-MODE.json")
    parser.add_argument("--large", help="tools/bench_large.py --json")
    parser.add_argument("--shards", help="tools/bench_shards.py --json")
    parser.add_argument("--torch-train", action="append", default=[], help="tools/bench_torch_train.py --json (repeatable)")
    parser.add_argument("--precision-gate", help="tools/precision_gate.py --json")
    parser.add_argument("--headline", help="tools/bench_headline.py --json")
    args = parser.parse_args()
    main(args.trm, args.ort, args.command, args.halting, args.large, args.shards, args.torch_train, args.precision_gate,
         args.headline)
