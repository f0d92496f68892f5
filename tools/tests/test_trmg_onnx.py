"""A .trmg written by GraphIR is a valid ONNX model (issue: foundation, docs/formats.md §2)."""
import onnx


def check(path):
    data = path.read_bytes()
    model = onnx.load_from_string(data)
    onnx.checker.check_model(model)
    return data, model


def test_tiny_graph_passes_checker_and_round_trips(fixtures_dir):
    data, model = check(fixtures_dir / "tiny.trmg")
    assert model.SerializeToString() == data
    assert model.ir_version == 10
    assert model.producer_name == "trm-compile" and model.producer_version
    assert {(o.domain, o.version) for o in model.opset_import} == {("", 23), ("ai.trm", 1)}


def test_every_op_graph_passes_checker_and_round_trips(fixtures_dir):
    data, model = check(fixtures_dir / "every_op.trmg")
    # The TrmPlan (field 99) is unknown to onnx and must survive a load/save byte for byte.
    assert model.SerializeToString() == data
    # Standard ops in the default domain, trm's own in ai.trm (docs/formats.md §2.1).
    domains = {n.op_type: n.domain for n in model.graph.node}
    assert domains["Gather"] == domains["Slice"] == domains["Reshape"] == ""
    assert domains["Linear"] == domains["FusedAttention"] == "ai.trm"
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "B"
    assert {p.key: p.value for p in model.metadata_props}["trm.preset"] == "test"
    init = {t.name: t for t in model.graph.initializer}
    assert onnx.numpy_helper.to_array(init["w_qkv"]).shape == (24, 8)
