"""Writes BENCHMARKS.md: the ACT-step tables from trm-bench's and bench_ort.py's JSON (same models, same run), then
the sections of tools/bench_sections.py from their tools' JSON (halting, large models, shards, trainer)."""
import argparse
import datetime
import json
import os
import platform
import sys

from bench_sections import halting_section, large_section, shards_section, trainer_section


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


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
             "in fp32 and in bf16 on the same held-out puzzles, fixed halting (Sudoku/Maze: the 1000 test puzzles "
             "models/README.md scores them on, `trm-run --limit 1000 --seed 0` or, for Sudoku 9×9, its `trm-data` CSV "
             "with rating ≥ 1, one query each; ARC: the 4 held-out puzzles of "
             "models/README.md × 8 versions, reported but not gated, since one puzzle is 25 points). Each precision runs "
             "as one shard (`--candidates`) scored by `trm-run merge --json`, so the per-query predictions are there to "
             f"compare. Gate: pass@K of bf16 within {tolerance} points of fp32's for every K (pass@1 is the exact "
             "accuracy). *Same predictions* is the share of queries whose decoded grid is identical in both precisions; "
             "*cell accuracy* counts the true output cells each query's prediction gets right; *solved by one only* counts "
             "the queries fp32 solves and bf16 does not, and the other way round (b / c), and ± is sqrt(b + c) / queries "
             "in points: the size of the pass@1 difference that chance alone gives a bf16 that is no worse (McNemar's "
             "paired count), so a model with many borderline puzzles needs more of them to resolve the tolerance. Seconds are trm-run's wall "
             f"time per precision, {gate.get('threads', '?')} threads.", "",
             "| model | puzzles | bf16 execution | fp32 pass@1 | bf16 pass@1 | worst |Δ| over K (points) | fp32 s | bf16 s | "
             "gate | same predictions | cell accuracy fp32 / bf16 | solved by one only: fp32 / bf16 (± points) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]

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
        flips = ("n/a" if m.get("flip_noise_points") is None
                 else f"{m['solved_fp32_only']} / {m['solved_bf16_only']} (±{m['flip_noise_points']:.2f})")
        lines.append(f"| {m['model']} | {puzzles} | {m['bf16_execution']} | {100 * m['fp32_pass_at_k'][first]:.1f}% | "
                     f"{100 * m['bf16_pass_at_k'][first]:.1f}% | {worst} | {m['fp32_seconds']:.1f} | "
                     f"{m['bf16_seconds']:.1f} | {verdict} | {pct(m.get('identical_query_share'))} | {cells} | {flips} |")
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
    lines += trainer_section(trm, torch_paths)
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
