"""Writes BENCHMARKS.md from trm-bench's and bench_ort.py's JSON (same models, same run)."""
import datetime
import json
import os
import platform
import subprocess
import sys


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def halting_section(paths):
    """Fixed vs adaptive halting of the same trained model on the same task, from trm-run --json reports."""
    runs = [json.load(open(p)) for p in paths]
    lines = ["", "## Adaptive vs fixed halting", "",
             "A trained model from `models/` (see models/README.md), the same generated test set, one run each. Fixed halting "
             "runs every query for the model's halt_max_steps ACT steps; adaptive halts a query when q_halt > 0 and "
             "refills its batch slot.", "",
             "| model | halting | queries | batch steps | seconds | queries/s | pass@1 |", "|---|---|---|---|---|---|---|"]
    for path, r in zip(paths, runs):
        model = os.path.basename(path).split(".halting-")[0]
        lines.append(f"| {model} | {r['halting']} | {r['queries']} | {r['batch_steps']} | {r['seconds']:.2f} | "
                     f"{r['queries_per_second']:.1f} | {100 * r['pass_at_k']['1']:.1f}% |")
    return lines


def main(trm_path, ort_path, command, halting_paths=()):
    trm, ortr = json.load(open(trm_path)), json.load(open(ort_path))
    ort_by = {(os.path.basename(r["model"]), r["batch"], r["threads"]): r for r in ortr["results"]}
    peaks = trm["peaks"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.date.today().isoformat()} on {cpu_model()}, {os.cpu_count()} cores, "
        f"onnxruntime {ortr['onnxruntime']}, OpenBLAS (Debian libopenblas0-pthread). Random-weight models from "
        "`trm-train init` at the ARC size (S = 916, hidden 512), one ACT step = the H_cycles × (L_cycles + 1) = 15 "
        "unrolled network applications. Timings are best / median of the repeats after one warm-up step; the "
        "machine is shared, so compare ratios measured in the same run, not absolute numbers across runs.",
        "",
        "Peaks measured in the same run: " + ", ".join(
            f"{k.replace('_gflops_t', ' (threads ').replace('sgemm', '512×1536×7328 sgemm').replace('fma', 'fp32 FMA')}) {v:.1f} GFLOP/s"
            for k, v in sorted(peaks.items())) + ".",
        "",
        "| model | batch | threads | trm ms (best / median) | onnxruntime ms (best / median) | speed-up | GEMM GFLOP/s | of sgemm peak | arena MB | allocations per step | Mamba2ScanGate share | scan GFLOP/s (of FMA peak) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in trm["results"]:
        name = os.path.basename(r["model"])
        o = ort_by.get((name, r["batch"], r["threads"]))
        ort_cell = f"{o['ms_best']:.0f} / {o['ms_median']:.0f}" if o else "n/a"
        speed = f"{o['ms_best'] / r['ms_best']:.2f}×" if o else "n/a"
        scan = f"{100 * r['scan_share']:.0f}%" if "scan_share" in r else "-"
        scan_rate = f"{r['scan_gflops']:.1f} ({100 * r['scan_fma_peak_fraction']:.0f}%)" if "scan_gflops" in r else "-"
        lines.append(f"| {name} | {r['batch']} | {r['threads']} | {r['ms_best']:.0f} / {r['ms_median']:.0f} | {ort_cell} | {speed} | "
                     f"{r['gemm_gflops']:.1f} | {100 * r['sgemm_peak_fraction']:.0f}% | {r['arena_mb']:.1f} | "
                     f"{r['allocations_per_step']:.0f} | {scan} | {scan_rate} |")
    lines += ["", "GEMM FLOPs count the projections and the attention products (QKᵀ, PV); the scan's FLOPs are "
              "5·P·N per head and token. The sgemm peak is OpenBLAS on that one shape, measured once per thread count "
              "at the start of the run. The projections run on the same OpenBLAS, but the attention products run on "
              "trm's own 6×16 kernel with K and V packed once per head, so a step can come close to that peak or pass it. "
              "The scan share and rate time the whole fused Mamba2ScanGate op (conv, scan, gate and norm) against "
              "the scan's FLOPs only."]
    if trm.get("trainer"):
        lines += ["", "## Trainer throughput", "",
                  "`trm-train` optimizer steps at the Sudoku 9×9 reference size (hidden 512, H_cycles 3, L_cycles 6, "
                  "S = 97, random init): refill, one ACT step on every slot, backward through the last H-cycle, SignSGD, "
                  "AdamATan2 and EMA. GFLOP/s counts the matmul FLOPs of the step (the 14 no-gradient network "
                  "applications once, the 7 differentiated ones three times, plus the heads) against the sgemm peak of "
                  "the same run" + (" (" + ", ".join(f"{k.replace('_gflops_t', ' threads ')}: {v:.1f} GFLOP/s" for k, v in sorted(trm["trainer_peaks"].items()))
                                     + ", measured with the trainer rows)" if "trainer_peaks" in trm else "") + ".", "",
                  "| preset | batch | threads | s per step (best / median) | samples/s | GFLOP per sample | GFLOP/s | of sgemm peak |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in trm["trainer"]:
            lines.append(f"| {r['preset']} | {r['batch']} | {r['threads']} | {r['s_best']:.2f} / {r['s_median']:.2f} | "
                         f"{r['samples_per_s']:.2f} | {r['gflop_per_sample']:.1f} | {r['gflops']:.1f} | "
                         f"{100 * r['sgemm_peak_fraction']:.0f}% |")
    if halting_paths:
        lines += halting_section(halting_paths)
    lines += ["", "Produced by:", "", "```", command, "```", ""]
    sys.stdout.write("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "make bench", sys.argv[4:])
