"""The C API refuses what would run for ever or allocate without bound (issue: hardening, second
round, defect 5): a step limit over 1024, and a .trmg whose plan declares 1e6 ACT steps or a
10 GiB arena. onnx does not keep the TRM-only field 99, so the plan's varints are patched with a
small protobuf walker."""
import re
import sys

import numpy as np
import pytest

from conftest import ROOT, sudoku4_model

sys.path.insert(0, str(ROOT / "examples" / "python"))
import solve  # noqa: E402  (the ctypes example is the binding under test)

SIZE = ["--hidden", "32", "--heads", "4", "--h-cycles", "1", "--l-cycles", "1", "--halt-max-steps", "2"]


@pytest.fixture(scope="module")
def lib(bin_dir):
    return solve.load_library(bin_dir / "libtrm_runtime.so")


def test_step_limit_over_the_cap_is_an_argument_error(lib, bin_dir, tmp_path):
    _, model = sudoku4_model(bin_dir, tmp_path, "trm-attn", SIZE)
    tokens = np.ones((2, 16), dtype=np.int32)
    logits, preds, _ = solve.solve(lib, model.read_bytes(), tokens, steps=1024)
    assert logits.shape == (2, 16, 6) and np.isfinite(logits).all()
    with pytest.raises(solve.TRMError, match=r"trm error 1: max_steps must be 0 .* to 1024, got 1025"):
        solve.solve(lib, model.read_bytes(), tokens, steps=1025)


def test_bf16_session_is_close_to_fp32_and_bad_precision_is_an_argument_error(lib, bin_dir, tmp_path):
    _, model = sudoku4_model(bin_dir, tmp_path, "trm-attn", SIZE)
    tokens = np.arange(32, dtype=np.int32).reshape(2, 16) % 6
    fp32, _, _ = solve.solve(lib, model.read_bytes(), tokens, steps=2)
    bf16, _, _ = solve.solve(lib, model.read_bytes(), tokens, steps=2, precision="bf16")
    relative = np.linalg.norm(bf16 - fp32) / np.linalg.norm(fp32)
    assert 0 < relative < 0.05, relative  # bf16 operands (8 significant bits), fp32 sums: docs/precision.md
    solve.PRECISIONS["fp8"] = 7
    try:
        with pytest.raises(solve.TRMError, match=r"trm error 1: precision must be TRM_PRECISION_FP32 \(0\) or .*got 7"):
            solve.solve(lib, model.read_bytes(), tokens, steps=1, precision="fp8")
    finally:
        del solve.PRECISIONS["fp8"]


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_varint(data, i):
    value, shift = 0, 0
    while True:
        b = data[i]
        value |= (b & 0x7F) << shift
        shift += 7
        i += 1
        if not b & 0x80:
            return value, i


def fields(data):
    """(field number, wire type, value or payload, start, end) of each top-level protobuf field."""
    i = 0
    while i < len(data):
        start = i
        key, i = read_varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = read_varint(data, i)
        elif wire == 2:
            length, i = read_varint(data, i)
            value, i = data[i:i + length], i + length
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, value, start, i


def plan_field_numbers():
    """TrmPlan's field numbers, from the schema the project ships."""
    text = (ROOT / "Proto" / "trmg.proto").read_text()
    body = text[text.index("message TrmPlan"):]
    body = body[:body.index("\n}")]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"(\w+)\s*=\s*(\d+)\s*;", body)}


def patched_plan(data, field, new):
    """The model bytes with the plan's (ModelProto field 99) varint field `field` set to `new`."""
    for number, wire, plan, start, end in fields(data):
        if number == 99 and wire == 2:
            out = bytearray()
            for n, w, value, s, e in fields(plan):
                out += varint(n << 3 | w) + varint(new) if (n, w) == (field, 0) else plan[s:e]
            return data[:start] + varint(99 << 3 | 2) + varint(len(out)) + bytes(out) + data[end:]
    raise AssertionError("no TrmPlan in the model")


@pytest.mark.parametrize("field_name, new, message", [
    ("halt_max_steps", 1_000_000, "halt_max_steps"),
    ("arena_bytes_per_sample", 10 << 30, "arena"),
])
def test_forged_plans_are_refused_on_open(lib, bin_dir, tmp_path, field_name, new, message):
    _, model = sudoku4_model(bin_dir, tmp_path, "trm-attn", SIZE)
    forged = patched_plan(model.read_bytes(), plan_field_numbers()[field_name], new)
    assert forged != model.read_bytes()
    with pytest.raises(solve.TRMError, match=message):
        solve.solve(lib, forged, np.ones((1, 16), dtype=np.int32), steps=0)
