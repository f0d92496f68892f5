"""A PyTorch statement of the official TinyRecursiveModels model (`recursive_reasoning.trm@
TinyRecursiveReasoningModel_ACTV1`), written independently of trm's Swift code, and a writer of the
run folder the official trainer leaves behind: `step_N` by a real `torch.save` of the state dict,
`all_config.yaml`, and the dataset folder its builders write (docs/formats.md §1.5, §1.6;
docs/tasks.md §7).

tools/tests/test_official_torch.py builds small random models with it, lets trm-compile read the
folder and trm-run execute it, and compares the logits and q_halt with `OfficialTRM.act`. The
module tree mirrors the official one so that `state_dict()` has the official names, shapes and
dtypes exactly: trainable tensors in fp32, H_init and L_init in the run's forward_dtype (bf16 by
default), the puzzle table as a persistent fp32 buffer, and the rotary tables not saved. The key
prefix `_orig_mod.model.inner.` is what the official pretrain.py saves: its model sits inside the
ACT loss head (`.model`), wrapped by torch.compile (`._orig_mod`).

The forward is the official inference's, computed in float64 (not in the official forward_dtype)
so that it is a reference for trm's fp32 runtime: per ACT step, H_cycles cycles of L_cycles updates
of z_L from z_L + z_H + x followed by one update of z_H from z_H + z_L, the carry starting from
H_init/L_init; logits from z_H after the puzzle prefix, q_halt and q_continue from position 0
(docs/model.md §4-§6 state the same model).
"""
import collections
import contextlib
import dataclasses
import json
import math
import pathlib

import numpy as np
import torch
from torch import nn

ARCH_NAME = "recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1"


@dataclasses.dataclass
class Arch:
    """The official `arch:` fields (config/arch/trm.yaml) plus the dataset sizes pretrain.py adds.
    Defaults are a small model that runs in well under a second."""
    vocab_size: int
    seq_len: int
    num_puzzle_identifiers: int = 1
    hidden_size: int = 64
    num_heads: int = 2
    expansion: float = 4
    H_cycles: int = 2
    L_cycles: int = 2
    L_layers: int = 2
    halt_max_steps: int = 3
    puzzle_emb_ndim: int = 64
    puzzle_emb_len: int = 2
    pos_encodings: str = "rope"
    mlp_t: bool = False
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-5
    forward_dtype: str = "bfloat16"

    @property
    def prefix_len(self) -> int:
        """P: puzzle_emb_len, or when that is 0 as many tokens as the puzzle row needs (a ceiling)."""
        if self.puzzle_emb_len:
            return self.puzzle_emb_len
        return (self.puzzle_emb_ndim + self.hidden_size - 1) // self.hidden_size

    @property
    def full_len(self) -> int:
        """S = P + L, the positions the network sees."""
        return self.prefix_len + self.seq_len

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads


def swiglu_width(features: int, expansion: float) -> int:
    """Hidden width of a SwiGLU over `features`: 2/3 of expansion·features (Python's round, half to
    even), rounded up to a multiple of 256 (docs/model.md §2.2)."""
    return -(-round(expansion * features * 2 / 3) // 256) * 256


def rms_norm(x: torch.Tensor, eps: float) -> torch.Tensor:
    """Weightless RMSNorm over the last axis."""
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps)


class Linear(nn.Module):
    """y = x·Wᵀ (+ b): `weight` [out, in] and optional `bias`, kept in fp32, used in x's dtype."""

    def __init__(self, n_in: int, n_out: int, bias: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n_out, n_in))
        self.bias = nn.Parameter(torch.zeros(n_out)) if bias else None

    def forward(self, x):
        y = x @ self.weight.to(x.dtype).T
        return y if self.bias is None else y + self.bias.to(x.dtype)


class Embedding(nn.Module):
    """A lookup table stored as `embedding_weight`, the official embeddings' parameter name."""

    def __init__(self, rows: int, width: int):
        super().__init__()
        self.embedding_weight = nn.Parameter(torch.zeros(rows, width))


class PuzzleTable(nn.Module):
    """The puzzle embedding: a persistent buffer `weights` [identifiers, ndim] (the official sparse
    embedding trains it outside autograd, so it is a buffer, not a parameter). Its per-batch
    training copies are not persistent and never reach a checkpoint, so they are left out."""

    def __init__(self, rows: int, width: int):
        super().__init__()
        self.register_buffer("weights", torch.zeros(rows, width), persistent=True)


class Rotary(nn.Module):
    """cos/sin tables [S, d] of the half-split rotary embedding, computed in fp32 as the official
    model does, held as non-persistent buffers (so not in the state dict)."""

    def __init__(self, head_dim: int, positions: int, theta: float):
        super().__init__()
        exponents = torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim
        inv_freq = 1.0 / (theta ** exponents)
        angles = torch.arange(positions, dtype=torch.float32)[:, None] * inv_freq[None, :]
        both = torch.cat([angles, angles], dim=-1)
        self.register_buffer("cos_cached", both.cos(), persistent=False)
        self.register_buffer("sin_cached", both.sin(), persistent=False)

    def rotate(self, v: torch.Tensor) -> torch.Tensor:
        """Rotates v [B, S, heads, d]: v·cos + (−second half, first half)·sin."""
        cos = self.cos_cached.to(v.dtype)[:, None, :]
        sin = self.sin_cached.to(v.dtype)[:, None, :]
        first, second = v.chunk(2, dim=-1)
        return v * cos + torch.cat([-second, first], dim=-1) * sin


class SwiGLU(nn.Module):
    """down(silu(gate) ⊙ up) with [gate | up] = gate_up_proj(x), the gate the first half."""

    def __init__(self, features: int, expansion: float):
        super().__init__()
        width = swiglu_width(features, expansion)
        self.gate_up_proj = Linear(features, 2 * width)
        self.down_proj = Linear(width, features)

    def forward(self, x):
        gate, up = self.gate_up_proj(x).chunk(2, dim=-1)
        return self.down_proj(nn.functional.silu(gate) * up)


class SelfAttention(nn.Module):
    """Non-causal multi-head attention without biases: qkv_proj gives [q | k | v], each head-major."""

    def __init__(self, arch: Arch):
        super().__init__()
        self.heads, self.head_dim = arch.num_heads, arch.head_dim
        width = arch.num_heads * arch.head_dim
        self.qkv_proj = Linear(arch.hidden_size, 3 * width)
        self.o_proj = Linear(width, arch.hidden_size)

    def forward(self, x, rotary):
        b, s, _ = x.shape
        q, k, v = self.qkv_proj(x).view(b, s, 3, self.heads, self.head_dim).unbind(dim=2)
        if rotary is not None:
            q, k = rotary.rotate(q), rotary.rotate(k)
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(self.head_dim)
        mixed = torch.einsum("bhqk,bkhd->bqhd", scores.softmax(dim=-1), v)
        return self.o_proj(mixed.reshape(b, s, self.heads * self.head_dim))


class Block(nn.Module):
    """One of the L_layers blocks, post-norm: a token mixer (self_attn, or mlp_t over the sequence
    axis with its residual and norm over S on the transposed view), then the channel MLP."""

    def __init__(self, arch: Arch):
        super().__init__()
        self.eps = arch.rms_norm_eps
        self.sequence_mlp = arch.mlp_t
        if arch.mlp_t:
            self.mlp_t = SwiGLU(arch.full_len, arch.expansion)
        else:
            self.self_attn = SelfAttention(arch)
        self.mlp = SwiGLU(arch.hidden_size, arch.expansion)

    def forward(self, x, rotary):
        if self.sequence_mlp:
            t = x.transpose(1, 2)
            x = rms_norm(t + self.mlp_t(t), self.eps).transpose(1, 2)
        else:
            x = rms_norm(x + self.self_attn(x, rotary), self.eps)
        return rms_norm(x + self.mlp(x), self.eps)


class Network(nn.Module):
    """The shared network (`L_level`): the state plus its injection, then every block."""

    def __init__(self, arch: Arch):
        super().__init__()
        self.layers = nn.ModuleList([Block(arch) for _ in range(arch.L_layers)])

    def forward(self, state, injection, rotary):
        x = state + injection
        for block in self.layers:
            x = block(x, rotary)
        return x


class Inner(nn.Module):
    """The model's tensors under the official names (attribute names matter: they are the keys)."""

    def __init__(self, arch: Arch):
        super().__init__()
        self.arch = arch
        d = arch.hidden_size
        self.embed_tokens = Embedding(arch.vocab_size, d)
        self.lm_head = Linear(d, arch.vocab_size)
        self.q_head = Linear(d, 2, bias=True)
        if arch.puzzle_emb_ndim > 0:
            self.puzzle_emb = PuzzleTable(arch.num_puzzle_identifiers, arch.puzzle_emb_ndim)
        if arch.pos_encodings == "rope":
            self.rotary_emb = Rotary(arch.head_dim, arch.full_len, arch.rope_theta)
        elif arch.pos_encodings == "learned":
            self.embed_pos = Embedding(arch.full_len, d)
        elif arch.pos_encodings != "none":
            raise ValueError(f"pos_encodings {arch.pos_encodings!r}")
        self.L_level = Network(arch)
        # The initial carries are buffers in the forward dtype: bf16 in the official default.
        dtype = getattr(torch, arch.forward_dtype)
        self.register_buffer("H_init", torch.zeros(d, dtype=dtype), persistent=True)
        self.register_buffer("L_init", torch.zeros(d, dtype=dtype), persistent=True)


class ACT(nn.Module):
    """The ACT wrapper: holds `inner`."""

    def __init__(self, arch: Arch):
        super().__init__()
        self.inner = Inner(arch)


class LossHead(nn.Module):
    """The loss head the trainer wraps the model in: holds `model` (it has no tensors of its own)."""

    def __init__(self, arch: Arch):
        super().__init__()
        self.model = ACT(arch)


class OfficialTRM(nn.Module):
    """The official model as its trainer saves it: `_orig_mod` (torch.compile's wrapper attribute)
    → `model` (the loss head's) → `inner`. `act` runs the official inference in float64."""

    def __init__(self, arch: Arch):
        super().__init__()
        self.arch = arch
        self.add_module("_orig_mod", LossHead(arch))

    @property
    def inner(self) -> Inner:
        return getattr(self, "_orig_mod").model.inner

    def randomize(self, seed: int, branch_gain: float = 0.5):
        """Random weights with O(1) activations and logits: every matrix ~ N(0, 1/fan_in) truncated
        at 2σ, embeddings and the puzzle table at 1/√D (the √D input scale brings them to O(1)),
        H_init/L_init at 1 (rounded to their dtype), and a random q_head with biases in ±0.5 so that
        q_halt is informative (the official init zeroes the q_head and the puzzle table).

        The residual branches' output projections (o_proj, down_proj) are scaled by `branch_gain`:
        with unit gain a random mlp_t network iterated H·(L+1) times per step is chaotic, and fp32
        rounding alone (PyTorch's own fp32 forward against float64) grows about 5× per ACT step,
        past 1e-4 by step 3. At 0.5 the recursion is well conditioned, as a trained model's is."""
        gen = torch.Generator().manual_seed(seed)

        def normal(shape, std):
            return (torch.randn(shape, generator=gen, dtype=torch.float64).clamp(-2, 2) * std).float()

        with torch.no_grad():
            for name, t in self.state_dict().items():
                if name.endswith("bias"):
                    t.copy_((torch.rand(t.shape, generator=gen, dtype=torch.float64) - 0.5).float())
                elif name.endswith(("H_init", "L_init")):
                    t.copy_(normal(t.shape, 1.0).to(t.dtype))
                else:
                    gain = branch_gain if name.endswith(("o_proj.weight", "down_proj.weight")) else 1.0
                    t.copy_(normal(t.shape, gain / math.sqrt(t.shape[-1])))
        return self

    def embed(self, tokens: torch.Tensor, puzzle_ids: torch.Tensor, dtype) -> torch.Tensor:
        """x [B, S, D]: the puzzle row (zero-padded to P·D, viewed as P tokens) before the token
        embeddings, plus learned positions scaled by 0.707106781, all times √D."""
        inner, arch = self.inner, self.arch
        d = arch.hidden_size
        x = inner.embed_tokens.embedding_weight.to(dtype)[tokens.long()]
        if arch.puzzle_emb_ndim > 0:
            rows = inner.puzzle_emb.weights.to(dtype)[puzzle_ids.long()]
            rows = nn.functional.pad(rows, (0, arch.prefix_len * d - rows.shape[-1]))
            x = torch.cat([rows.view(-1, arch.prefix_len, d), x], dim=1)
        if arch.pos_encodings == "learned":
            x = 0.707106781 * (x + inner.embed_pos.embedding_weight.to(dtype))
        return math.sqrt(d) * x

    @torch.no_grad()
    def act(self, tokens, puzzle_ids, steps: int, dtype=torch.float64, h_cycles=None, l_cycles=None):
        """Runs `steps` ACT steps of the evaluation loop (no halting before the last: the official
        evaluation runs every sample to the step limit) on tokens [B, L] and puzzle_ids [B]; returns
        one (logits [B, L, V], q_halt [B], q_continue [B]) per step, as numpy float64.
        `h_cycles`/`l_cycles` override the architecture's (a deliberately wrong reference)."""
        inner, arch = self.inner, self.arch
        h_cycles = arch.H_cycles if h_cycles is None else h_cycles
        l_cycles = arch.L_cycles if l_cycles is None else l_cycles
        tokens, puzzle_ids = torch.as_tensor(tokens), torch.as_tensor(puzzle_ids)
        x = self.embed(tokens, puzzle_ids, dtype)
        rotary = getattr(inner, "rotary_emb", None)
        net = lambda state, injection: inner.L_level(state, injection, rotary)  # noqa: E731
        shape = (tokens.shape[0], arch.full_len, arch.hidden_size)
        z_h = inner.H_init.to(dtype).expand(shape)
        z_l = inner.L_init.to(dtype).expand(shape)
        results = []
        for _ in range(steps):
            for _ in range(h_cycles):
                for _ in range(l_cycles):
                    z_l = net(z_l, z_h + x)
                z_h = net(z_h, z_l)
            logits = inner.lm_head(z_h)[:, arch.prefix_len:]
            q = inner.q_head(z_h[:, 0])
            results.append((logits.numpy(), q[:, 0].numpy(), q[:, 1].numpy()))
        return results


def arch_yaml(arch: Arch, data_path: str) -> str:
    """all_config.yaml as pretrain.py dumps its config (yaml.dump: block style, keys sorted), with
    the official defaults of cfg_pretrain.yaml around the `arch:` mapping. The dataset sizes are
    not arch fields in the official file (pretrain.py adds them when it builds the model)."""
    fields = {
        "name": ARCH_NAME, "loss": {"name": "losses@ACTLossHead", "loss_type": "stablemax_cross_entropy"},
        "halt_exploration_prob": 0.1, "halt_max_steps": arch.halt_max_steps, "H_cycles": arch.H_cycles,
        "L_cycles": arch.L_cycles, "H_layers": 0, "L_layers": arch.L_layers, "hidden_size": arch.hidden_size,
        "num_heads": arch.num_heads, "expansion": arch.expansion, "puzzle_emb_ndim": arch.puzzle_emb_ndim,
        "pos_encodings": arch.pos_encodings, "forward_dtype": arch.forward_dtype, "mlp_t": arch.mlp_t,
        "puzzle_emb_len": arch.puzzle_emb_len, "no_ACT_continue": True,
    }
    # trm.yaml leaves these at the model's defaults, so a run's file has them only when overridden.
    if arch.rope_theta != 10000.0:
        fields["rope_theta"] = arch.rope_theta
    if arch.rms_norm_eps != 1e-5:
        fields["rms_norm_eps"] = arch.rms_norm_eps
    top = {
        "arch": fields, "data_paths": [data_path], "data_paths_test": [], "evaluators": [],
        "global_batch_size": 768, "epochs": 100000, "eval_interval": 10000, "checkpoint_every_eval": True,
        "lr": 0.0001, "lr_min_ratio": 1.0, "lr_warmup_steps": 2000, "beta1": 0.9, "beta2": 0.95,
        "weight_decay": 0.1, "puzzle_emb_weight_decay": 0.1, "puzzle_emb_lr": 0.01, "seed": 0,
        "min_eval_interval": 0, "ema": False, "ema_rate": 0.999, "freeze_weights": False,
        "project_name": "Sudoku-ACT-torch", "run_name": "TinyRecursiveReasoningModel_ACTV1 test",
        "load_checkpoint": None, "checkpoint_path": "checkpoints/test", "eval_save_outputs": [],
    }
    return dump_yaml(top)


def dump_yaml(value, indent: int = 0) -> str:
    """The block YAML yaml.dump writes for mappings of scalars, lists and mappings (keys sorted;
    PyYAML is not a dependency of the tools)."""
    pad = " " * indent

    def scalar(v):
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, float):
            # PyYAML writes repr(), with a '.0' before an exponent that lacks a point (1.0e-05).
            text = repr(v).lower()
            return text.replace("e", ".0e", 1) if "." not in text and "e" in text else text
        text = str(v)
        special = not text or text[0] in "-?:,[]{}#&*!|>'\"%@`" or text.strip() != text or ": " in text \
            or " #" in text or text.endswith(":") or text.lower() in ("null", "true", "false", "yes", "no", "~") \
            or text.replace(".", "", 1).replace("e-", "", 1).isdigit()
        return "'" + text.replace("'", "''") + "'" if special else text

    lines = []
    for key in sorted(value):
        v = value[key]
        if isinstance(v, dict):
            lines.append(f"{pad}{key}:")
            lines.append(dump_yaml(v, indent + 2).rstrip("\n"))
        elif isinstance(v, list):
            if not v:
                lines.append(f"{pad}{key}: []")
            else:
                lines.append(f"{pad}{key}:")
                lines.extend(f"{pad}- {scalar(item)}" for item in v)
        else:
            lines.append(f"{pad}{key}: {scalar(v)}")
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def tagged_as(location: str):
    """Makes torch.save record every CPU storage at `location` ('cuda:0' as a GPU-trained run's file
    has), through torch's own storage-location registry, for the duration of the block."""
    registry = torch.serialization._package_registry
    entry = (-1, lambda storage: location if storage.device.type == "cpu" else None, lambda obj, loc: None)
    registry.insert(0, entry)
    try:
        yield
    finally:
        registry.remove(entry)


def write_dataset(directory: pathlib.Path, arch: Arch, inputs: np.ndarray, puzzle_ids: np.ndarray, labels=None):
    """A dataset folder as the official builders write it (docs/tasks.md §7.1): one puzzle and one
    group per row in the test split's set `all`, tokens as uint8, indices and identifiers int32,
    and identifiers.json naming every identifier (row 0 `<blank>`)."""
    test = directory / "test"
    test.mkdir(parents=True, exist_ok=True)
    rows = inputs.shape[0]
    labels = inputs if labels is None else labels
    meta = {"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": arch.vocab_size,
            "seq_len": arch.seq_len, "num_puzzle_identifiers": arch.num_puzzle_identifiers, "total_groups": rows,
            "mean_puzzle_examples": 1.0, "total_puzzles": rows, "sets": ["all"]}
    (test / "dataset.json").write_text(json.dumps(meta))
    np.save(test / "all__inputs.npy", inputs.astype(np.uint8))
    np.save(test / "all__labels.npy", labels.astype(np.uint8))
    np.save(test / "all__puzzle_identifiers.npy", puzzle_ids.astype(np.int32))
    np.save(test / "all__puzzle_indices.npy", np.arange(rows + 1, dtype=np.int32))
    np.save(test / "all__group_indices.npy", np.arange(rows + 1, dtype=np.int32))
    names = ["<blank>"] + [f"puzzle{i}" for i in range(1, arch.num_puzzle_identifiers)]
    (directory / "identifiers.json").write_text(json.dumps(names))


def write_run(run_dir: pathlib.Path, model: OfficialTRM, step: int, data_path: str, location: str = "cuda:0"):
    """The checkpoint folder of an official run: `step_{step}` written by torch.save of the state
    dict (storages tagged at `location`), and all_config.yaml. Returns the step file."""
    run_dir.mkdir(parents=True, exist_ok=True)
    state = model.state_dict()
    assert isinstance(state, collections.OrderedDict)
    path = run_dir / f"step_{step}"
    with tagged_as(location):
        torch.save(state, path)
    (run_dir / "all_config.yaml").write_text(arch_yaml(model.arch, data_path))
    return path
