""".trmg for humans (docs/formats.md §2.1, §2.4): a compiled model of every preset passes the full
onnx checker, onnxruntime loads it without a warning, standard ops are in the default domain, and
every node, function-body nodes included, has a unique name of the scheme."""
import re
import subprocess
import sys

import onnx
import pytest

from conftest import run, sudoku4_model

SIZE = ["--hidden", "32", "--heads", "4", "--h-cycles", "2", "--l-cycles", "2", "--halt-max-steps", "2",
        "--d-state", "8", "--headdim", "8"]
SCHEME = re.compile(
    r"^((input|rope|heads)\.[a-z_]+"
    r"|H[1-9][0-9]*\.(L[1-9][0-9]*|H)\.(inject\.[a-z_]+"
    r"|block[0-9]+\.(attn|mlp|mlp_t|mamba)[0-9]*(\.(fwd|rev))?\.[A-Za-z0-9_]+))$")
STANDARD = {"Gather", "Add", "Mul", "Transpose", "Concat", "Slice", "Reshape", "Pad", "Softplus", "Exp", "Sigmoid"}
# Loads the model in a fresh process with every message from info up, so its stderr holds them all.
LOAD = """
import sys, onnxruntime as ort
so = ort.SessionOptions()
so.log_severity_level = 1
ort.InferenceSession(sys.argv[1], so, providers=["CPUExecutionProvider"])
"""


@pytest.fixture(scope="module", params=["trm-attn", "tr-mamba2attn", "trm-mlpt", "tr-mamba2mlpt", "tr-mamba2attn --no-fuse"])
def compiled(request, bin_dir, tmp_path_factory):
    preset, *flags = request.param.split()
    directory = tmp_path_factory.mktemp(preset)
    ckpt, path = sudoku4_model(bin_dir, directory, preset, SIZE)
    if flags:
        run(bin_dir / "trm-compile", ckpt, "-o", path, "-q", *flags)
    return path


def test_full_check_passes(compiled):
    onnx.checker.check_model(onnx.load(str(compiled)), full_check=True)


def test_onnxruntime_loads_without_warnings(compiled):
    r = subprocess.run([sys.executable, "-c", LOAD, str(compiled)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # onnxruntime's log lines carry their severity as [I:…], [W:…], [E:…].
    complaints = [line for line in r.stderr.splitlines() if re.search(r"\[(W|E|F):", line)]
    assert not complaints, "\n".join(complaints)


def test_every_initializer_is_read(compiled):
    graph = onnx.load(str(compiled)).graph
    read = {name for node in graph.node for name in node.input}
    assert [t.name for t in graph.initializer if t.name not in read] == []
    assert not {"H_init", "L_init"} & {t.name for t in graph.initializer}


def test_domains_and_op_types(compiled):
    model = onnx.load(str(compiled))
    for node in model.graph.node:
        assert (node.domain == "") == (node.op_type in STANDARD), f"{node.name}: {node.domain!r} {node.op_type}"
        assert node.op_type != "MatMul", f"{node.name}: x·wᵀ is ai.trm Linear, not ONNX MatMul"
    assert {f.name for f in model.functions} == {n.op_type for n in model.graph.node if n.domain == "ai.trm"}


def test_node_names_are_unique_and_follow_the_scheme(compiled):
    model = onnx.load(str(compiled))
    names = [n.name for n in model.graph.node]
    assert len(set(names)) == len(names)
    assert [n for n in names if not SCHEME.match(n)] == []
    applications = list(dict.fromkeys(".".join(n.split(".")[:2]) for n in names if n.startswith("H")))
    assert applications == [f"H{h}.{a}" for h in (1, 2) for a in ("L1", "L2", "H")]


def test_function_body_nodes_are_named(compiled):
    def check(nodes, where):
        names = [n.name for n in nodes]
        assert all(names), f"{where}: an unnamed node"
        assert len(set(names)) == len(names), f"{where}: a name twice"
        for n in nodes:
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    check(a.g.node, f"{where} / {a.g.name}")

    for f in onnx.load(str(compiled)).functions:
        check(f.node, f"{f.name} {f.overload}")
