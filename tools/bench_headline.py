"""Re-times `make bench`'s headline configuration (batch 8, 2 threads, each precision) in rounds that alternate
trm-bench and onnxruntime on the same .trmg files, so that a slow spell of a shared machine cannot land on one
side of a ratio only. BENCHMARKS.md's goals take each side's best over the main run and these rounds, and list
every round (tools/bench_report.py --headline).

    python tools/bench_headline.py --bin .build/release --models a.trmg,b.trmg --precision fp32,bf16 --rounds 2 \\
        --json headline.json
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
BATCH, THREADS = 8, 2


def trm_round(binary, model, precision, repeat, work):
    out = work / "trm.json"
    subprocess.run([str(binary / "trm-bench"), "--models", model, "--batch", str(BATCH), "--threads", str(THREADS),
                    "--precision", precision, "--repeat", str(repeat), "--json", str(out)], check=True, stdout=sys.stderr)
    return [{"model": r["model"], "precision": r.get("precision", "fp32"), "ms_best": r["ms_best"]}
            for r in json.loads(out.read_text())["results"]]


def ort_round(model, repeat, work):
    out = work / "ort.json"
    subprocess.run([sys.executable, str(HERE / "bench_ort.py"), model, "--batch", str(BATCH), "--threads", str(THREADS),
                    "--repeat", str(repeat), "--json", str(out)], check=True, stdout=sys.stderr)
    return [{"model": r["model"], "ms_best": r["ms_best"]} for r in json.loads(out.read_text())["results"]]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, type=pathlib.Path, help="the release build's products")
    parser.add_argument("--models", required=True, help="comma-separated .trmg files")
    parser.add_argument("--precision", default="fp32,bf16")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", required=True, type=pathlib.Path)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.repeat < 1:
        parser.error("--rounds and --repeat must be at least 1")
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        for i in range(args.rounds):
            for model in args.models.split(","):
                # trm first in even rounds, onnxruntime first in odd ones.
                sides = [("trm", lambda: trm_round(args.bin, model, args.precision, args.repeat, work)),
                         ("onnxruntime", lambda: ort_round(model, args.repeat, work))]
                for side, measure in sides if i % 2 == 0 else sides[::-1]:
                    for row in measure():
                        rounds.append({"round": i, "side": side, "batch": BATCH, "threads": THREADS, **row})
                        print(f"round {i} {side} {pathlib.Path(model).name} {row.get('precision', 'fp32')}: "
                              f"{row['ms_best']:.0f} ms best", flush=True)
    args.json.write_text(json.dumps({"batch": BATCH, "threads": THREADS, "repeat": args.repeat, "rows": rounds}, indent=2))


if __name__ == "__main__":
    main()
