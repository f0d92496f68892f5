"""The sections of BENCHMARKS.md past the ACT-step tables, each from its own tool's JSON: trm-run's halting
reports (fixed against adaptive), tools/bench_large.py's puzzle tables, tools/bench_shards.py's sharded
evaluation, and the trainer: trm-bench --trainer's rows with tools/bench_torch_train.py's PyTorch step.
tools/bench_report.py puts them together."""
import json
import os
import re

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


def trainer_section(trm, torch_paths):
    """trm-bench --trainer's rows (trm-train optimizer steps at the reference size), then the same step in
    PyTorch when its JSON is given; nothing when the run timed no trainer."""
    if not trm.get("trainer"):
        return []
    lines = ["", "## Trainer throughput", "",
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
    return lines
