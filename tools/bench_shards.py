"""Sharded evaluation in `make bench` (issue 17): queries/s of one process against two shards on
the machine's cores, from a trained model in `models/`, and the facts the report's projection of a
full ARC-AGI-1 evaluation needs (the evaluation split's test pairs). Writes JSON that
tools/bench_report.py turns into BENCHMARKS.md's "Sharded evaluation" section.

Runs, on the same generated test set (`--task sudoku --limit N --seed 0`, batch B, fixed halting):
- one process with 1 thread, and one with 2 threads (`trm-run ... --json`);
- two shards of 1 thread each at the same time (`--candidates s<i>.cand --shard i/2`), timed from
  the first start to the last exit, then `trm-run merge`, whose pass@K must equal the single run's
  (the merge is exact: docs/sharding.md).
Scaling efficiency = the two shards' queries/s ÷ (2 × the 1-thread process's).
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time


def run_json(cmd, path):
    subprocess.run(cmd + ["--json", str(path), "-q"], check=True)
    return json.loads(path.read_text())


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin", required=True, help="directory of the trm executables")
    p.add_argument("--model", required=True, help="a trained Sudoku checkpoint (models/*.ckpt)")
    p.add_argument("--arc", help="ARC-AGI-1 arc1.json (for the evaluation split's test-pair count)")
    p.add_argument("--work", required=True)
    p.add_argument("--limit", type=int, default=800)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--json", required=True)
    a = p.parse_args()
    bin_dir, work = pathlib.Path(a.bin), pathlib.Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    model = work / "model.trmg"
    subprocess.run([bin_dir / "trm-compile", a.model, "-o", model, "-q"], check=True)
    base = [str(bin_dir / "trm-run"), str(model), "--task", "sudoku", "--limit", str(a.limit), "--seed", "0",
            "--batch", str(a.batch)]

    single = {t: run_json(base + ["--threads", str(t)], work / f"single-t{t}.json") for t in (1, 2)}
    shards = [work / f"s{i}.cand" for i in range(2)]
    for s in shards:
        s.unlink(missing_ok=True)
    start = time.perf_counter()
    procs = [subprocess.Popen(base + ["--threads", "1", "--candidates", str(s), "--shard", f"{i}/2", "-q"])
             for i, s in enumerate(shards)]
    codes = [proc.wait() for proc in procs]
    seconds = time.perf_counter() - start
    if any(codes):
        sys.exit(f"a shard failed: exit codes {codes}")
    merged = run_json([str(bin_dir / "trm-run"), "merge", *map(str, shards)], work / "merged.json")
    queries = single[1]["queries"]

    arc_pairs = None
    if a.arc and os.path.exists(a.arc):
        puzzles = json.load(open(a.arc))["eval"]
        arc_pairs = sum(len(p["test"]) for p in puzzles.values())
    result = {
        "model": os.path.basename(a.model), "task": "sudoku", "queries": queries, "batch": a.batch, "cores": os.cpu_count(),
        "single": {str(t): {"seconds": r["seconds"], "queries_per_second": r["queries_per_second"]} for t, r in single.items()},
        "shards": {"count": 2, "threads_each": 1, "seconds": seconds, "queries_per_second": queries / seconds},
        "merge_equals_single": merged["pass_at_k"] == single[1]["pass_at_k"] and merged["queries"] == queries,
        "arc_eval_test_pairs": arc_pairs,
    }
    pathlib.Path(a.json).write_text(json.dumps(result, indent=1, sort_keys=True))
    print(f"1 process 1 thread {single[1]['queries_per_second']:.1f} q/s, 2 threads {single[2]['queries_per_second']:.1f} q/s, "
          f"2 shards {queries / seconds:.1f} q/s; merge equals single run: {result['merge_equals_single']}")


if __name__ == "__main__":
    main()
