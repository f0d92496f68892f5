"""Solve samples with a compiled model from Python through the C API (ctypes), no extension module.

    python examples/python/solve.py model.trmg [--lib .build/release/libtrm_runtime.so] [--steps 2]
"""
import argparse
import ctypes
import os
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]


class ModelInfo(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int32) for name in
                ("seq_len", "vocab", "num_puzzle_ids", "halt_max_steps", "hidden", "full_seq_len")]


def load_library(path):
    # The runtime uses its own threads; OpenBLAS must not start its own (see include/trm_runtime.h).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    lib = ctypes.CDLL(str(path))
    lib.trm_version.restype = ctypes.c_char_p
    lib.trm_last_error.restype = ctypes.c_char_p
    lib.trm_model_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.trm_model_open_bytes.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_void_p)]
    lib.trm_model_get_info.argtypes = [ctypes.c_void_p, ctypes.POINTER(ModelInfo)]
    lib.trm_model_free.argtypes = [ctypes.c_void_p]
    lib.trm_session_create.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32, ctypes.POINTER(ctypes.c_void_p)]
    lib.trm_session_create_precision.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32, ctypes.c_int32,
                                                 ctypes.POINTER(ctypes.c_void_p)]
    lib.trm_session_free.argtypes = [ctypes.c_void_p]
    f32, i32 = ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_int32)
    lib.trm_session_solve.argtypes = [ctypes.c_void_p, i32, i32, ctypes.c_size_t, ctypes.c_int, ctypes.c_int32, f32, i32, f32, i32]
    return lib


class TRMError(RuntimeError):
    pass


def check(lib, status):
    if status != 0:
        raise TRMError(f"trm error {status}: {lib.trm_last_error().decode()}")


PRECISIONS = {"fp32": 0, "bf16": 1}  # TRM_PRECISION_FP32, TRM_PRECISION_BF16


def solve(lib, model_bytes, tokens, steps, batch=2, precision="fp32"):
    """Returns (logits [N, L, V], preds [N, L], q_halt [N]) for int32 tokens [N, L]."""
    model = ctypes.c_void_p()
    buf = ctypes.create_string_buffer(model_bytes, len(model_bytes))
    check(lib, lib.trm_model_open_bytes(buf, len(model_bytes), ctypes.byref(model)))
    try:
        info = ModelInfo()
        check(lib, lib.trm_model_get_info(model, ctypes.byref(info)))
        tokens = np.ascontiguousarray(tokens, dtype=np.int32)
        n = tokens.shape[0]
        assert tokens.shape == (n, info.seq_len), f"tokens must be [N, {info.seq_len}]"
        session = ctypes.c_void_p()
        check(lib, lib.trm_session_create_precision(model, batch, 0, PRECISIONS[precision], ctypes.byref(session)))
        try:
            logits = np.zeros((n, info.seq_len, info.vocab), dtype=np.float32)
            preds = np.zeros((n, info.seq_len), dtype=np.int32)
            q_halt = np.zeros(n, dtype=np.float32)
            f32, i32 = ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_int32)
            check(lib, lib.trm_session_solve(session, tokens.ctypes.data_as(i32), None, n, 0, steps,
                                             logits.ctypes.data_as(f32), preds.ctypes.data_as(i32),
                                             q_halt.ctypes.data_as(f32), None))
            return logits, preds, q_halt
        finally:
            lib.trm_session_free(session)
    finally:
        lib.trm_model_free(model)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--lib", default=str(ROOT / ".build" / "release" / "libtrm_runtime.so"))
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--count", type=int, default=3)
    args = parser.parse_args()
    lib = load_library(args.lib)
    print(lib.trm_version().decode())
    data = pathlib.Path(args.model).read_bytes()
    model = ctypes.c_void_p()
    check(lib, lib.trm_model_open_bytes(data, len(data), ctypes.byref(model)))
    info = ModelInfo()
    check(lib, lib.trm_model_get_info(model, ctypes.byref(info)))
    lib.trm_model_free(model)
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, info.vocab, (args.count, info.seq_len)).astype(np.int32)
    logits, preds, q_halt = solve(lib, data, tokens, args.steps)
    for i in range(args.count):
        print(f"sample {i}: q_halt {q_halt[i]:.4f} preds {preds[i, :8].tolist()} ...")
    try:
        solve(lib, b"not a model", tokens, args.steps)
    except TRMError as e:
        print(f"bad model -> {e}")
    else:
        sys.exit("a malformed model was accepted")
    print("ok")


if __name__ == "__main__":
    main()
