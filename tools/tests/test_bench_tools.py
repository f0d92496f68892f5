"""The benchmark scripts of `make bench` on small inputs: tools/bench_large.py measures a child's own
wall time and peak RSS, and tools/bench_report.py writes the halting section (with the check that the
official-format rows equal the trm-checkpoint rows) and the large-model section (with the goals).
The measured runs themselves are `make bench`'s; these only check the scripts, in well under a second."""
import json
import subprocess
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import bench_large  # noqa: E402
import bench_report  # noqa: E402
import bench_sections  # noqa: E402


def test_measure_reports_the_childs_own_peak_rss_and_time(tmp_path):
    grow = "import time; b = bytearray(300 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(0.2)"
    m = bench_large.measure([sys.executable, "-c", grow], tmp_path, "grow")
    assert m["rss_bytes"] >= 300 * 2**20 and m["s"] >= 0.2
    # A small child reports its own peak, not this process's: an exec'd child's ru_maxrss starts at
    # its spawner's high-water RSS, which this process raises past 300 MB here.
    peak = bytearray(300 * 2**20)
    peak[::4096] = b"x" * len(peak[::4096])
    del peak
    small = bench_large.measure([sys.executable, "-c", "pass"], tmp_path, "small")
    assert small["rss_bytes"] < 100 * 2**20
    assert list(tmp_path.iterdir()) == []  # logs of successful commands are deleted
    with pytest.raises(RuntimeError, match="exited 3: boom"):
        bench_large.measure([sys.executable, "-c", "import sys; sys.stderr.write('boom'); sys.exit(3)"], tmp_path, "fail")
    assert (tmp_path / "fail.err").read_text() == "boom"


def halting_report(tmp_path, name, halting, pass1, batch_steps, queries=1000):
    path = tmp_path / f"{name}.halting-{halting}.json"
    path.write_text(json.dumps({"halting": halting, "queries": queries, "batch_steps": batch_steps, "seconds": 10.0,
                                "queries_per_second": queries / 10.0, "pass_at_k": {"1": pass1, "2": pass1}}))
    return str(path)


def test_halting_section_labels_the_official_path_and_checks_it(tmp_path):
    paths = [halting_report(tmp_path, "m", "fixed", 0.782, 128), halting_report(tmp_path, "m", "adaptive", 0.751, 72),
             halting_report(tmp_path, "m.official", "fixed", 0.782, 128),
             halting_report(tmp_path, "m.official", "adaptive", 0.75, 72),
             halting_report(tmp_path, "mamba", "fixed", 0.896, 128)]
    text = "\n".join(bench_sections.halting_section(paths))
    assert "| m | trm checkpoint | fixed | 1000 | 128 | 10.00 | 100.0 | 78.2% |" in text
    assert "| m | official run | adaptive | 1000 | 72 | 10.00 | 100.0 | 75.0% |" in text
    assert "| mamba | trm checkpoint | fixed |" in text and "mamba, fixed" not in text
    assert "m, fixed halting: the official run's pass@1 78.2% (pass@K for every K, batch steps and queries) is the same as" in text
    assert "m, adaptive halting: the official run's pass@1 75.0% (pass@K for every K, batch steps and queries) is **different from**" in text


def large_record(rows, source, layout, ckpt, compile_rss, open_s, open_rss, **extra):
    return {"rows": rows, "source": source, "layout": layout, "threads": 2, "checkpoint_bytes": ckpt,
            "trmg_bytes": 27_800_000 if layout == "external" else ckpt, "data_bytes": ckpt if layout == "external" else 0,
            "compile": {"s": 8.5, "rss_bytes": compile_rss}, "open": {"s": open_s, "rss_bytes": open_rss},
            "run": {"s": 11.8, "rss_bytes": 118e6}, **extra}


def test_large_section_states_ratios_and_goals(tmp_path):
    results = [large_record(876406, "trm checkpoint", "external", 1.82e9, 1.86e9, 0.19, 104e6),
               large_record(876406, "trm checkpoint", "inline", 1.82e9, 5.37e9, 21.4, 5.36e9, outputs_equal_reference=True),
               large_record(1190000, "trm checkpoint", "external", 2.46e9, 4.0e9, 0.18, 104e6),
               large_record(876406, "official step_N (torch.save zip)", "external", 1.82e9, 1.86e9, 2.5, 104e6,
                            outputs_equal_reference=True)]
    path = tmp_path / "large.json"
    path.write_text(json.dumps({"cpu": "CPU", "cores": 2, "memory_bytes": 24 * 2**30, "results": results}))
    lines = bench_sections.large_section(str(path))
    text = "\n".join(lines)
    assert ("| 876,406 | trm checkpoint | external | 1.82 GB | .trmg 28 MB + .data 1.82 GB | 8.5 / 1.86 GB | 1.02× | "
            "0.19 / 104 MB | 11.8 / 118 MB | yes |") in lines
    assert "| 876,406 | trm checkpoint | inline | 1.82 GB | .trmg 1.82 GB | 8.5 / 5.37 GB | 2.95× |" in text
    assert "| 1,190,000 | trm checkpoint | external | 2.46 GB |" in text and "| 1.63× |" in text
    assert lines[-1].startswith("Logits and q_halt are byte-identical to the external trm-checkpoint compile")
    by_source = {tuple(line.split(" | ")[:3]): line for line in lines if line.startswith("| ")}
    assert by_source[("| 1,190,000", "trm checkpoint", "external")].endswith("| **no** |")  # compile ratio over 1.5×
    assert by_source[("| 876,406", "official step_N (torch.save zip)", "external")].endswith("| **no** |")  # open 2.5 s
    assert by_source[("| 876,406", "trm checkpoint", "inline")].endswith("| - (comparison) |")


def test_report_command_line_takes_halting_files_and_large_json(tmp_path):
    (tmp_path / "trm.json").write_text(json.dumps({"peaks": {"sgemm_gflops_t2": 120.0}, "results": []}))
    (tmp_path / "ort.json").write_text(json.dumps({"onnxruntime": "1.32.0", "results": []}))
    (tmp_path / "large.json").write_text(json.dumps({"cpu": "CPU", "cores": 2, "memory_bytes": 2**34, "results": [
        large_record(876406, "trm checkpoint", "external", 1.82e9, 1.86e9, 0.19, 104e6)]}))
    halting = [halting_report(tmp_path, "m", "fixed", 0.5, 8), halting_report(tmp_path, "m.official", "fixed", 0.5, 8)]
    r = subprocess.run([sys.executable, ROOT / "tools" / "bench_report.py", tmp_path / "trm.json", tmp_path / "ort.json",
                        "make bench BENCH_ARGS='--batch 1'", *halting, "--large", tmp_path / "large.json"],
                       capture_output=True, text=True, check=True)
    out = r.stdout
    assert out.index("## Adaptive vs fixed halting") < out.index("## Large models") < out.index("make bench BENCH_ARGS='--batch 1'")
    assert "| m | official run | fixed |" in out and "is the same as the trm checkpoint's (50.0%)" in out


def test_precision_rows_compare_bf16_with_fp32_and_onnxruntime(tmp_path):
    def row(precision, ms, **extra):
        return {"model": "/b/m.trmg", "batch": 8, "threads": 2, "precision": precision, "ms_best": ms, "ms_median": ms,
                "gemm_gflops": 100.0, "sgemm_peak_fraction": 0.8, "arena_mb": 1.0, "allocations_per_step": 0, **extra}
    (tmp_path / "trm.json").write_text(json.dumps({
        "peaks": {"sgemm_gflops_t2": 120.0, "bf16_gflops_t2": 200.0}, "openblas_core": "SkylakeX",
        "results": [row("fp32", 1000.0), row("bf16", 500.0, matmul_gflops=140.0, precision_execution="bf16 (AVX512_BF16)")]}))
    (tmp_path / "ort.json").write_text(json.dumps({"onnxruntime": "1.32.0", "results": [
        {"model": "/o/m.trmg", "batch": 8, "threads": 2, "ms_best": 1500.0, "ms_median": 1500.0}]}))
    out = subprocess.run([sys.executable, ROOT / "tools" / "bench_report.py", tmp_path / "trm.json", tmp_path / "ort.json"],
                         capture_output=True, text=True, check=True).stdout
    assert "| m.trmg | 8 | 2 | fp32 | 1000 / 1000 | 1500 / 1500 | 1.50× | - |" in out
    assert "| m.trmg | 8 | 2 | bf16 | 500 / 500 | 1500 / 1500 | 3.00× | 2.00× | 100.0 | 80% | 140.0 (70%) |" in out
    assert "SkylakeX kernels" in out and "bf16 dot (VDPBF16PS) (threads 2) 200.0 GFLOP/s" in out


def test_goals_profile_and_accuracy_sections(tmp_path):
    def row(model, precision, ms, **extra):
        return {"model": f"/b/{model}.trmg", "batch": 8, "threads": 2, "precision": precision, "ms_best": ms, "ms_median": ms,
                "gemm_gflops": 100.0, "sgemm_peak_fraction": 0.8, "arena_mb": 1.0, "allocations_per_step": 0, **extra}
    profile = [{"op": "MatMul", "seconds": 3.0, "gflop": 900.0, "nodes": 9}, {"op": "FusedAttention", "seconds": 1.0, "gflop": 200.0, "nodes": 3}]
    trm = {"peaks": {"bf16_gflops_t2": 400.0, "fma_gflops_t2": 200.0, "sgemm_gflops_t2": 180.0},
           "results": [row("trm-attn", "fp32", 9000.0, profile=profile), row("trm-attn", "bf16", 5000.0, matmul_gflops=300.0),
                       row("tr-mamba2attn", "bf16", 9000.0, matmul_gflops=200.0)],
           "accuracy": [{"model": "/b/trm-attn.trmg", "steps": 1, "argmax_agreement": 0.99, "relative_error": 0.015,
                         "max_row_relative_error": 0.02}]}
    ort_by = {("trm-attn.trmg", 8, 2): {"ms_best": 10000.0}, ("tr-mamba2attn.trmg", 8, 2): {"ms_best": 30000.0}}
    goals = bench_report.goals_section(trm, ort_by)
    assert "- trm-attn bf16 vs onnxruntime: 2.00× (goal ≥ 1.8×): met" in goals
    assert "- trm-attn bf16 vs trm fp32: 1.80× (goal ≥ 1.6×): met" in goals
    assert "- tr-mamba2attn bf16 vs onnxruntime: 3.33× (goal ≥ 4.0×): **not met**" in goals
    assert "- trm-attn fp32 vs onnxruntime: 1.11× (goal ≥ 1.2×): **not met**" in goals
    assert "- trm-attn bf16 MatMul kernels at 75% of the bf16 dot peak (goal ≥ 65%): met" in goals
    assert "- tr-mamba2attn bf16 MatMul kernels at 50% of the bf16 dot peak (goal ≥ 65%): **not met**" in goals
    assert "| trm-attn.trmg | fp32 | 75%, 300 GFLOP/s | - | 25%, 200 GFLOP/s | - |" in bench_report.profile_section(trm)
    # Alternating headline rounds: each side's best over the main run and the rounds decides.
    headline = {"repeat": 3, "rows": [
        {"round": 0, "side": "trm", "model": "/h/trm-attn.trmg", "precision": "bf16", "ms_best": 4500.0},
        {"round": 0, "side": "onnxruntime", "model": "/h/trm-attn.trmg", "ms_best": 9000.0},
        {"round": 1, "side": "onnxruntime", "model": "/h/tr-mamba2attn.trmg", "ms_best": 40000.0},
        {"round": 1, "side": "trm", "model": "/h/trm-attn.trmg", "precision": "fp32", "ms_best": 9500.0}]}
    goals = bench_report.goals_section(trm, ort_by, headline)
    assert goals[1] == "Goals (batch 8, 2 threads, this run: the best of the main run and 2 alternating rounds):"
    assert "- trm-attn bf16 vs onnxruntime: 2.00× (goal ≥ 1.8×): met" in goals  # 9000 / 4500
    assert "- trm-attn bf16 vs trm fp32: 2.00× (goal ≥ 1.6×): met" in goals  # 9000 (main) / 4500
    assert "- tr-mamba2attn bf16 vs onnxruntime: 3.33× (goal ≥ 4.0×): **not met**" in goals  # 30000 (main) / 9000
    rows = bench_report.headline_section(headline)
    assert "| 0 | trm-attn.trmg | - | 4500 | 9000 |" in rows and "| 1 | trm-attn.trmg | 9500 | - | - |" in rows
    assert bench_report.headline_section(None) == []
    gate = tmp_path / "gate.json"
    gate.write_text(json.dumps({"tolerance_points": 0.5, "models": [
        {"model": "sudoku6-x", "puzzles": 1000, "gated": True, "passed": False, "bf16_execution": "bf16 (AVX512_BF16)",
         "fp32_pass_at_k": {"1": 0.8}, "bf16_pass_at_k": {"1": 0.79}, "worst_difference_points": 1.0,
         "fp32_seconds": 10.0, "bf16_seconds": 6.0}]}))
    text = "\n".join(bench_report.accuracy_section(trm, str(gate)))
    assert "| trm-attn.trmg | 1 | 99.00% | 1.50% | 2.00% |" in text
    assert "| sudoku6-x | 1000 | bf16 (AVX512_BF16) | 80.0% | 79.0% | 1.00 | 10.0 | 6.0 | **fail** |" in text
    assert bench_report.accuracy_section({"results": []}, str(tmp_path / "absent.json")) == []


def test_shards_section_states_efficiency_and_projects_arc(tmp_path):
    shards = {"model": "m.ckpt", "queries": 800, "batch": 16, "cores": 2, "merge_equals_single": True, "arc_eval_test_pairs": 419,
              "single": {"1": {"seconds": 20.0, "queries_per_second": 40.0}, "2": {"seconds": 16.0, "queries_per_second": 50.0}},
              "shards": {"count": 2, "threads_each": 1, "seconds": 12.5, "queries_per_second": 64.0}}
    (tmp_path / "shards.json").write_text(json.dumps(shards))
    trm = {"results": [{"model": "/b/trm-attn.trmg", "batch": 8, "threads": 2, "precision": "fp32", "ms_best": 8000.0}]}
    fixed, adaptive = halting_report(tmp_path, "m", "fixed", 0.5, 8), halting_report(tmp_path, "m", "adaptive", 0.5, 4)
    text = "\n".join(bench_sections.shards_section(str(tmp_path / "shards.json"), trm, [fixed, adaptive]))
    assert "Scaling efficiency 80%" in text and "1.28× the queries/s" in text and "equals the single run's" in text
    # 419 pairs × 8 versions × 16 steps × 1 s per query-step = 14.9 node-hours; adaptive halves the batch steps.
    assert "| fp32 | 1.00 | 8 | 3,352 | 14.9 | 7.4 |" in text


def test_torch_trainer_section_sets_pytorch_beside_trm(tmp_path):
    torch_json = tmp_path / "torch-train.json"
    torch_json.write_text(json.dumps({"torch": "2.15.0", "attention": "sdpa", "results": [
        {"preset": "trm-attn", "size": "reference", "batch": 8, "threads": 2, "s_best": 1.69, "s_median": 1.71, "config": {}},
        {"preset": "trm-attn", "size": "reference", "batch": 8, "threads": 2, "s_best": 1.60, "s_median": 1.62, "config": {},
         "dtype": "bf16"},
        {"preset": "trm-attn", "size": "small", "batch": 64, "threads": 2, "s_best": 0.216, "s_median": 0.218,
         "config": {"hidden": 128}, "trm_train": {"s_best": 0.329, "s_median": 0.332, "command": "--task sudoku --threads 2"}}]}))
    trainer = [{"preset": "trm-attn", "batch": 8, "threads": 2, "s_best": 2.11, "s_median": 2.14},
               {"preset": "trm-attn", "batch": 8, "threads": 2, "s_best": 1.00, "s_median": 1.10, "precision": "bf16"}]
    text = "\n".join(bench_sections.torch_trainer_section(trainer, [str(torch_json)]))
    assert ("| Sudoku 9×9 reference (hidden 512) | trm-attn | 8 | 2 | fp32 | 1.69 / 1.71 | 2.11 / 2.14 (trm-bench) | 0.80× | "
            "1.00 / 1.10 (trm-bench) | 1.69× |") in text
    assert "| trm-attn | 8 | 2 | bf16 autocast | 1.60 / 1.62 | 2.11 / 2.14 (trm-bench) | 0.76× |" in text
    assert ("| Sudoku 6×6 small (hidden 128, as models/) | trm-attn | 64 | 2 | fp32 | 0.216 / 0.218 | 0.329 / 0.332 (trm-train) "
            "| 0.66× | - | - |") in text
    assert "`trm-train --task sudoku --threads T`" in text
    # The goal takes the fastest of each side: trm bf16 1.00 s against PyTorch's bf16 autocast 1.60 s.
    assert "- trm-attn, 2 thread(s): trm bf16 1.00 s against PyTorch's fastest (bf16 autocast) 1.60 s: 1.60× (goal ≥ 1.5× at 2 threads): met" in text
    assert "  - against PyTorch's fp32 eager step 1.69 s: 1.69×" in text


def test_trainer_section_lists_trm_bench_rows_and_is_empty_without_them():
    row = {"preset": "tr-mamba2attn", "batch": 8, "threads": 2, "s_best": 1.61, "s_median": 1.65, "samples_per_s": 4.97,
           "gflop_per_sample": 30.0, "gflops": 149.1, "sgemm_peak_fraction": 0.75, "precision": "bf16",
           "precision_execution": "bf16 (AVX512_BF16)"}
    text = "\n".join(bench_sections.trainer_section({"trainer": [row], "trainer_peaks": {"sgemm_gflops_t2": 200.0}}, []))
    assert "## Trainer throughput" in text and "sgemm threads 2: 200.0 GFLOP/s" in text
    assert "| tr-mamba2attn | 8 | 2 | bf16 (AVX512_BF16) | 1.61 / 1.65 | 4.97 | 30.0 | 149.1 | 75% |" in text
    assert "### The same step in PyTorch" not in text
    assert bench_sections.trainer_section({"results": []}, []) == []


def test_bench_ort_times_a_freshly_compiled_model(bin_dir, tmp_path):
    """bench_ort.py feeds the carry's start vectors from the metadata of the current .trmg format (no H_init
    initializer) and writes one row per batch and thread count."""
    from conftest import sudoku4_model
    _, model = sudoku4_model(bin_dir, tmp_path, "trm-attn", ["--hidden", "32", "--heads", "2"])
    out = tmp_path / "ort.json"
    subprocess.run([sys.executable, ROOT / "tools" / "bench_ort.py", model, "--batch", "1,2", "--threads", "1", "--repeat", "1",
                    "--json", out], capture_output=True, text=True, check=True)
    rows = json.loads(out.read_text())["results"]
    assert [(r["batch"], r["threads"]) for r in rows] == [(1, 1), (2, 1)] and all(r["ms_best"] > 0 for r in rows)
