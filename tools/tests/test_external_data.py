"""A .trmg with external data (docs/formats.md §2.5) is a valid ONNX model with its sidecar:
onnx.checker accepts the pair, onnx loads the same weights as from the one-file compile, every
external tensor starts on a 64 KiB boundary, and onnxruntime runs it to trm-run's answers."""
import json
import sys

import numpy as np
import onnx
from onnx import external_data_helper, numpy_helper

from conftest import ROOT, run, sudoku4_model

SMALL = ["--hidden", "32", "--heads", "4", "--h-cycles", "1", "--l-cycles", "1", "--halt-max-steps", "2"]


def weights(path):
    """Initializers by name as numpy arrays, external data loaded from beside `path`."""
    model = onnx.load(str(path))
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def test_external_data_pair_passes_checker_and_runs_on_onnxruntime(bin_dir, tmp_path):
    ckpt, inline = sudoku4_model(bin_dir, tmp_path, "trm-attn", SMALL)
    external = tmp_path / "ext.trmg"
    run(bin_dir / "trm-compile", ckpt, "-o", external, "-q", "--external-threshold", "0")
    sidecar = tmp_path / "ext.trmg.data"
    assert sidecar.exists() and not (tmp_path / "m.trmg.data").exists()

    onnx.checker.check_model(str(external))
    model = onnx.load(str(external), load_external_data=False)
    # Every weight; the few int64 operands of standard Slice/Reshape/Pad nodes stay inline.
    tensors = [t for t in model.graph.initializer if t.data_type != onnx.TensorProto.INT64]
    assert tensors and all(external_data_helper.uses_external_data(t) for t in tensors)
    operands = [t for t in model.graph.initializer if t.data_type == onnx.TensorProto.INT64]
    assert operands and not any(external_data_helper.uses_external_data(t) for t in operands)
    for t in tensors:
        info = {e.key: e.value for e in t.external_data}
        assert info["location"] == "ext.trmg.data"
        assert int(info["offset"]) % 65536 == 0
        assert int(info["offset"]) + int(info["length"]) <= sidecar.stat().st_size
    assert sidecar.read_bytes()[:8] == b"TRMGDATA"
    assert "trm.external_data" in {p.key for p in model.metadata_props}

    ours, theirs = weights(inline), weights(external)
    assert ours.keys() == theirs.keys()
    assert all(np.array_equal(ours[k], theirs[k]) for k in ours)

    config = json.loads(run(bin_dir / "trm-info", external, "--json").stdout)
    tokens = np.random.default_rng(5).integers(0, config["vocab"], (3, config["seq_len"])).astype(np.int32)
    np.save(tmp_path / "tokens.npy", tokens)
    for name, path in [("inline", inline), ("external", external)]:
        run(bin_dir / "trm-run", path, "--inputs", tmp_path / "tokens.npy", "--out", tmp_path / name, "-q")
    for f in ["logits.npy", "preds.npy", "q_halt.npy", "steps.npy"]:
        assert (tmp_path / "inline" / f).read_bytes() == (tmp_path / "external" / f).read_bytes(), f
    r = run(sys.executable, ROOT / "tools" / "ort_oracle.py", external, "--inputs", tmp_path / "tokens.npy",
            "--out", tmp_path / "ort", "--compare", tmp_path / "external", ok=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_c_api_maps_from_a_path_and_refuses_bytes(bin_dir, tmp_path):
    import ctypes
    sys.path.insert(0, str(ROOT / "examples" / "python"))
    import solve

    lib = solve.load_library(bin_dir / "libtrm_runtime.so")
    ckpt, inline = sudoku4_model(bin_dir, tmp_path, "trm-attn", SMALL)
    external = tmp_path / "ext.trmg"
    run(bin_dir / "trm-compile", ckpt, "-o", external, "-q", "--external-threshold", "0")
    data = external.read_bytes()
    model = ctypes.c_void_p()
    status = lib.trm_model_open_bytes(ctypes.create_string_buffer(data, len(data)), len(data), ctypes.byref(model))
    assert status == 3 and b"open it from its path" in lib.trm_last_error()

    tokens = np.ones((2, 16), dtype=np.int32)
    want, _, _ = solve.solve(lib, inline.read_bytes(), tokens, steps=2)
    solve.check(lib, lib.trm_model_open(str(external).encode(), ctypes.byref(model)))
    session = ctypes.c_void_p()
    solve.check(lib, lib.trm_session_create(model, 2, 0, ctypes.byref(session)))
    lib.trm_model_free(model)  # the session keeps the model, and so the mapping
    try:
        logits = np.zeros((2, 16, 6), dtype=np.float32)
        preds = np.zeros((2, 16), dtype=np.int32)
        q_halt = np.zeros(2, dtype=np.float32)
        f32, i32 = ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_int32)
        solve.check(lib, lib.trm_session_solve(session, tokens.ctypes.data_as(i32), None, 2, 0, 2,
                                               logits.ctypes.data_as(f32), preds.ctypes.data_as(i32),
                                               q_halt.ctypes.data_as(f32), None))
    finally:
        lib.trm_session_free(session)
    assert np.array_equal(logits, want)
