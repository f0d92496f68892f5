"""Official-format runs written by PyTorch itself compile and run as the official model computes
(issue 15): tools/official_torch_model.py builds a small random TinyRecursiveReasoningModel_ACTV1,
saves it with a real torch.save beside an all_config.yaml and a dataset folder, trm-compile reads
the run folder and trm-run executes the .trmg; logits and q_halt must equal the PyTorch forward
(float64) within 1e-4 after 1, 2 and 3 ACT steps. Cases: attention with rope and with learned
positions, mlp_t, H_init/L_init in bf16 (the official forward_dtype) and in fp32
(docs/formats.md §1.5-§1.6, docs/model.md §4-§6).

torch is imported unconditionally: `make test` installs it from tools/requirements.txt, so a
missing torch fails these tests instead of skipping them."""
import json
import sys

import numpy as np
import pytest
import torch

from conftest import ROOT, run

sys.path.insert(0, str(ROOT / "tools"))
import official_torch_model as official  # noqa: E402

TOLERANCE = 1e-4
STEPS = (1, 2, 3)

# Sudoku-shaped data (V = n + 2, L = n², docs/tasks.md §1.1) so that trm-compile infers the task;
# three puzzle identifiers, so that rows other than 0 of the puzzle table are exercised.
CASES = {
    "attn-rope": official.Arch(vocab_size=6, seq_len=16, num_puzzle_identifiers=3),
    "attn-learned": official.Arch(vocab_size=8, seq_len=36, num_puzzle_identifiers=3, pos_encodings="learned",
                                  puzzle_emb_len=0, puzzle_emb_ndim=100, L_cycles=3),
    "mlp_t": official.Arch(vocab_size=6, seq_len=16, num_puzzle_identifiers=3, mlp_t=True, pos_encodings="none"),
    "mlp_t-fp32-init": official.Arch(vocab_size=8, seq_len=36, num_puzzle_identifiers=3, mlp_t=True,
                                     forward_dtype="float32", puzzle_emb_len=1, L_layers=1, H_cycles=3),
}


def expected_names(arch):
    """The official state_dict keys and shapes, written out here rather than taken from the module."""
    d, p = arch.hidden_size, "_orig_mod.model.inner."
    width = official.swiglu_width(d, arch.expansion)
    names = {p + "H_init": (d,), p + "L_init": (d,), p + "embed_tokens.embedding_weight": (arch.vocab_size, d),
             p + "lm_head.weight": (arch.vocab_size, d), p + "q_head.weight": (2, d), p + "q_head.bias": (2,),
             p + "puzzle_emb.weights": (arch.num_puzzle_identifiers, arch.puzzle_emb_ndim)}
    if arch.pos_encodings == "learned":
        names[p + "embed_pos.embedding_weight"] = (arch.full_len, d)
    for i in range(arch.L_layers):
        block = f"{p}L_level.layers.{i}."
        if arch.mlp_t:
            seq_width = official.swiglu_width(arch.full_len, arch.expansion)
            names[block + "mlp_t.gate_up_proj.weight"] = (2 * seq_width, arch.full_len)
            names[block + "mlp_t.down_proj.weight"] = (arch.full_len, seq_width)
        else:
            names[block + "self_attn.qkv_proj.weight"] = (3 * d, d)
            names[block + "self_attn.o_proj.weight"] = (d, d)
        names[block + "mlp.gate_up_proj.weight"] = (2 * width, d)
        names[block + "mlp.down_proj.weight"] = (d, width)
    return names


def official_run(tmp_path, arch, seed=0, rows=5):
    """Writes the run folder (an older step_50 with other weights, and step_100) and the dataset
    folder; returns (model of step_100, tokens, puzzle ids)."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, arch.vocab_size, (rows, arch.seq_len))
    ids = np.arange(rows) % arch.num_puzzle_identifiers
    official.write_dataset(tmp_path / "data", arch, tokens, ids)
    data_path = "data/sudoku-extreme-1k-aug-1000"
    official.write_run(tmp_path / "run", official.OfficialTRM(arch).randomize(seed + 100), 50, data_path)
    model = official.OfficialTRM(arch).randomize(seed)
    official.write_run(tmp_path / "run", model, 100, data_path)
    np.save(tmp_path / "tokens.npy", tokens.astype(np.int32))
    np.save(tmp_path / "ids.npy", ids.astype(np.int32))
    return model, tokens, ids


def trm_outputs(bin_dir, tmp_path, steps):
    """trm-run's logits and q_halt after `steps` ACT steps: 2 batch slots for 5 rows, so slots are
    refilled and a fresh carry starts beside a running one."""
    out = tmp_path / f"trm{steps}"
    run(bin_dir / "trm-run", tmp_path / "m.trmg", "--inputs", tmp_path / "tokens.npy", "--puzzle-ids",
        tmp_path / "ids.npy", "--out", out, "--steps", steps, "--batch", 2, "--threads", 1, "-q")
    return np.load(out / "logits.npy"), np.load(out / "q_halt.npy")


@pytest.mark.parametrize("case", list(CASES))
def test_compiled_official_run_matches_pytorch_forward(bin_dir, tmp_path, case):
    arch = CASES[case]
    model, tokens, ids = official_run(tmp_path, arch)

    # The file is a genuine PyTorch checkpoint with exactly the official keys, shapes and dtypes.
    state = torch.load(tmp_path / "run" / "step_100", weights_only=True, map_location="cpu")
    assert {k: tuple(v.shape) for k, v in state.items()} == expected_names(arch)
    init_dtype = torch.bfloat16 if arch.forward_dtype == "bfloat16" else torch.float32
    assert {k: v.dtype for k, v in state.items()} == {
        k: init_dtype if k.endswith(("H_init", "L_init")) else torch.float32 for k in state}

    r = run(bin_dir / "trm-compile", tmp_path / "run", "--dataset", tmp_path / "data", "-o", tmp_path / "m.trmg")
    assert "step_100" in r.stdout, r.stdout
    info = json.loads(run(bin_dir / "trm-info", tmp_path / "m.trmg", "--json").stdout)
    assert (info["H_cycles"], info["L_cycles"], info["puzzle_emb_len"]) == (arch.H_cycles, arch.L_cycles, arch.prefix_len)

    reference = model.act(tokens, ids, max(STEPS))
    # The model is well conditioned: PyTorch's own fp32 forward stays well inside the tolerance, so
    # an error past it is trm's, not fp32 rounding amplified by the recursion.
    fp32 = model.act(tokens, ids, max(STEPS), dtype=torch.float32)
    assert max(np.abs(a[0] - b[0]).max() for a, b in zip(reference, fp32)) <= TOLERANCE / 4
    errors, outputs = [], {}
    for steps in STEPS:
        logits, q_halt = outputs[steps] = trm_outputs(bin_dir, tmp_path, steps)
        want_logits, want_q, _ = reference[steps - 1]
        assert logits.shape == want_logits.shape == (len(tokens), arch.seq_len, arch.vocab_size)
        assert 0.3 < np.abs(want_logits).max() < 10, "logits should be O(1) for the tolerance to mean something"
        errors.append((np.abs(logits - want_logits).max(), np.abs(q_halt - want_q).max()))
    print(f"{case}: max |Δlogit|, |Δq_halt| per step {[(f'{a:.1e}', f'{b:.1e}') for a, b in errors]}")
    assert max(max(e) for e in errors) <= TOLERANCE, f"{case}: {errors}"

    # The comparison can fail: a reference with one L-cycle more, or q_continue taken for q_halt,
    # is far outside the tolerance.
    wrong = model.act(tokens, ids, 1, l_cycles=arch.L_cycles + 1)[0][0]
    assert np.abs(outputs[1][0] - wrong).max() > 100 * TOLERANCE
    assert np.abs(outputs[1][1] - reference[0][2]).max() > 100 * TOLERANCE


def test_official_dataset_folder_scores_as_the_pytorch_predictions(bin_dir, tmp_path):
    """Task mode on the official dataset folder (uint8 rows, per-row puzzle identifiers, fixed
    halting at halt_max_steps): labels equal to the PyTorch argmax for 3 of 5 rows, changed in one
    cell for the other 2, must give exact accuracy 3/5 (docs/tasks.md §7.4)."""
    arch = CASES["attn-rope"]
    model, tokens, ids = official_run(tmp_path, arch)
    logits = model.act(tokens, ids, arch.halt_max_steps)[-1][0]
    top2 = np.sort(logits, axis=-1)[..., -2:]
    margin = top2[..., 1] - top2[..., 0]
    labels = logits.argmax(-1)
    labels[margin < 1e-3] = 0  # a cell near a tie is not scored (0 is the ignored label), nor one predicted 0
    cell = margin[3:].argmax(-1)  # rows 3 and 4: the clearest cell gets another label, never 0
    labels[3 + np.arange(2), cell] = labels[3 + np.arange(2), cell] % (arch.vocab_size - 1) + 1
    official.write_dataset(tmp_path / "data", arch, tokens, ids, labels=labels)
    run(bin_dir / "trm-compile", tmp_path / "run", "--dataset", tmp_path / "data", "-o", tmp_path / "m.trmg", "-q")
    run(bin_dir / "trm-run", tmp_path / "m.trmg", "--task", "sudoku", "--data", tmp_path / "data", "--json",
        tmp_path / "m.json", "-q")
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["puzzles"] == len(tokens)
    assert metrics["pass_at_k"]["1"] == pytest.approx(3 / 5), metrics
