#!/usr/bin/env python3
"""The bf16 accuracy gate on the trained models (docs/precision.md): every models/*.ckpt is
compiled and evaluated by trm-run in fp32 and in bf16 on the same held-out set, and every pass@K
of bf16 must be within --tolerance points (default 0.5) of fp32's.

Sudoku and Maze models run on their 1000-puzzle test sets (`--limit 1000 --seed 0`, as
models/README.md scores them). The ARC model has 4 held-out puzzles only (models/README.md); it is
run and reported, but 4 puzzles cannot resolve half a point, so it is not gated.

Usage: precision_gate.py --bin DIR [--models DIR] [--select GLOBS] [--limit 1000] [--threads 2] [--json FILE]
Exit status: 0 when every gated model passes, 1 when one fails, 2 on a usage or run error.
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import time

ARC_PUZZLES = "3c9b0459,6150a2bd,67a3c6ac,68b16354"


def task_args(name, limit):
    """trm-run arguments for a shipped model by its name (sudoku6-*, maze9-*, arc4-*), and whether it is gated."""
    if name.startswith("sudoku"):
        return ["--task", "sudoku", "--limit", str(limit), "--seed", "0", "--batch", "64"], True
    if name.startswith("maze"):
        return ["--task", "maze", "--limit", str(limit), "--seed", "0", "--batch", "64"], True
    if name.startswith("arc"):
        return ["--task", "arc", "--split", "train", "--puzzles", ARC_PUZZLES, "--num-aug", "7"], False
    raise ValueError(f"{name}: no task known for this model name (expected sudoku*, maze* or arc*)")


def compare(fp32, bf16, tolerance):
    """Per-K differences (bf16 − fp32, in points) of two trm-run --json results and the gate's verdict:
    (differences, worst absolute difference, passed, problem or None)."""
    a, b = fp32.get("pass_at_k"), bf16.get("pass_at_k")
    if not a or not b:
        return {}, None, False, "a run wrote no pass@K"
    if set(a) != set(b):
        return {}, None, False, f"the runs report different K: fp32 {sorted(a, key=int)}, bf16 {sorted(b, key=int)}"
    if fp32.get("scored_puzzles") != bf16.get("scored_puzzles"):
        return {}, None, False, f"the runs scored {fp32.get('scored_puzzles')} and {bf16.get('scored_puzzles')} puzzles"
    diffs = {k: 100.0 * (b[k] - a[k]) for k in sorted(a, key=int)}
    worst = max(abs(d) for d in diffs.values())
    return diffs, worst, worst <= tolerance, None


def run_model(bin_dir, ckpt, work, limit, threads):
    """Compiles `ckpt` and runs it in both precisions: {precision: (trm-run JSON, wall seconds)}."""
    args, gated = task_args(ckpt.stem, limit)
    trmg = work / f"{ckpt.stem}.trmg"
    subprocess.run([str(bin_dir / "trm-compile"), str(ckpt), "-o", str(trmg), "-q"], check=True, capture_output=True, text=True)
    out = {}
    for precision in ("fp32", "bf16"):
        result = work / f"{ckpt.stem}.{precision}.json"
        t0 = time.monotonic()
        r = subprocess.run(
            [str(bin_dir / "trm-run"), str(trmg), *args, "--threads", str(threads), "--precision", precision, "-q",
             "--json", str(result)],
            capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"trm-run {ckpt.stem} --precision {precision} failed: {r.stderr.strip()}")
        out[precision] = (json.loads(result.read_text()), time.monotonic() - t0)
    return out, gated


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", required=True, type=pathlib.Path, help="directory of trm-compile and trm-run")
    p.add_argument("--models", default="models", type=pathlib.Path, help="directory of the shipped *.ckpt (default models)")
    p.add_argument("--select", default="*.ckpt", help="comma-separated globs of the checkpoints to run (default *.ckpt: all)")
    p.add_argument("--limit", type=int, default=1000, help="Sudoku/Maze test puzzles (default 1000)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--tolerance", type=float, default=0.5, help="largest |bf16 − fp32| per pass@K, in points")
    p.add_argument("--json", type=pathlib.Path, help="write the per-model results as JSON")
    a = p.parse_args(argv)
    for tool in ("trm-compile", "trm-run"):
        if not (a.bin / tool).is_file():
            print(f"precision_gate: {a.bin / tool} does not exist (run make build)", file=sys.stderr)
            return 2
    ckpts = sorted({c for g in a.select.split(",") for c in a.models.glob(g) if c.suffix == ".ckpt"})
    if not ckpts:
        print(f"precision_gate: no checkpoint in {a.models} matches {a.select}", file=sys.stderr)
        return 2
    rows, failed = [], []
    with tempfile.TemporaryDirectory(prefix="trm-precision-gate-") as tmp:
        for ckpt in ckpts:
            try:
                runs, gated = run_model(a.bin, ckpt, pathlib.Path(tmp), a.limit, a.threads)
            except (RuntimeError, ValueError, subprocess.CalledProcessError) as e:
                print(f"precision_gate: {e}", file=sys.stderr)
                return 2
            (f32, t32), (b16, t16) = runs["fp32"], runs["bf16"]
            diffs, worst, passed, problem = compare(f32, b16, a.tolerance)
            row = {
                "model": ckpt.stem, "task": f32.get("task"), "puzzles": f32.get("scored_puzzles"), "gated": gated,
                "fp32_pass_at_k": f32["pass_at_k"], "bf16_pass_at_k": b16["pass_at_k"], "difference_points": diffs,
                "worst_difference_points": worst, "passed": passed, "problem": problem,
                "fp32_seconds": t32, "bf16_seconds": t16, "bf16_execution": b16.get("precision_execution"),
            }
            rows.append(row)
            first = min(f32["pass_at_k"], key=int)
            verdict = ("pass" if passed else "FAIL") if gated else "reported, not gated (< 1000 puzzles)"
            print(f"{ckpt.stem:24s} {row['puzzles']:5} puzzles  pass@{first} fp32 {100 * f32['pass_at_k'][first]:6.2f} %  "
                  f"bf16 {100 * b16['pass_at_k'][first]:6.2f} %  worst |Δ| over K {worst if worst is not None else float('nan'):.2f} pt  "
                  f"{t32:6.1f} s / {t16:6.1f} s  {verdict}" + (f"  ({problem})" if problem else ""))
            if gated and not passed:
                failed.append(ckpt.stem)
    if a.json:
        a.json.write_text(json.dumps({"tolerance_points": a.tolerance, "models": rows}, indent=1, sort_keys=True) + "\n")
    if failed:
        print(f"precision_gate: bf16 differs from fp32 by more than {a.tolerance} points on {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
