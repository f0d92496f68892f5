"""The C API's out-of-memory contract (issue: consolidation, the C API's error contract): an
allocation that fails is TRM_ERR_OUT_OF_MEMORY with a message, not TRM_ERR_INVALID_INPUT and not
an abort, and the process and the model go on working. examples/c/out_of_memory.c lowers its own
address-space limit (setrlimit RLIMIT_AS) after loading the model, so the failures are
deterministic: a batch-65536 arena with 256 MiB to spare, OpenBLAS's buffer with 64 MiB; it also
checks that trm_model_get_info fills the header's struct field by field and writes nothing past it."""
import json
import os
import subprocess

from conftest import ROOT, run, sudoku4_model

SIZE = ["--hidden", "32", "--heads", "4", "--h-cycles", "1", "--l-cycles", "1", "--halt-max-steps", "2"]


def test_allocation_failure_is_out_of_memory_and_the_process_goes_on(bin_dir, tmp_path):
    _, model = sudoku4_model(bin_dir, tmp_path, "trm-attn", SIZE)
    config = json.loads(run(bin_dir / "trm-info", model, "--json").stdout)
    info = [config["seq_len"], config["vocab"], config["num_puzzle_ids"], config["halt_max_steps"], config["hidden"],
            config["seq_len"] + config["puzzle_emb_len"]]
    exe = tmp_path / "out_of_memory"
    run("cc", "-Wall", "-Werror", "-I", ROOT / "include", ROOT / "examples" / "c" / "out_of_memory.c", "-L", bin_dir,
        "-ltrm_runtime", f"-Wl,-rpath,{bin_dir}", "-o", exe)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    r = subprocess.run([str(exe), str(model), ",".join(map(str, info))], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 0, f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    out = r.stdout
    assert "batch 65536 -> out of memory: " in out and "bytes" in out
    assert "batch 1 -> out of memory: not enough address space for OpenBLAS" in out
    assert "256 MiB to spare: batch 2, 1 thread(s) -> same results" in out
    assert "no limit: batch 2, 2 thread(s) -> same results" in out
    assert out.strip().endswith("ok")
