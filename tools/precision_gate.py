#!/usr/bin/env python3
"""The bf16 accuracy gate on the trained models (docs/precision.md, issue 16): every models/*.ckpt is
compiled and evaluated by trm-run in fp32 and in bf16 on the same held-out set, and every pass@K of
bf16 (pass@1 is the exact accuracy) must be within --tolerance points (default 0.5) of fp32's.

Sudoku and Maze models run on their test sets as models/README.md scores them, one query per puzzle:
the puzzles trm-run generates (`--limit N --seed 0`), or for Sudoku 9×9 the CSV that `trm-data
generate --task sudoku --size 9 --min-rating 1 --count N --seed 0` writes (CSV_TEST_SETS). Both
generate puzzle i from (seed, i), so the first 1000 of a larger --limit are the README's 1000. Beside
the difference the gate reports the queries solved by one precision only and the chance noise they
put on it (solved_flips). The ARC model is run as models/README.md runs it (its 4 held-out test
pairs, `--split train --puzzles ... --num-aug 7`: 32 queries) and reported,
but not gated: 4 puzzles cannot resolve half a point (one puzzle is 25 points). More ARC queries are
not to be had honestly from this model: its identifier table holds 8 versions of each of its 4
puzzles, so a larger --num-aug adds none (trm-run queries the versions the table names), and any
other ARC puzzle would run on the blank identifier row it never trained with; a model that solves
none of its own 4 puzzles would score 0 there in both precisions, a comparison that cannot fail.

Each precision runs as one shard of the evaluation (`trm-run --candidates FILE --shard 0/1`) and is
scored by `trm-run merge --json`, which writes what a plain `trm-run --json` writes (docs/sharding.md)
and leaves each query's decoded prediction in FILE. From those the gate also reports the share of
queries (and of puzzles) whose prediction is the same in both precisions and each precision's cell
accuracy; a bf16 run that reproduces fp32's q_halt bit for bit on every query fails, since then the
bf16 kernels did not run.

Usage: precision_gate.py --bin DIR [--models DIR] [--select GLOBS] [--limit 1000] [--threads 2]
                         [--tolerance 0.5] [--json FILE]
Exit status: 0 when every gated model passes, 1 when the gate fails, 2 on a usage or run error
(a missing binary, model or directory, a trm-run that fails).
"""
import argparse
import json
import math
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

ARC_PUZZLES = "3c9b0459,6150a2bd,67a3c6ac,68b16354"
PRECISIONS = ("fp32", "bf16")
# Variables that pick a shard (docs/sharding.md §1); --shard 0/1 overrides them, they are removed anyway.
SHARD_VARIABLES = ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT", "JOB_COMPLETION_INDEX")


class GateError(Exception):
    """A run that could not be made or read: exit status 2."""


# Shipped models whose test set is a trm-data CSV rather than the puzzles trm-run generates itself: the
# name prefix and the `trm-data generate` arguments models/README.md gives (count and seed are the gate's).
CSV_TEST_SETS = {"sudoku9": ["--task", "sudoku", "--size", "9", "--min-rating", "1"]}


def csv_test_set(name):
    """The `trm-data generate` arguments of the model's CSV test set, or None when trm-run generates it."""
    return next((args for prefix, args in CSV_TEST_SETS.items() if name.startswith(prefix)), None)


def task_args(name, limit, data=None):
    """trm-run arguments for a shipped model by its name (sudoku*, maze*, arc*), and the reason it is
    not gated (None: gated). `data`: the model's CSV test set (see csv_test_set), already written."""
    for task in ("sudoku", "maze"):
        if name.startswith(task):
            puzzles = ["--data", str(data)] if data is not None else ["--limit", str(limit), "--seed", "0"]
            return ["--task", task, *puzzles, "--batch", "64"], None
    if name.startswith("arc"):
        return (["--task", "arc", "--split", "train", "--puzzles", ARC_PUZZLES, "--num-aug", "7"],
                "only 4 held-out puzzles, < 1000")
    raise ValueError(f"{name}: no task known for this model name (expected sudoku*, maze* or arc*)")


def compare(fp32, bf16, tolerance):
    """Per-K differences (bf16 − fp32, in points) of two trm-run --json results and the gate's verdict:
    (differences, worst absolute difference, passed, problem or None). Runs that cannot be compared
    (no pass@K, other K, other puzzles, a value that is not a number, the wrong precision) fail."""
    a, b = fp32.get("pass_at_k"), bf16.get("pass_at_k")
    if not a or not b:
        return {}, None, False, "a run wrote no pass@K"
    if set(a) != set(b):
        missing = sorted(set(a) ^ set(b), key=int)
        return {}, None, False, (f"the runs report different K (pass@{', pass@'.join(missing)} in one only): "
                                 f"fp32 {sorted(a, key=int)}, bf16 {sorted(b, key=int)}")
    for key in ("scored_puzzles", "queries"):
        if fp32.get(key) != bf16.get(key):
            return {}, None, False, f"the runs have {fp32.get(key)} and {bf16.get(key)} {key.replace('_', ' ')}"
    for want, r in zip(PRECISIONS, (fp32, bf16)):
        if r.get("precision", want) != want:
            return {}, None, False, f"the {want} run reports precision {r.get('precision')}"
    bad = [k for k in a if not all(isinstance(x, (int, float)) and math.isfinite(x) and 0 <= x <= 1 for x in (a[k], b[k]))]
    if bad:
        return {}, None, False, f"pass@{bad[0]} is not a rate in [0, 1]: fp32 {a[bad[0]]}, bf16 {b[bad[0]]}"
    diffs = {k: 100.0 * (b[k] - a[k]) for k in sorted(a, key=int)}
    worst = max(abs(d) for d in diffs.values())
    return diffs, worst, worst <= tolerance + 1e-9, None


def read_candidates(path):
    """A candidate file (docs/sharding.md §2): (header, records in query order)."""
    lines = pathlib.Path(path).read_text().splitlines()
    if len(lines) < 2 or "end" not in json.loads(lines[-1]):
        raise GateError(f"{path}: not a whole candidate file")
    header = json.loads(lines[0])
    records = [json.loads(line) for line in lines[1:-1]]
    if [r["q"] for r in records] != list(range(header["queries"])):
        raise GateError(f"{path}: the records are not queries 0..{header['queries'] - 1}")
    return header, records


def truth_of(header):
    """The lookup from a record to the true output of its puzzle's test pair ([rows, cols, cells]), or None
    when the candidate file's header does not carry it."""
    outputs = {p["name"]: p.get("outputs") for p in header["puzzles"]}

    def truth(record):
        known = outputs.get(record["puzzle"]) or []
        return known[record["test"]] if record["test"] < len(known) else None

    return truth


def cell_accuracy(header, records):
    """Share of the true output cells that the queries' decoded predictions get right (a prediction of
    another shape, or none, gets none of its pair's cells); None when no output is known."""
    truth_for = truth_of(header)
    right = total = 0
    for r in records:
        truth = truth_for(r)
        if truth is None:
            continue
        total += len(truth[2])
        answer = r.get("answer")
        if answer is not None and answer[:2] == truth[:2]:
            right += sum(x == y for x, y in zip(answer[2], truth[2]))
    return right / total if total else None


def solved_flips(header, fp32_records, bf16_records):
    """Queries solved (every output cell right) in one precision only, and the noise they put on the difference
    of the two exact accuracies: with b solved by fp32 only and c by bf16 only out of n paired queries, a
    precision that is no worse still shows |c − b| / n of about sqrt(b + c) / n (McNemar's paired count), so a
    model with many borderline queries can differ by more than the tolerance by chance on 1000 puzzles."""
    truth_for = truth_of(header)

    def solved(r):
        truth = truth_for(r)
        return truth is not None and r.get("answer") == truth

    b = sum(solved(x) and not solved(y) for x, y in zip(fp32_records, bf16_records))
    c = sum(solved(y) and not solved(x) for x, y in zip(fp32_records, bf16_records))
    n = len(fp32_records)
    return {"solved_fp32_only": b, "solved_bf16_only": c,
            "flip_noise_points": 100.0 * math.sqrt(b + c) / n if n else None}


def agreement(fp32_records, bf16_records):
    """How many queries (and puzzles: all of a puzzle's queries) have the same decoded prediction in both
    precisions, and on how many queries bf16's q_halt equals fp32's bit for bit."""
    if [(r["q"], r["puzzle"], r["test"]) for r in fp32_records] != [(r["q"], r["puzzle"], r["test"]) for r in bf16_records]:
        raise GateError("the fp32 and bf16 runs queried different puzzles")
    same, puzzle_same = 0, {}
    for a, b in zip(fp32_records, bf16_records):
        s = a["answer"] == b["answer"]
        same += s
        puzzle_same[a["puzzle"]] = puzzle_same.get(a["puzzle"], True) and s
    n, p = len(fp32_records), len(puzzle_same)
    return {
        "queries": n, "identical_queries": same, "identical_query_share": same / n if n else None,
        "puzzles_queried": p, "identical_puzzles": sum(puzzle_same.values()),
        "identical_puzzle_share": sum(puzzle_same.values()) / p if p else None,
        "identical_q_halt_bits": sum(a["q_halt_bits"] == b["q_halt_bits"] for a, b in zip(fp32_records, bf16_records)),
    }


def unchanged_by_bf16(agree):
    """The problem when bf16 gave fp32's q_halt bit for bit on every query (its products cannot all round the
    same way: the bf16 kernels did not run), else None."""
    n = agree["queries"]
    if n and agree["identical_q_halt_bits"] == n:
        return f"bf16 reproduced fp32's q_halt bit for bit on all {n} queries: the bf16 kernels did not run"
    return None


def run_timed(cmd, what):
    """Runs cmd; returns (wall seconds, CPU seconds of the child). Raises GateError naming `what`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    env = {k: v for k, v in os.environ.items() if k not in SHARD_VARIABLES}
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise GateError(f"{what} exited {r.returncode}: {r.stderr.strip() or r.stdout.strip()}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run_model(bin_dir, ckpt, work, limit, threads, tolerance):
    """Compiles `ckpt`, runs it in both precisions and compares them: the model's row of the report."""
    name = ckpt.stem
    data = None
    if (generate := csv_test_set(name)) is not None:
        data = work / f"{name}.test.csv"
        run_timed([bin_dir / "trm-data", "generate", *generate, "--count", limit, "--seed", "0", "-o", data],
                  f"trm-data generate ({name}'s test set)")
    args, not_gated = task_args(name, limit, data)
    trmg = work / f"{name}.trmg"
    run_timed([bin_dir / "trm-compile", ckpt, "-o", trmg, "-q"], f"trm-compile {ckpt}")
    runs = {}
    for precision in PRECISIONS:
        cand, result = work / f"{name}.{precision}.cand", work / f"{name}.{precision}.json"
        wall, cpu = run_timed([bin_dir / "trm-run", trmg, *args, "--threads", threads, "--precision", precision, "-q",
                               "--candidates", cand, "--shard", "0/1"], f"trm-run {name} --precision {precision}")
        run_timed([bin_dir / "trm-run", "merge", cand, "--json", result, "-q"], f"trm-run merge ({name}, {precision})")
        header, records = read_candidates(cand)
        runs[precision] = {"result": json.loads(result.read_text()), "header": header, "records": records,
                           "seconds": wall, "cpu_seconds": cpu}
    f32, b16 = runs["fp32"], runs["bf16"]
    diffs, worst, passed, problem = compare(f32["result"], b16["result"], tolerance)
    agree = {**agreement(f32["records"], b16["records"]), **solved_flips(f32["header"], f32["records"], b16["records"])}
    if problem is None and (problem := unchanged_by_bf16(agree)):
        passed = False
    row = {"model": name, "task": f32["result"].get("task"), "puzzles": f32["result"].get("scored_puzzles"),
           "gated": not_gated is None, "not_gated_reason": not_gated, "difference_points": diffs,
           "worst_difference_points": worst, "worst_k": max(diffs, key=lambda k: abs(diffs[k])) if diffs else None,
           "passed": passed, "problem": problem, **agree}
    for precision, r in runs.items():
        res = r["result"]
        row[f"{precision}_pass_at_k"] = res.get("pass_at_k")
        row[f"{precision}_exact_accuracy"] = (res.get("pass_at_k") or {}).get("1")
        row[f"{precision}_execution"] = res.get("precision_execution")
        row[f"{precision}_cell_accuracy"] = cell_accuracy(r["header"], r["records"])
        row[f"{precision}_seconds"] = r["seconds"]
        row[f"{precision}_cpu_seconds"] = r["cpu_seconds"]
        row[f"{precision}_compute_seconds"] = res.get("seconds")
        row[f"{precision}_batch_steps"] = res.get("batch_steps")
    return row


def pct(x, digits=1):
    return "n/a" if x is None else f"{100 * x:.{digits}f}%"


def verdict(row):
    if row["problem"]:
        return "FAIL"
    if not row["gated"]:
        return "not gated"
    return "pass" if row["passed"] else "FAIL"


def failures(rows):
    """Models that fail the gate: gated ones beyond the tolerance, and any whose runs cannot be compared."""
    return [r["model"] for r in rows if r["problem"] or (r["gated"] and not r["passed"])]


def table(rows, tolerance):
    head = (f"{'model':24s} {'puzzles':>7s} {'queries':>7s}  {'fp32 exact':>10s} {'bf16 exact':>10s}  {'worst |Δ|':>11s}  "
            f"{'same pred.':>10s}  {'flips (noise)':>14s}  {'cells fp32/bf16':>15s}  {'fp32 s':>6s} {'bf16 s':>6s}  gate (|Δ| ≤ {tolerance} pt)")
    lines = [head]
    for r in rows:
        worst = "n/a" if r["worst_difference_points"] is None else f"{r['worst_difference_points']:.2f} @{r['worst_k']}"
        cells = f"{pct(r['fp32_cell_accuracy'])}/{pct(r['bf16_cell_accuracy'])}"
        flips = f"{r['solved_fp32_only']}/{r['solved_bf16_only']} ±{r['flip_noise_points']:.2f}"
        lines.append(f"{r['model']:24s} {str(r['puzzles']):>7s} {str(r['queries']):>7s}  {pct(r['fp32_exact_accuracy'], 2):>10s} "
                     f"{pct(r['bf16_exact_accuracy'], 2):>10s}  {worst:>11s}  {pct(r['identical_query_share']):>10s}  "
                     f"{flips:>14s}  {cells:>15s}  {r['fp32_seconds']:6.1f} {r['bf16_seconds']:6.1f}  {verdict(r)}"
                     + (f" ({r['problem']})" if r["problem"] else f" ({r['not_gated_reason']})" if not r["gated"] else ""))
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", required=True, type=pathlib.Path, help="directory of trm-compile and trm-run")
    p.add_argument("--models", default="models", type=pathlib.Path, help="directory of the shipped *.ckpt (default models)")
    p.add_argument("--select", default="*.ckpt", help="comma-separated globs of the checkpoints to run (default *.ckpt: all)")
    p.add_argument("--limit", type=int, default=1000, help="Sudoku/Maze test puzzles (default 1000)")
    p.add_argument("--threads", type=int, default=2, help="trm-run threads (default 2)")
    p.add_argument("--tolerance", type=float, default=0.5, help="largest |bf16 − fp32| per pass@K, in points (default 0.5)")
    p.add_argument("--json", type=pathlib.Path, help="write the per-model results as JSON")
    a = p.parse_args(argv)
    if a.limit < 1 or a.threads < 1 or a.tolerance < 0:
        print("precision_gate: --limit and --threads must be at least 1, --tolerance not negative", file=sys.stderr)
        return 2
    for tool in ("trm-compile", "trm-run"):
        if not (a.bin / tool).is_file():
            print(f"precision_gate: {a.bin / tool} does not exist (run make build)", file=sys.stderr)
            return 2
    if not a.models.is_dir():
        print(f"precision_gate: the models directory {a.models} does not exist", file=sys.stderr)
        return 2
    ckpts = sorted({c for g in a.select.split(",") for c in a.models.glob(g) if c.suffix == ".ckpt"})
    if not ckpts:
        print(f"precision_gate: no checkpoint in {a.models} matches {a.select}", file=sys.stderr)
        return 2
    rows = []
    t0, cpu0 = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory(prefix="trm-precision-gate-") as tmp:
        for ckpt in ckpts:
            try:
                rows.append(run_model(a.bin, ckpt, pathlib.Path(tmp), a.limit, a.threads, a.tolerance))
            except (GateError, ValueError, OSError, json.JSONDecodeError, KeyError) as e:
                print(f"precision_gate: {ckpt.name}: {e}", file=sys.stderr)
                return 2
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    total, cpu = time.monotonic() - t0, (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    failed = failures(rows)
    print(table(rows, a.tolerance))
    print(f"{len(rows)} models, {sum(r['gated'] for r in rows)} gated, in {total:.1f} s wall, {cpu:.1f} s CPU "
          f"(--threads {a.threads}); bf16: {rows[0]['bf16_execution']}")
    if a.json:
        a.json.write_text(json.dumps({
            "tolerance_points": a.tolerance, "limit": a.limit, "threads": a.threads, "select": a.select,
            "seconds": total, "cpu_seconds": cpu, "passed": not failed, "failed": failed, "models": rows,
        }, indent=1, sort_keys=True) + "\n")
    if failed:
        print(f"precision_gate: FAILED: bf16 differs from fp32 by more than {a.tolerance} points, or the runs "
              f"cannot be compared, on {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
