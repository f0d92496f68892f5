"""Runs a compiled .trmg (one ACT step) in onnxruntime through its ONNX function bodies: an oracle
for our runtime that shares none of its code (docs/formats.md §3, §2.3).

    python tools/ort_oracle.py model.trmg --inputs tokens.npy [--puzzle-ids ids.npy] [--steps N]
                               [--out DIR] [--compare DIR] [--atol 1e-3] [--threads T]

The graph maps (tokens [B, L] int32, puzzle_ids [B] int32, z_H, z_L [B, S, D]) to (z_H_next,
z_L_next, logits [B, L, V], q_halt [B]). metadata_props carry `trm.carry`, a JSON list of
{"from", "to", "init", "init_values"} (init_values: the [D] vector broadcast to [B, S, D] for the first
step; files written before it name an initializer `init` instead) and
`trm.halt_max_steps`. The oracle runs N steps with fixed halting (every sample runs all N), feeding
each `from` back as its `to`, and writes the final step's logits.npy, preds.npy (int32 argmax) and
q_halt.npy. With --compare DIR it loads the same files written by our runtime and exits 1 when
max |Δlogit| > atol or any argmax differs.
"""
import argparse
import json
import pathlib
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import external_data_helper, numpy_helper

OUTPUT_FILES = ("logits", "preds", "q_halt")


def metadata(model):
    return {p.key: p.value for p in model.metadata_props}


def carry_bindings(model):
    """[(from, to, init)] from metadata_props `trm.carry`; init is the [D] values when the
    binding has them, else the name of the initializer holding them."""
    raw = metadata(model).get("trm.carry")
    if raw is None:
        raise SystemExit("the model has no 'trm.carry' metadata: not a compiled TRM step graph")
    return [(c["from"], c["to"], np.asarray(c["init_values"], np.float32) if c.get("init_values") else c["init"])
            for c in json.loads(raw)]


def initializer(model, name, base_dir):
    """An initializer as numpy, reading external data next to the model when it has some."""
    for t in model.graph.initializer:
        if t.name == name:
            if external_data_helper.uses_external_data(t):
                external_data_helper.load_external_data_for_tensor(t, str(base_dir))
            return numpy_helper.to_array(t)
    raise SystemExit(f"carry initializer '{name}' is not in the model")


def make_session(path, threads=None):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # files from before trm.carry's init_values warn of unused initializers
    if threads:
        options.intra_op_num_threads = threads
    # From the path, so external-data sidecars resolve next to the model.
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_act(session, model, base_dir, tokens, puzzle_ids, steps):
    """The outputs (name -> array) of the last of `steps` ACT steps, from the initial carry."""
    if steps < 1:
        raise SystemExit("--steps must be at least 1")
    batch = tokens.shape[0]
    declared = {i.name: i for i in session.get_inputs()}
    carries = {}
    for src, dst, init in carry_bindings(model):
        if dst not in declared:
            raise SystemExit(f"carry target '{dst}' is not a graph input")
        per_sample = [int(d) for d in declared[dst].shape[1:]]
        vector = init if isinstance(init, np.ndarray) else initializer(model, init, base_dir).astype(np.float32)
        carries[dst] = np.ascontiguousarray(np.broadcast_to(vector, [batch] + per_sample))
    fixed = {"tokens": tokens.astype(np.int32), "puzzle_ids": puzzle_ids.astype(np.int32)}
    fixed = {k: v for k, v in fixed.items() if k in declared}
    names = [o.name for o in session.get_outputs()]
    for _ in range(steps):
        outputs = dict(zip(names, session.run(names, {**fixed, **carries})))
        for src, dst, _ in carry_bindings(model):
            carries[dst] = outputs[src]
    return outputs


def results(outputs):
    logits = np.asarray(outputs["logits"], dtype=np.float32)
    return {"logits": logits, "preds": np.argmax(logits, axis=-1).astype(np.int32),
            "q_halt": np.asarray(outputs["q_halt"], dtype=np.float32)}


def compare(ours, theirs, atol):
    """(ok, report lines): `ours` is the oracle's results, `theirs` the runtime's."""
    if ours["logits"].shape != theirs["logits"].shape:
        return False, [f"logits shape {theirs['logits'].shape} != oracle {ours['logits'].shape}"]
    delta = float(np.max(np.abs(ours["logits"].astype(np.float64) - theirs["logits"]))) if ours["logits"].size else 0.0
    same = ours["preds"] == np.asarray(theirs["preds"])
    lines = [f"max |Δlogit| = {delta:.3g} (atol {atol:g})",
             f"argmax agreement = {int(same.sum())}/{same.size} ({100.0 * same.mean():.2f}%)"]
    if "q_halt" in theirs and np.shape(theirs["q_halt"]) == ours["q_halt"].shape:
        lines.append(f"max |Δq_halt| = {float(np.max(np.abs(ours['q_halt'] - theirs['q_halt']))):.3g} (not gated)")
    return bool(delta <= atol and same.all()), lines


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", type=pathlib.Path)
    p.add_argument("--inputs", type=pathlib.Path, required=True, help="tokens [B, L] .npy")
    p.add_argument("--puzzle-ids", type=pathlib.Path, help="puzzle ids [B] .npy (default zeros)")
    p.add_argument("--steps", type=int, help="ACT steps (default trm.halt_max_steps)")
    p.add_argument("--out", type=pathlib.Path, help="write logits.npy, preds.npy, q_halt.npy here")
    p.add_argument("--compare", type=pathlib.Path, help="directory with our runtime's three .npy files")
    p.add_argument("--atol", type=float, default=1e-3)
    p.add_argument("--threads", type=int)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    model = onnx.load(str(args.model), load_external_data=False)
    tokens = np.load(args.inputs)
    if tokens.ndim != 2:
        raise SystemExit(f"--inputs must be [B, L], got shape {tokens.shape}")
    ids = np.load(args.puzzle_ids) if args.puzzle_ids else np.zeros(tokens.shape[0], np.int32)
    if ids.shape != (tokens.shape[0],):
        raise SystemExit(f"--puzzle-ids must be [{tokens.shape[0]}], got shape {ids.shape}")
    steps = args.steps
    if steps is None:
        if "trm.halt_max_steps" not in metadata(model):
            raise SystemExit("no --steps and no 'trm.halt_max_steps' metadata")
        steps = int(metadata(model)["trm.halt_max_steps"])
    session = make_session(args.model, args.threads)
    ours = results(run_act(session, model, args.model.parent, tokens, ids, steps))
    print(f"{args.model.name}: B = {tokens.shape[0]}, {steps} ACT steps, logits {list(ours['logits'].shape)}")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for name in OUTPUT_FILES:
            np.save(args.out / f"{name}.npy", ours[name])
    if args.compare:
        theirs = {}
        for name in OUTPUT_FILES:
            path = args.compare / f"{name}.npy"
            if not path.exists():
                raise SystemExit(f"{path} is missing")
            theirs[name] = np.load(path)
        ok, lines = compare(ours, theirs, args.atol)
        print("\n".join(lines))
        print("OK: matches the oracle" if ok else "FAIL: differs from the oracle")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
