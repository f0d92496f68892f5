"""Large puzzle tables in `make bench` (issue 15): random-weight trm-attn ARC models whose puzzle
table has the ARC-AGI-1 row count (876,406) and more rows than fit in 2 GiB (1,190,000) are
initialised, compiled, opened and run, and each child process is measured: wall time and peak RSS
(`ru_maxrss` of its own rusage, from os.wait4 in a small launcher: see LAUNCHER), plus the sizes of the files. Writes JSON that
tools/bench_report.py turns into BENCHMARKS.md's "Large models" section.

Per row count N:
- `trm-train init --preset trm-attn --task arc --num-puzzle-ids N --seed 0 -o arc-N.ckpt`
- `trm-compile arc-N.ckpt -o arc-N.trmg -q` (default external data: the puzzle table goes to
  arc-N.trmg.data, docs/formats.md §2.5)
- `trm-info arc-N.trmg` (opens and validates the model as the runtime does: the open time and RSS)
- `trm-run arc-N.trmg --inputs tokens.npy --puzzle-ids ids.npy --out DIR --batch 1 --steps 2 -q`:
  one sample of puzzle id N - 1 (the table's last row), 2 ACT steps.
With --inline-rows N also the same model compiled with `--no-external-data` (one .trmg; only
possible under 2 GiB), and with --official-rows N the same weights as an official run folder
(`tools/official_run.py convert`: step_1 by torch.save, all_config.yaml), compiled with
`trm-compile RUN_DIR --task arc`. Every variant of one N runs the same tokens, and their logits
and q_halt are compared byte for byte with the external trm-checkpoint compile's.

Files are written under --work and deleted as soon as they are measured (the largest N needs about
5 GB at a time); the files are in the page cache when they are opened, having just been written.
"""
import argparse
import datetime
import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np

from bench_report import cpu_model  # the same CPU line as the report

TOOLS = pathlib.Path(__file__).resolve().parent
DEFAULT_ROWS = (876406, 1190000)
ARC_ROWS = 876406


# Forks and execs the command, reaps it with wait4 and writes "seconds ru_maxrss_kib exit_code" to
# argv[1]. A child exec'd straight from this script would not do: Linux starts an exec'd process's
# ru_maxrss at the high-water RSS of the process that spawned it (Python spawns with vfork, so that
# is this script's own peak: over 500 MB under pytest with torch loaded), so a small child would
# report the parent's peak. Forked from this launcher (python -S, about 10 MB) it reports its own.
LAUNCHER = """
import os, sys, time
result, cmd = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(cmd[0], cmd)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(result, "w") as f:
    f.write(f"{seconds!r} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def measure(cmd, log_dir, name):
    """Runs cmd with stdout/stderr in log_dir/name.{out,err}; returns {"s", "rss_bytes"}: the wall
    time from fork to reaping and the child's own peak RSS (`ru_maxrss` from wait4, in KiB on Linux),
    taken by LAUNCHER. Raises with the child's stderr when it fails (the logs stay); deletes the
    logs when it succeeds."""
    out, err, result = (log_dir / f"{name}.{ext}" for ext in ("out", "err", "rusage"))
    with open(out, "wb") as o, open(err, "wb") as e:
        subprocess.run([sys.executable, "-S", "-c", LAUNCHER, result, *map(str, cmd)], stdout=o, stderr=e, check=True)
    seconds, maxrss_kib, code = result.read_text().split()
    if int(code) != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {code}: {err.read_text()[-2000:]}")
    remove(out, err, result)
    return {"s": float(seconds), "rss_bytes": int(maxrss_kib) * 1024}


def size(path):
    return path.stat().st_size if path.exists() else 0


def remove(*paths):
    for p in paths:
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists() or p.is_symlink():
            p.unlink()


def compiled_variant(bin_dir, work, label, source, checkpoint_bytes, compile_args, tokens, ids, threads, reference):
    """Compiles `source` with compile_args, opens and runs the result, deletes it; returns its record."""
    stem = work / label
    model, sidecar, out = stem.with_suffix(".trmg"), pathlib.Path(f"{stem}.trmg.data"), work / f"{label}.out"
    record = {"checkpoint_bytes": checkpoint_bytes}
    record["compile"] = measure([bin_dir / "trm-compile", source, "-o", model, "-q", *compile_args], work, f"{label}.compile")
    record["trmg_bytes"], record["data_bytes"] = size(model), size(sidecar)
    record["open"] = measure([bin_dir / "trm-info", model], work, f"{label}.info")
    record["run"] = measure([bin_dir / "trm-run", model, "--inputs", tokens, "--puzzle-ids", ids, "--out", out,
                             "--batch", 1, "--steps", 2, "--threads", threads, "-q"], work, f"{label}.run")
    outputs = {f: (out / f).read_bytes() for f in ("logits.npy", "q_halt.npy")}
    if reference is not None:
        record["outputs_equal_reference"] = outputs == reference
    remove(model, sidecar, out)
    return record, outputs


def bench_rows(bin_dir, work, rows, inline, official, threads):
    """The records of one row count: the trm checkpoint compiled with external data, then the inline
    and official variants asked for."""
    ckpt = work / f"arc-{rows}.ckpt"
    init = measure([bin_dir / "trm-train", "init", "--preset", "trm-attn", "--task", "arc", "--num-puzzle-ids", rows,
                    "--seed", 0, "-o", ckpt], work, f"arc-{rows}.init")
    config = json.loads(subprocess.run([str(bin_dir / "trm-info"), str(ckpt), "--json"], capture_output=True,
                                       text=True, check=True).stdout)
    tokens, ids = work / f"arc-{rows}.tokens.npy", work / f"arc-{rows}.ids.npy"
    np.save(tokens, np.random.default_rng(0).integers(0, config["vocab"], (1, config["seq_len"])).astype(np.int32))
    np.save(ids, np.array([rows - 1], dtype=np.int32))
    base = {"rows": rows, "preset": "trm-attn", "puzzle_emb_ndim": config["puzzle_emb_ndim"], "threads": threads}
    ckpt_bytes = size(ckpt)
    records = []
    record, reference = compiled_variant(bin_dir, work, f"arc-{rows}", ckpt, ckpt_bytes, [], tokens, ids, threads, None)
    records.append({**base, "source": "trm checkpoint", "layout": "external", "init": init, **record})
    if inline:
        record, _ = compiled_variant(bin_dir, work, f"arc-{rows}-inline", ckpt, ckpt_bytes, ["--no-external-data"],
                                     tokens, ids, threads, reference)
        records.append({**base, "source": "trm checkpoint", "layout": "inline", **record})
    if official:
        run_dir = work / f"arc-{rows}-run"
        convert = measure([sys.executable, TOOLS / "official_run.py", "convert", ckpt, run_dir], work, f"arc-{rows}.convert")
        remove(ckpt)  # the step file holds the same weights; one copy on disk at a time
        step = run_dir / "step_1"
        record, _ = compiled_variant(bin_dir, work, f"arc-{rows}-official", run_dir, size(step), ["--task", "arc"],
                                     tokens, ids, threads, reference)
        records.append({**base, "source": "official step_N (torch.save zip)", "layout": "external", "convert": convert,
                        **record})
        remove(run_dir)
    remove(ckpt, tokens, ids)
    return records


def parse_rows(text):
    return [int(x) for x in text.split(",") if x]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", required=True, type=pathlib.Path, help="directory of the built trm executables")
    parser.add_argument("--work", required=True, type=pathlib.Path, help="directory for the (large, temporary) files")
    parser.add_argument("--json", required=True, type=pathlib.Path, help="where to write the results")
    parser.add_argument("--rows", type=parse_rows, default=list(DEFAULT_ROWS), help="puzzle-table row counts (comma-separated)")
    parser.add_argument("--inline-rows", type=parse_rows, default=[ARC_ROWS],
                        help="row counts also compiled with --no-external-data (each under 2 GiB)")
    parser.add_argument("--official-rows", type=parse_rows, default=[ARC_ROWS],
                        help="row counts also converted to an official run folder and compiled from its step_N")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="trm-run threads (default: all cores)")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    results = []
    for rows in args.rows:
        results += bench_rows(args.bin, args.work, rows, rows in args.inline_rows, rows in args.official_rows, args.threads)
    report = {"date": datetime.date.today().isoformat(), "cpu": cpu_model(), "cores": os.cpu_count(),
              "memory_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), "results": results}
    tmp = args.json.with_name(args.json.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    tmp.replace(args.json)
    for r in results:
        print(f"{r['rows']} rows, {r['source']}, {r['layout']}: compile {r['compile']['s']:.1f} s "
              f"{r['compile']['rss_bytes'] / 1e9:.2f} GB (checkpoint {r['checkpoint_bytes'] / 1e9:.2f} GB); open "
              f"{r['open']['s']:.2f} s {r['open']['rss_bytes'] / 1e6:.0f} MB; run {r['run']['s']:.1f} s "
              f"{r['run']['rss_bytes'] / 1e6:.0f} MB" + (f"; outputs equal: {r['outputs_equal_reference']}"
                                                          if "outputs_equal_reference" in r else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
