"""tools/ort_oracle.py: the ACT loop (initial carry, feedback, step count) and the comparison, on a
tiny hand-built step graph of standard ONNX ops (no trm-compile needed)."""
import json
import pathlib
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

TOOLS = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOOLS))
import ort_oracle  # noqa: E402

B, S, D, V = 2, 3, 2, 4
H_INIT = np.array([0.5, -1.0], np.float32)
L_INIT = np.array([2.0, 0.25], np.float32)
W = np.arange(D * V, dtype=np.float32).reshape(D, V) / 10 - 0.3


def step_model(halt_max_steps=3):
    """z_H' = z_H + 1 + puzzle_id, z_L' = z_L + z_H', logits = z_L'·W + tokens/100, q_halt = Σ z_H'."""
    f = TensorProto.FLOAT
    nodes = [
        helper.make_node("Cast", ["puzzle_ids"], ["pid"], to=f),
        helper.make_node("Unsqueeze", ["pid", "axes12"], ["pid3"]),
        helper.make_node("Add", ["z_H", "one"], ["h1"]),
        helper.make_node("Add", ["h1", "pid3"], ["z_H_next"]),
        helper.make_node("Add", ["z_L", "z_H_next"], ["z_L_next"]),
        helper.make_node("MatMul", ["z_L_next", "W"], ["proj"]),
        helper.make_node("Cast", ["tokens"], ["tok"], to=f),
        helper.make_node("Mul", ["tok", "centi"], ["tok_small"]),
        helper.make_node("Unsqueeze", ["tok_small", "axis2"], ["tok3"]),
        helper.make_node("Add", ["proj", "tok3"], ["logits"]),
        helper.make_node("ReduceSum", ["z_H_next", "axes12"], ["q_halt"], keepdims=0),
    ]
    inits = [numpy_helper.from_array(v, n) for n, v in [
        ("one", np.float32(1)), ("centi", np.float32(0.01)), ("W", W), ("H_init", H_INIT), ("L_init", L_INIT),
        ("axes12", np.array([1, 2], np.int64)), ("axis2", np.array([2], np.int64))]]
    graph = helper.make_graph(nodes, "act_step", [
        helper.make_tensor_value_info("tokens", TensorProto.INT32, ["B", S]),
        helper.make_tensor_value_info("puzzle_ids", TensorProto.INT32, ["B"]),
        helper.make_tensor_value_info("z_H", f, ["B", S, D]),
        helper.make_tensor_value_info("z_L", f, ["B", S, D]),
    ], [
        helper.make_tensor_value_info("z_H_next", f, ["B", S, D]),
        helper.make_tensor_value_info("z_L_next", f, ["B", S, D]),
        helper.make_tensor_value_info("logits", f, ["B", S, V]),
        helper.make_tensor_value_info("q_halt", f, ["B"]),
    ], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 23)], ir_version=10)
    carry = [{"from": "z_H_next", "to": "z_H", "init": "H_init"}, {"from": "z_L_next", "to": "z_L", "init": "L_init"}]
    helper.set_model_props(model, {"trm.carry": json.dumps(carry), "trm.halt_max_steps": str(halt_max_steps)})
    return model


def expected(tokens, puzzle_ids, steps):
    """The same recurrence in closed form: after n steps z_H = H_init + n (1 + id)."""
    grow = (1.0 + puzzle_ids.astype(np.float64))[:, None, None]
    z_h = H_INIT + steps * grow * np.ones((1, S, D))
    z_l = L_INIT + sum(H_INIT + k * grow for k in range(1, steps + 1)) * np.ones((1, S, D))
    logits = z_l @ W + tokens[..., None] / 100
    return logits, z_h.sum(axis=(1, 2))


@pytest.fixture
def files(tmp_path):
    model_path = tmp_path / "step.trmg"
    onnx.save(step_model(), str(model_path))
    tokens = np.array([[1, 2, 3], [3, 0, 1]], np.int32)
    np.save(tmp_path / "tokens.npy", tokens)
    np.save(tmp_path / "ids.npy", np.array([0, 2], np.int32))
    return tmp_path, model_path, tokens


@pytest.mark.parametrize("steps", [1, 4])
def test_act_loop_feeds_carries_back(files, steps):
    tmp, model_path, tokens = files
    out = tmp / f"oracle{steps}"
    assert ort_oracle.main([str(model_path), "--inputs", str(tmp / "tokens.npy"), "--puzzle-ids", str(tmp / "ids.npy"),
                            "--steps", str(steps), "--out", str(out), "--threads", "1"]) == 0
    logits, q_halt = expected(tokens, np.array([0, 2]), steps)
    np.testing.assert_allclose(np.load(out / "logits.npy"), logits, atol=1e-5)
    np.testing.assert_allclose(np.load(out / "q_halt.npy"), q_halt, atol=1e-5)
    preds = np.load(out / "preds.npy")
    assert preds.dtype == np.int32 and np.array_equal(preds, np.argmax(logits, axis=-1))
    assert np.load(out / "logits.npy").dtype == np.float32


def test_defaults_are_halt_max_steps_and_zero_puzzle_ids(files):
    tmp, model_path, tokens = files
    assert ort_oracle.main([str(model_path), "--inputs", str(tmp / "tokens.npy"), "--out", str(tmp / "d")]) == 0
    logits, _ = expected(tokens, np.zeros(B), 3)
    np.testing.assert_allclose(np.load(tmp / "d" / "logits.npy"), logits, atol=1e-5)


def test_compare_passes_within_atol_and_fails_otherwise(files, capsys):
    tmp, model_path, tokens = files
    base = [str(model_path), "--inputs", str(tmp / "tokens.npy"), "--puzzle-ids", str(tmp / "ids.npy")]
    assert ort_oracle.main(base + ["--out", str(tmp / "ref")]) == 0
    runtime = tmp / "runtime"
    runtime.mkdir()
    logits = np.load(tmp / "ref" / "logits.npy")
    preds = np.load(tmp / "ref" / "preds.npy")

    def write(l, p):
        np.save(runtime / "logits.npy", l.astype(np.float32))
        np.save(runtime / "preds.npy", p.astype(np.int32))
        np.save(runtime / "q_halt.npy", np.load(tmp / "ref" / "q_halt.npy"))
        return ort_oracle.main(base + ["--compare", str(runtime), "--atol", "1e-3"])

    assert write(logits + 5e-4, preds) == 0
    assert "argmax agreement = 6/6" in capsys.readouterr().out
    assert write(logits + 2e-3, preds) == 1
    flipped = preds.copy()
    flipped[0, 0] = (flipped[0, 0] + 1) % V
    assert write(logits, flipped) == 1
    assert "5/6" in capsys.readouterr().out


def test_command_line(files):
    tmp, model_path, _ = files
    run = subprocess.run([sys.executable, str(TOOLS / "ort_oracle.py"), str(model_path), "--inputs",
                          str(tmp / "tokens.npy"), "--steps", "2", "--out", str(tmp / "cli")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "2 ACT steps" in run.stdout and (tmp / "cli" / "preds.npy").exists()
