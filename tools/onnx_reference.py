"""Plain numpy meaning of every op of a .trmg (Sources/GraphIR/Op.swift; in the file, standard ONNX
ops in the default domain and the others in `ai.trm`, docs/formats.md §2.1), and an evaluator that
runs a whole .trmg graph node by node with it.

This is the second, independent statement of the op semantics: the ONNX function bodies written by
GraphIR are checked against it (tools/tests/test_function_bodies.py). Arithmetic is float64, except
where an op's definition rounds to fp32 (the RoPE tables).
"""
import numpy as np
import onnx
from onnx import helper, numpy_helper


def silu(x):
    return x / (1.0 + np.exp(-x))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softplus(x):
    # log(1 + e^x) overflows for large x, where it equals x to double precision anyway.
    return np.where(x > 20.0, x, np.log1p(np.exp(np.minimum(x, 20.0))))


def rms_norm(x, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)


def matmul(x, w, bias=None, epilogue="none"):
    y = x @ w.T
    if bias is not None:
        y = y + bias
    return swiglu(y) if epilogue == "swiGLU" else y


def swiglu(x):
    half = x.shape[-1] // 2
    return silu(x[..., :half]) * x[..., half:]


def rope_table(seq_len, dim, theta):
    """cos and sin [S, d]; the angle is fp32(p) * fp32(theta^(-2i/d)), as the op defines it."""
    inv_freq = np.float32(theta) ** (-2.0 * np.arange(dim // 2) / dim)
    angle = np.arange(seq_len, dtype=np.float32)[:, None] * inv_freq.astype(np.float32)[None, :]
    table = np.concatenate([angle, angle], axis=1).astype(np.float64)
    return np.cos(table), np.sin(table)


def _heads(x, heads, head_dim):
    return x.reshape(x.shape[0], x.shape[1], heads, head_dim)


def rope(x, cos, sin, heads, head_dim):
    v = _heads(x, heads, head_dim)
    half = head_dim // 2
    rotated = np.concatenate([-v[..., half:], v[..., :half]], axis=-1)
    out = v * cos[:, None, :] + rotated * sin[:, None, :]
    return out.reshape(x.shape)


def attention(q, k, v, heads, head_dim):
    qh, kh, vh = (_heads(t, heads, head_dim).transpose(0, 2, 1, 3) for t in (q, k, v))
    scores = qh @ kh.transpose(0, 1, 3, 2) / np.sqrt(head_dim)
    scores = scores - scores.max(axis=-1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=-1, keepdims=True)
    return (probs @ vh).transpose(0, 2, 1, 3).reshape(q.shape)


def fused_attention(qkv, cos, sin, heads, head_dim):
    width = heads * head_dim
    q, k, v = qkv[..., :width], qkv[..., width:2 * width], qkv[..., 2 * width:3 * width]
    return attention(rope(q, cos, sin, heads, head_dim), rope(k, cos, sin, heads, head_dim), v, heads, head_dim)


def pad(x, axis, after):
    widths = [(0, 0)] * x.ndim
    widths[axis] = (0, after)
    return np.pad(x, widths)


def slice_axis(x, axis, start, end):
    index = [slice(None)] * x.ndim
    index[axis] = slice(start, end)
    return x[tuple(index)]


def _along_time(fn, reverse, *seqs):
    """fn over [B, L, ...] inputs; `reverse` runs it from the last token: flip(fn(flip(inputs)))."""
    if not reverse:
        return fn(*seqs)
    return np.flip(fn(*(np.flip(s, axis=1) for s in seqs)), axis=1)


def conv1d_causal(x, w, b, reverse=False):
    """Depthwise causal cross-correlation: out[t, c] = b[c] + sum_k w[c, 0, k] x[t - (K-1) + k, c]."""
    def forward(x):
        kernel = w.shape[2]
        padded = np.concatenate([np.zeros((x.shape[0], kernel - 1, x.shape[2])), x], axis=1)
        out = np.broadcast_to(b, x.shape).copy()
        for k in range(kernel):
            out += w[:, 0, k] * padded[:, k:k + x.shape[1], :]
        return out
    return _along_time(forward, reverse, x)


def ssm_scan(x, dt, a, bm, cm, d, heads, head_dim, d_state, groups, reverse=False):
    """S_h = exp(dt A_h) S_h + dt x_h (outer) B_g; y_h = S_h C_g + D_h x_h, from S = 0."""
    def forward(x, dt, bm, cm):
        batch, length = x.shape[:2]
        xs = x.reshape(batch, length, heads, head_dim)
        group = np.arange(heads) // (heads // groups)
        bh = bm.reshape(batch, length, groups, d_state)[:, :, group]  # [B, L, H, N]
        ch = cm.reshape(batch, length, groups, d_state)[:, :, group]
        state = np.zeros((batch, heads, head_dim, d_state))
        y = np.empty_like(xs)
        for t in range(length):
            decay = np.exp(dt[:, t] * a)[:, :, None, None]
            state = decay * state + (dt[:, t, :, None] * xs[:, t])[..., None] * bh[:, t, :, None, :]
            y[:, t] = np.einsum("bhpn,bhn->bhp", state, ch[:, t]) + d[:, None] * xs[:, t]
        return y.reshape(x.shape)
    return _along_time(forward, reverse, x, dt, bm, cm)


def gated_rms_norm(y, z, w, group_size, eps):
    v = y * silu(z)
    grouped = v.reshape(*v.shape[:-1], v.shape[-1] // group_size, group_size)
    return rms_norm(grouped, eps).reshape(v.shape) * w


def mamba2_scan_gate(zxbcdt, conv_w, conv_b, dt_bias, a, d, norm_w, heads, head_dim, d_state, groups,
                     reverse, conv_kernel, eps):
    e, gn = heads * head_dim, groups * d_state
    cd = e + 2 * gn
    z, xbc, dt_raw = zxbcdt[..., :e], zxbcdt[..., e:e + cd], zxbcdt[..., e + cd:e + cd + heads]
    assert conv_w.shape[2] == conv_kernel
    xbc = silu(conv1d_causal(xbc, conv_w, conv_b, reverse))
    x, bm, cm = xbc[..., :e], xbc[..., e:e + gn], xbc[..., e + gn:]
    dt = softplus(dt_raw + dt_bias)
    y = ssm_scan(x, dt, a, bm, cm, d, heads, head_dim, d_state, groups, reverse)
    return gated_rms_norm(y, z, norm_w, e // groups, eps)


def _mamba_dims(at):
    return dict(heads=at["heads"], head_dim=at["head_dim"], d_state=at["d_state"], groups=at["groups"],
                reverse=bool(at["reverse"]))


def standard(op_type, at, inputs):
    """The outputs of the standard ONNX ops a .trmg uses, with their int64 operands as inputs; None
    for any other op."""
    x = inputs[0] if inputs else None
    if op_type == "Slice":
        return [slice_axis(x, int(inputs[3][0]), int(inputs[1][0]), int(inputs[2][0]))]
    if op_type == "Reshape":
        return [x.reshape([x.shape[i] if s == 0 else int(s) for i, s in enumerate(inputs[1])])]
    if op_type == "Pad":
        return [pad(x, int(inputs[3][0]), int(inputs[1][1]))]
    return None


def apply(op_type, at, inputs, batched, domain="ai.trm"):
    """The outputs (a list) of op `op_type` of `domain` with attributes `at` on numpy `inputs`.

    `batched` says whether the first input has the batch axis, which only the `ai.trm` Reshape of
    files written before the standard domain needs (its shape attribute is per sample)."""
    x = inputs[0] if inputs else None
    if domain == "" and (out := standard(op_type, at, inputs)) is not None:
        return out
    if op_type == "Gather":
        return [inputs[0][inputs[1]]]
    if op_type in ("Linear", "LinearSwiGLU"):
        epilogue = "swiGLU" if op_type == "LinearSwiGLU" else "none"
        return [matmul(x, inputs[1], inputs[2] if len(inputs) > 2 else None, epilogue)]
    if op_type == "MatMul":  # files written before Linear
        return [matmul(x, inputs[1], inputs[2] if len(inputs) > 2 else None, at["epilogue"])]
    simple = {"Add": lambda: x + inputs[1], "Mul": lambda: x * inputs[1], "Scale": lambda: at["factor"] * x,
              "RMSNorm": lambda: rms_norm(x, at["eps"]), "AddRMSNorm": lambda: rms_norm(x + inputs[1], at["eps"]),
              "SwiGLU": lambda: swiglu(x), "SiLU": lambda: silu(x), "Softplus": lambda: softplus(x),
              "Exp": lambda: np.exp(x), "Sigmoid": lambda: sigmoid(x),
              "Argmax": lambda: np.argmax(x, axis=-1).astype(np.int32)}
    if op_type in simple:
        return [simple[op_type]()]
    if op_type == "RoPETable":
        return list(rope_table(at["seq_len"], at["dim"], at["theta"]))
    if op_type == "RoPE":
        return [rope(*inputs, at["heads"], at["head_dim"])]
    if op_type == "Attention":
        return [attention(*inputs, at["heads"], at["head_dim"])]
    if op_type == "FusedAttention":
        return [fused_attention(*inputs, at["heads"], at["head_dim"])]
    if op_type == "Transpose":
        return [np.transpose(x, at["perm"])]
    if op_type == "Concat":
        return [np.concatenate(inputs, axis=at["axis"])]
    if op_type == "Slice":
        return [slice_axis(x, at["axis"], at["start"], at["end"])]
    if op_type == "Reshape":
        return [x.reshape(([x.shape[0]] if batched else []) + list(at["shape"]))]
    if op_type == "Pad":
        return [pad(x, at["axis"], at["after"])]
    if op_type == "Conv1dCausal":
        return [conv1d_causal(*inputs, reverse=bool(at["reverse"]))]
    if op_type == "SSMScan":
        return [ssm_scan(*inputs, **_mamba_dims(at))]
    if op_type == "GatedRMSNorm":
        return [gated_rms_norm(*inputs, at["group_size"], at["eps"])]
    if op_type == "Mamba2ScanGate":
        return [mamba2_scan_gate(*inputs, **_mamba_dims(at), conv_kernel=at["conv_kernel"], eps=at["eps"])]
    raise ValueError(f"unknown ai.trm op {op_type}")


def attributes(node):
    """A node's attributes as Python values (strings decoded)."""
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else (list(v) if a.type == onnx.AttributeProto.INTS else v)
    return out


def evaluate(model, feeds, given=None):
    """Every value of the .trmg `model` (an onnx.ModelProto) for graph inputs `feeds` (name -> array).

    Float values are float64. With `given` (name -> array, e.g. everything onnxruntime computed),
    each node reads its inputs from `given` where it has them, so every op is checked on exactly
    the inputs another implementation saw rather than on a chain of its own results."""
    values = {t.name: numpy_helper.to_array(t).astype(np.float64 if t.data_type == 1 else np.int64)
              for t in model.graph.initializer}
    batched = set()
    for i in model.graph.input:
        v = np.asarray(feeds[i.name])
        values[i.name] = v.astype(np.float64) if v.dtype.kind == "f" else v.astype(np.int64)
        if i.type.tensor_type.shape.dim and i.type.tensor_type.shape.dim[0].dim_param:
            batched.add(i.name)

    def read(name):
        if name == "":
            return None
        if given is not None and name in given:
            v = np.asarray(given[name])
            return v.astype(np.float64) if v.dtype.kind == "f" else v.astype(np.int64)
        return values[name]

    for node in model.graph.node:
        assert node.domain in ("", "ai.trm"), f"{node.name}: domain {node.domain!r}"
        outs = apply(node.op_type, attributes(node), [read(n) for n in node.input],
                     bool(node.input) and node.input[0] in batched, node.domain)
        for name, v in zip(node.output, outs):
            values[name] = v
            # Every op's output has a batch axis exactly when one of its inputs does.
            if any(n in batched for n in node.input):
                batched.add(name)
    return values
