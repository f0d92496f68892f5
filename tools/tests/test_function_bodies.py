"""The ONNX function bodies of every ai.trm op agree with the numpy reference (docs/formats.md §2).

onnxruntime runs each Swift-written fixture through its FunctionProto bodies; every node output is
exposed as a graph output and compared with tools/onnx_reference.py, both on onnxruntime's own
inputs to that node (one op's error) and along the reference's own chain (the graph's error).
"""
import pathlib
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import onnx_reference as ref  # noqa: E402

ATOL = 1e-4
# every_op.trmg is SampleGraphs.everyOp(); onnx_variants.trmg (OnnxFunctionTests.variants()) adds
# groups = 2, a reversed SSMScan and Conv1dCausal, a forward Mamba2ScanGate, a biased SwiGLU MatMul,
# a 4-way Concat and an unbatched Reshape.
FIXTURES = ["every_op.trmg", "onnx_variants.trmg"]


def load(fixtures_dir, name):
    path = fixtures_dir / name
    assert path.exists(), f"{path} is missing: run the Swift tests with TRM_FIXTURES={fixtures_dir}"
    return onnx.load(str(path))


def random_feeds(model, batch, seed=0):
    rng = np.random.default_rng(seed)
    feeds = {}
    for i in model.graph.input:
        shape = [batch] + [d.dim_value for d in i.type.tensor_type.shape.dim[1:]]
        if i.type.tensor_type.elem_type == onnx.TensorProto.INT32:
            feeds[i.name] = rng.integers(0, 5, shape).astype(np.int32)
        else:
            feeds[i.name] = rng.standard_normal(shape).astype(np.float32)
    return feeds


def run_all_values(model, feeds):
    """onnxruntime's value of every node output (ENABLE_ALL optimisations, CPU)."""
    names = [o for n in model.graph.node for o in n.output]
    exposed = onnx.ModelProto()
    exposed.CopyFrom(model)
    del exposed.graph.output[:]
    exposed.graph.output.extend(onnx.helper.make_value_info(n, onnx.TypeProto()) for n in names)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(exposed.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return dict(zip(names, session.run(names, feeds)))


def assert_close(op_type, name, want, got):
    if op_type == "Argmax":
        assert got.dtype == np.int32 and np.array_equal(got, want), f"{name}: argmax differs"
        return
    assert got.shape == want.shape, f"{op_type} {name}: shape {got.shape} != {want.shape}"
    err = float(np.max(np.abs(got.astype(np.float64) - want))) if want.size else 0.0
    assert err <= ATOL, f"{op_type} {name}: max |error| {err:.3g} > {ATOL}"


@pytest.mark.parametrize("name", FIXTURES)
def test_bodies_pass_the_full_checker(fixtures_dir, name):
    model = load(fixtures_dir, name)
    # full_check runs strict shape inference through the function bodies, so it checks that each
    # body's output shapes are consistent with the graph's declared outputs.
    onnx.checker.check_model(model, full_check=True)
    calls = {(n.op_type, n.overload) for n in model.graph.node if n.domain == "ai.trm"}
    bodies = [(f.name, f.overload) for f in model.functions]
    assert sorted(calls) == sorted(bodies) and len(set(bodies)) == len(bodies)
    for f in model.functions:
        assert f.domain == "ai.trm"
        assert [(o.domain, o.version) for o in f.opset_import] == [("", 23)]
        assert all(n.domain == "" for n in f.node)
        assert all(n.name for n in f.node) and len({n.name for n in f.node}) == len(f.node)


@pytest.mark.parametrize("name", FIXTURES)
def test_every_op_matches_the_reference(fixtures_dir, name):
    model = load(fixtures_dir, name)
    feeds = random_feeds(model, batch=2)
    got = run_all_values(model, feeds)
    per_op = ref.evaluate(model, feeds, given=got)
    chained = ref.evaluate(model, feeds)
    for node in model.graph.node:
        for out in node.output:
            assert_close(node.op_type, out, per_op[out], got[out])
            assert_close(node.op_type, out, chained[out], got[out])


def test_batch_of_one_keeps_its_batch_axis(fixtures_dir):
    # Batched Reshape bodies take B from the input at run time; B = 1 must not collapse it.
    model = load(fixtures_dir, "every_op.trmg")
    feeds = random_feeds(model, batch=1, seed=3)
    got = run_all_values(model, feeds)
    want = ref.evaluate(model, feeds)
    for out in model.graph.output:
        assert got[out.name].shape[0] == 1
        op_type = next(n.op_type for n in model.graph.node if out.name in n.output)
        assert_close(op_type, out.name, want[out.name], got[out.name])


def test_reference_conv_and_scan_by_hand():
    # A two-tap conv: out[t] = b + w0 x[t-1] + w1 x[t], so w[..., K-1] meets the current token.
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)
    w = np.array([10.0, 1.0]).reshape(1, 1, 2)
    assert ref.conv1d_causal(x, w, np.array([0.5])).ravel().tolist() == [1.5, 12.5, 23.5]
    assert ref.conv1d_causal(x, w, np.array([0.5]), reverse=True).ravel().tolist() == [21.5, 32.5, 3.5]
    # One head, one channel, one state: s = e^(dt a) s + dt x b, y = s c + d x.
    xs, dt, a, b, c, d = (np.array([1.0, 2.0]).reshape(1, 2, 1), np.full((1, 2, 1), 0.5), np.array([-1.0]),
                          np.ones((1, 2, 1)), np.full((1, 2, 1), 2.0), np.array([0.25]))
    s1 = 0.5
    s2 = np.exp(-0.5) * s1 + 1.0
    y = ref.ssm_scan(xs, dt, a, b, c, d, heads=1, head_dim=1, d_state=1, groups=1).ravel()
    np.testing.assert_allclose(y, [2 * s1 + 0.25, 2 * s2 + 0.5])
    # Reversed, the last token starts from the zero state.
    r2 = 1.0
    r1 = np.exp(-0.5) * r2 + 0.5
    y = ref.ssm_scan(xs, dt, a, b, c, d, heads=1, head_dim=1, d_state=1, groups=1, reverse=True).ravel()
    np.testing.assert_allclose(y, [2 * r1 + 0.25, 2 * r2 + 0.5])
