"""Times trm-train's supervision step in PyTorch (eager, fp32, torch.set_num_threads), for the trainer
ratio of `make bench` (issue 19): the same model, sizes, step and optimizers as `trm-bench --trainer`
(Sources/trm-bench/TrainerBench.swift, Sources/Trainer/Training/TrainingRun.swift).

    python tools/bench_torch_train.py --preset trm-attn,tr-mamba2attn --batch 8 --threads 2 --repeat 3 \\
        --size reference --json torch-train.json
    python tools/bench_torch_train.py --size small --threads 1,2 --trm-train .build/release/trm-train ...

One timed step is `TrainingRun.trainStep` (docs/model.md §9.1): refill the halted slots of the
persistent carry with H_init/L_init and the next examples; the input embedding (puzzle-row prefix, a
per-batch copy of the rows that autograd sees, then the token embeddings, × √D); H_cycles − 1
H-cycles under torch.no_grad(), each L_cycles updates z_L = net(z_L, z_H + x) then z_H = net(z_H, z_L);
the last H-cycle with autograd; lm_head on the grid positions and q_head on position 0; loss =
Σ_b Σ_t CE / max(n_b, 1) + 0.5 · Σ_b BCE(q_halt, all-correct) (stablemax in float64 or softmax),
backward of loss / B; halting (q_halt > 0 or halt_max_steps, with exploration); sparse SignSGD on the
puzzle rows; AdamATan2 (trm's, no ε) on the dense tensors; EMA of the dense tensors.

The model is tools/official_torch_model.py's (the official module tree and parameter names), with
attention through F.scaled_dot_product_attention as the official layers.py does (`--attention einsum`
keeps that module's einsum attention), and for tr-mamba2attn a Mamba-2 mixer written here (the
official model has none): in_proj, causal depthwise conv + SiLU, dt = softplus(dt + dt_bias),
A = −exp(A_log), the selective scan in its exact quadratic (SSD, single-chunk) form with the D skip,
gated grouped RMSNorm, out_proj — the same function as trm's sequential scan (docs/mamba2.md §2).

Sizes: `reference` is trm-bench --trainer's (Sudoku 9×9, hidden 512, 8 heads, expansion 4, H_cycles 3,
L_cycles 6, S = 81 + 16, 16 ACT steps, Mamba-2 d_state 128 / headdim 64; TrainingOptions' defaults:
stablemax, EMA 0.999); `small` is the shipped Sudoku 6×6 models' (models/README.md: hidden 128, 4 heads,
H_cycles 2, L_cycles 2, one prefix token, 8 ACT steps, d_state 16 / headdim 32, softmax, EMA 0.995,
batch 64 for trm-attn and 32 for tr-mamba2attn). With --trm-train, trm-train itself runs the same
configuration right after (generated puzzles, `--log-every 1`) and its per-step times are recorded
next to PyTorch's: trm-bench --trainer times only the reference size.
"""
import argparse
import dataclasses
import json
import math
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import official_torch_model as otm  # noqa: E402

IGNORE = -100
# |q_halt| under which a replayed halting decision may differ from trm-train's (rounding), see Trainer.step.
FLIP_BAND = 1e-3
# The pieces of the semantics Trainer.mutation can alter, one at a time (tools/tests/test_train_semantics.py).
MUTATIONS = ("carry-not-reset", "halt-loss-weight", "no-exploration", "sgd-not-signsgd", "ema-rate", "adam-not-atan2")
PREFIX = "_orig_mod.model.inner."
PRESETS = {"trm-attn": ("attn", "mlp", "attn", "mlp"), "tr-mamba2attn": ("mamba2", "mamba2", "attn", "mlp")}


@dataclasses.dataclass
class Config:
    """The fields of trm's ModelConfig (Sources/GraphIR/Model/ModelConfig.swift) this step needs."""
    sublayers: tuple
    vocab: int
    seq_len: int
    hidden: int = 512
    heads: int = 8
    expansion: float = 4
    h_cycles: int = 3
    l_cycles: int = 6
    halt_max_steps: int = 16
    puzzle_emb_len: int = 16
    puzzle_emb_ndim: int = 512
    num_puzzle_ids: int = 1
    pos_encodings: str = "rope"
    rope_theta: float = 10000.0
    rms_eps: float = 1e-5
    d_state: int = 128
    d_conv: int = 4
    expand: int = 2
    headdim: int = 64
    ngroups: int = 1
    direction: str = "causal"

    @property
    def full_len(self):
        return self.seq_len + self.puzzle_emb_len

    @staticmethod
    def from_trm_json(text):
        """A config from a checkpoint's `trm.config` JSON."""
        c = json.loads(text)
        m = c.get("mamba", {})
        return Config(
            sublayers=tuple(c["sublayers"]), vocab=c["vocab"], seq_len=c["seq_len"], hidden=c["hidden"], heads=c["heads"],
            expansion=c["expansion"], h_cycles=c["H_cycles"], l_cycles=c["L_cycles"], halt_max_steps=c["halt_max_steps"],
            puzzle_emb_len=c["puzzle_emb_len"], puzzle_emb_ndim=c["puzzle_emb_ndim"], num_puzzle_ids=c["num_puzzle_ids"],
            pos_encodings=c["pos_encodings"], rope_theta=c.get("rope_theta", 10000.0), rms_eps=c.get("rms_eps", 1e-5),
            d_state=m.get("d_state", 128), d_conv=m.get("d_conv", 4), expand=m.get("expand", 2),
            headdim=m.get("headdim", 64), ngroups=m.get("ngroups", 1), direction=m.get("direction", "causal"))


@dataclasses.dataclass
class Options:
    """trm's TrainingOptions (Sources/Trainer/Training/TrainingOptions.swift), defaults as trm-bench uses them."""
    lr: float = 1e-4
    warmup_steps: int = 2000
    total_steps: int = 1_000_000
    lr_min_ratio: float = 1.0
    weight_decay: float = 0.1
    puzzle_emb_lr: float = 1e-2
    puzzle_emb_weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    ema: float = 0.999  # None: no EMA
    exploration: float = 0.1
    loss: str = "stablemax"
    seed: int = 0
    halt_loss_weight: float = 0.5  # the 0.5 of CE + 0.5 · BCE


# The two sizes of the benchmark: (task grid, model fields, options, batch per preset).
SIZES = {
    "reference": dict(grid=9, model={}, options={}, batch={"trm-attn": 8, "tr-mamba2attn": 8}),
    "small": dict(grid=6,
                  model=dict(hidden=128, puzzle_emb_ndim=128, heads=4, h_cycles=2, l_cycles=2, halt_max_steps=8,
                             puzzle_emb_len=1),
                  mamba=dict(d_state=16, headdim=32),
                  options=dict(lr=1e-3, warmup_steps=100, weight_decay=0.1, puzzle_emb_lr=1e-4,
                               puzzle_emb_weight_decay=1.0, ema=0.995, loss="softmax"),
                  batch={"trm-attn": 64, "tr-mamba2attn": 32}),
    # For the tests: seconds, not minutes.
    "tiny": dict(grid=4,
                 model=dict(hidden=32, puzzle_emb_ndim=32, heads=2, expansion=2, h_cycles=2, l_cycles=2,
                            halt_max_steps=4, puzzle_emb_len=2),
                 mamba=dict(d_state=8, headdim=8),
                 options=dict(lr=1e-3, warmup_steps=1),
                 batch={"trm-attn": 4, "tr-mamba2attn": 4}),
}


def sudoku_config(preset, size):
    """The config trm builds for `preset` on Sudoku at `size` (Preset.config(task: .sudoku, grid:) and the
    shipped models' overrides)."""
    s = SIZES[size]
    n = s["grid"]
    fields = dict(sublayers=PRESETS[preset], vocab=n + 2, seq_len=n * n, **s["model"])
    if "mamba2" in PRESETS[preset]:
        fields.update(s.get("mamba", {}))
    return Config(**fields)


def size_options(size):
    return Options(**SIZES[size]["options"])


# ---------------------------------------------------------------- model


class SDPASelfAttention(otm.SelfAttention):
    """The official model's attention through F.scaled_dot_product_attention, as the official layers.py
    computes it (non-causal, 1/√d scale); same parameters and names as otm.SelfAttention."""

    def forward(self, x, rotary):
        b, s, _ = x.shape
        q, k, v = self.qkv_proj(x).view(b, s, 3, self.heads, self.head_dim).unbind(dim=2)
        if rotary is not None:
            q, k = rotary.rotate(q), rotary.rotate(k)
        out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        return self.o_proj(out.transpose(1, 2).reshape(b, s, self.heads * self.head_dim))


class GatedNorm(nn.Module):
    """Mamba-2's gated RMSNorm (norm_before_gate = False): rms-normalise y ⊙ silu(z) per group, × weight."""

    def __init__(self, width, group, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))
        self.group, self.eps = group, eps

    def forward(self, y, z):
        v = y * F.silu(z)
        shape = v.shape
        v = otm.rms_norm(v.reshape(*shape[:-1], -1, self.group), self.eps).reshape(shape)
        return v * self.weight


def segsum(x):
    """x [..., T] -> [..., T, T]: entry (t, s) = Σ_{s<k≤t} x_k for s ≤ t, −inf above the diagonal,
    summed along the rows of a masked copy (no difference of cumulative sums, so no cancellation)."""
    t = x.shape[-1]
    rep = x[..., None].expand(*x.shape, t)  # rep[..., k, s] = x_k
    below = torch.tril(torch.ones(t, t, dtype=torch.bool, device=x.device), diagonal=-1)
    out = torch.cumsum(rep.masked_fill(~below, 0), dim=-2)
    return out.masked_fill(~torch.tril(torch.ones(t, t, dtype=torch.bool, device=x.device)), -math.inf)


class Mamba2Mixer(nn.Module):
    """f(u) of a trm `mamba2` sub-layer (Sources/Trainer/Layers/Mamba2Mixer.swift, docs/mamba2.md §2), with
    trm's tensor names and shapes: in_proj -> z | xBC | dt; causal depthwise conv1d (+ bias) and SiLU on xBC
    -> x, B, C; dt = softplus(dt + dt_bias); A = −exp(A_log); y_t = Σ_{s≤t} exp(Σ_{s<k≤t} dt_k A)·dt_s·(C_t·B_s)·x_s
    + D·x_t (the scan from a zero state, in its exact quadratic form); gated RMSNorm; out_proj. `reverse`
    runs on the flipped sequence; `bidirectional` averages both gated outputs."""

    def __init__(self, cfg: Config):
        super().__init__()
        d, e = cfg.hidden, cfg.expand * cfg.hidden
        self.e, self.p, self.n, self.g = e, cfg.headdim, cfg.d_state, cfg.ngroups
        self.h = e // cfg.headdim
        self.conv_channels = e + 2 * self.g * self.n
        self.kernel, self.direction = cfg.d_conv, cfg.direction
        self.in_proj = otm.Linear(d, 2 * e + 2 * self.g * self.n + self.h)
        self.conv1d = nn.Conv1d(self.conv_channels, self.conv_channels, cfg.d_conv, groups=self.conv_channels, bias=True)
        self.dt_bias = nn.Parameter(torch.zeros(self.h))
        self.A_log = nn.Parameter(torch.zeros(self.h))
        self.D = nn.Parameter(torch.ones(self.h))
        self.norm = GatedNorm(e, e // self.g, cfg.rms_eps)
        self.out_proj = otm.Linear(e, d)

    def scan(self, xbc, dt_raw):
        """xbc [B, L, C] (before the conv), dt_raw [B, L, H] -> y [B, L, E], causal."""
        b, length, _ = xbc.shape
        pre = F.conv1d(xbc.transpose(1, 2), self.conv1d.weight, self.conv1d.bias, padding=self.kernel - 1,
                       groups=self.conv_channels)[..., :length]
        x, bm, cm = F.silu(pre).transpose(1, 2).split([self.e, self.g * self.n, self.g * self.n], dim=-1)
        dt = F.softplus(dt_raw + self.dt_bias)  # [B, L, H]
        a = -torch.exp(self.A_log)
        per = self.h // self.g
        decay = torch.exp(segsum((dt * a).transpose(1, 2)))  # [B, H, t, s]
        cb = torch.einsum("btgn,bsgn->bgts", cm.view(b, length, self.g, self.n), bm.view(b, length, self.g, self.n))
        m = decay * cb.repeat_interleave(per, dim=1) * dt.transpose(1, 2)[:, :, None, :]
        xh = x.view(b, length, self.h, self.p)
        y = torch.einsum("bhts,bshp->bthp", m, xh) + self.D[:, None] * xh
        return y.reshape(b, length, self.e)

    def forward(self, u):
        zx = self.in_proj(u)
        z, xbc, dt_raw = zx.split([self.e, self.conv_channels, self.h], dim=-1)
        gated = []
        if self.direction in ("causal", "bidirectional"):
            gated.append(self.norm(self.scan(xbc, dt_raw), z))
        if self.direction in ("reverse", "bidirectional"):
            gated.append(self.norm(self.scan(xbc.flip(1), dt_raw.flip(1)).flip(1), z))
        return self.out_proj(gated[0] if len(gated) == 1 else 0.5 * (gated[0] + gated[1]))


class HybridBlock(nn.Module):
    """A block of trm sub-layers in order, each post-norm h = rmsnorm(h + f(h)), with trm's names
    (ParameterLayout.swift): `mamba2.{j}`, `self_attn`, `mlp`."""

    def __init__(self, cfg: Config, arch: otm.Arch, kinds):
        super().__init__()
        assert kinds.count("attn") <= 1 and kinds.count("mlp") <= 1 and set(kinds) <= {"attn", "mlp", "mamba2"}, kinds
        self.kinds, self.eps = kinds, cfg.rms_eps
        if "mamba2" in kinds:
            self.mamba2 = nn.ModuleList([Mamba2Mixer(cfg) for _ in range(kinds.count("mamba2"))])
        if "attn" in kinds:
            self.self_attn = otm.SelfAttention(arch)
        if "mlp" in kinds:
            self.mlp = otm.SwiGLU(cfg.hidden, cfg.expansion)

    def forward(self, x, rotary):
        j = 0
        for kind in self.kinds:
            if kind == "mamba2":
                f = self.mamba2[j](x)
                j += 1
            elif kind == "attn":
                f = self.self_attn(x, rotary)
            else:
                f = self.mlp(x)
            x = otm.rms_norm(x + f, self.eps)
        return x


def blocks_of(sublayers):
    """trm's grouping of sub-layers into blocks: each block ends with a channel MLP."""
    blocks = [[]]
    for kind in sublayers:
        blocks[-1].append(kind)
        if kind == "mlp":
            blocks.append([])
    return [tuple(b) for b in blocks if b]


def build_model(cfg: Config, attention="sdpa"):
    """otm.OfficialTRM with trm's config: official attn+mlp blocks where the preset has them, HybridBlocks
    (Mamba-2) otherwise, fp32 throughout. Weights are zero until `reference_init` or `load_trm_weights`."""
    assert cfg.pos_encodings in ("rope", "none", "learned")
    blocks = blocks_of(cfg.sublayers)
    arch = otm.Arch(vocab_size=cfg.vocab, seq_len=cfg.seq_len, num_puzzle_identifiers=cfg.num_puzzle_ids,
                    hidden_size=cfg.hidden, num_heads=cfg.heads, expansion=cfg.expansion, H_cycles=cfg.h_cycles,
                    L_cycles=cfg.l_cycles, L_layers=len(blocks), halt_max_steps=cfg.halt_max_steps,
                    puzzle_emb_ndim=cfg.puzzle_emb_ndim if cfg.puzzle_emb_len else 0,
                    puzzle_emb_len=cfg.puzzle_emb_len, pos_encodings=cfg.pos_encodings, rope_theta=cfg.rope_theta,
                    rms_norm_eps=cfg.rms_eps, forward_dtype="float32")
    model = otm.OfficialTRM(arch)
    layers = model.inner.L_level.layers
    for i, kinds in enumerate(blocks):
        if kinds != ("attn", "mlp"):
            layers[i] = HybridBlock(cfg, arch, kinds)
    if attention == "sdpa":
        for module in list(model.modules()):
            for name, child in list(module.named_children()):
                if type(child) is otm.SelfAttention:
                    setattr(module, name, SDPASelfAttention(arch))
    elif attention != "einsum":
        raise ValueError(f"attention {attention!r}")
    return model


def trunc_normal(shape, std, gen):
    """tn(σ): a normal truncated at ±2σc with σc chosen so that the samples' std is σ (docs/model.md §3.2)."""
    t = torch.empty(shape, dtype=torch.float64)
    nn.init.trunc_normal_(t, std=std / 0.8796256610, a=-2 * std / 0.8796256610, b=2 * std / 0.8796256610, generator=gen)
    return t.float()


@torch.no_grad()
def reference_init(model, seed=1):
    """trm's ReferenceInitializer by its table (docs/model.md §3.2, docs/mamba2.md §3; not its random
    streams): tn(1/√fan_in) matrices and embeddings, q_head 0 with bias −5, puzzle table 0, H_init/L_init
    tn(1); Mamba-2 in/out_proj and conv U(±1/√fan_in), dt_bias softplus⁻¹(dt0), A_log ln U(1, 16), D and
    norm 1."""
    gen = torch.Generator().manual_seed(seed)
    state = model.state_dict()
    for name, t in state.items():
        short = name[len(PREFIX):]
        if short.startswith("q_head"):
            t.fill_(-5.0 if short.endswith("bias") else 0.0)
        elif short.startswith("puzzle_emb"):
            t.zero_()
        elif short in ("H_init", "L_init"):
            t.copy_(trunc_normal(t.shape, 1.0, gen))
        elif ".mamba2." in short:
            leaf = short.split(".mamba2.")[1].split(".", 1)[1]
            if leaf in ("in_proj.weight", "out_proj.weight"):
                bound = 1 / math.sqrt(t.shape[-1])
                t.uniform_(-bound, bound, generator=gen)
            elif leaf.startswith("conv1d"):
                bound = 1 / math.sqrt(state[name.replace(".bias", ".weight")].shape[-1])  # 1/√K
                t.uniform_(-bound, bound, generator=gen)
            elif leaf == "dt_bias":
                dt = torch.exp(torch.empty(t.shape).uniform_(math.log(1e-3), math.log(1e-1), generator=gen)).clamp_min(1e-4)
                t.copy_(dt + torch.log(-torch.expm1(-dt)))
            elif leaf == "A_log":
                t.copy_(torch.log(torch.empty(t.shape).uniform_(1, 16, generator=gen)))
            else:  # D, norm.weight
                t.fill_(1.0)
        else:
            t.copy_(trunc_normal(t.shape, 1 / math.sqrt(t.shape[-1]), gen))
    return model


def load_trm_checkpoint(path, attention="sdpa"):
    """(Config, model) from a trm checkpoint (safetensors with `trm.config` metadata), every tensor under
    its trm name (the conv weight is [C, 1, K] in both)."""
    from safetensors import safe_open
    with safe_open(str(path), "pt") as f:
        cfg = Config.from_trm_json(f.metadata()["trm.config"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    model = build_model(cfg, attention)
    state = model.state_dict()
    assert set(state) == {PREFIX + k for k in tensors}, sorted(set(state) ^ {PREFIX + k for k in tensors})
    model.load_state_dict({PREFIX + k: v.float().reshape(state[PREFIX + k].shape) for k, v in tensors.items()})
    return cfg, model


# ---------------------------------------------------------------- FLOPs


def trm_flops_per_sample(cfg: Config, model):
    """TrainingRun.flopsPerSample from the PyTorch model's own tensors: every 2-D L_level weight 2·count·S
    (2·count·D for mlp_t), 4·S²·D per attention, the heads 2·L·V·D; the no-gradient applications once,
    the L_cycles + 1 differentiated ones three times, the heads three times."""
    s, d = cfg.full_len, cfg.hidden
    per_app = sum(2 * p.numel() * (d if ".mlp_t." in n else s)
                  for n, p in model.inner.L_level.named_parameters() if p.dim() == 2)
    per_app += 4 * s * s * d * sum(isinstance(m, otm.SelfAttention) for m in model.modules())
    heads = 2 * cfg.seq_len * cfg.vocab * d
    apps = cfg.h_cycles * (cfg.l_cycles + 1)
    return per_app * (apps + 2 * (cfg.l_cycles + 1)) + 3 * heads


# ---------------------------------------------------------------- the step


class AdamATan2:
    """trm's AdamATan2 (Sources/Trainer/Training/Optimizers.swift, docs/model.md §9.2), fp32, no ε:
    θ ← θ·(1 − lr·wd) − lr/(1 − β1^t) · atan2(m, √v / √(1 − β2^t)) after m, v move towards g, g²."""

    def __init__(self, params, beta1, beta2, weight_decay):
        self.plain_adam = False  # Trainer.mutation "adam-not-atan2": m / (√v + 1e-8) instead of atan2(m, √v)
        self.params = list(params)
        self.beta1, self.beta2, self.wd = beta1, beta2, weight_decay
        self.t = 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self, lr):
        self.t += 1
        f32 = np.float32
        c1 = f32(1) - f32(self.beta1) ** self.t
        c2 = np.sqrt(f32(1) - f32(self.beta2) ** self.t)
        step_size, decay = float(f32(lr) / c1), float(f32(1) - f32(lr) * f32(self.wd))
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad if p.grad is not None else torch.zeros_like(p)
            m.add_(g - m, alpha=1 - self.beta1)
            v.add_(g * g - v, alpha=1 - self.beta2)
            update = m / (v.sqrt() / float(c2) + 1e-8) if self.plain_adam else torch.atan2(m, v.sqrt() / float(c2))
            p.mul_(decay).sub_(update, alpha=step_size)
            p.grad = None


def lr_factor(step, o: Options):
    """LearningRateSchedule.factor (docs/model.md §9.4)."""
    if step < o.warmup_steps:
        return step / o.warmup_steps
    progress = (step - o.warmup_steps) / max(1, o.total_steps - o.warmup_steps)
    return o.lr_min_ratio + max(0.0, (1 - o.lr_min_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def token_losses(logits, labels, kind):
    """Per-token loss [B, L] (0 where ignored): stablemax in float64 as the reference, or softmax CE."""
    mask = labels != IGNORE
    safe = torch.where(mask, labels, 0).long()
    if kind == "stablemax":
        z = logits.double()
        s = torch.where(z >= 0, z + 1, 1 / (1 - z))
        loss = torch.log(s.sum(-1)) - torch.log(s.gather(-1, safe[..., None])[..., 0])
    elif kind == "softmax":
        loss = F.cross_entropy(logits.flatten(0, 1), safe.flatten(), reduction="none").view(labels.shape)
    else:
        raise ValueError(kind)
    return torch.where(mask, loss, torch.zeros_like(loss)), mask


class Examples:
    """A fixed list of examples (tokens [N, L], labels [N, L] with −100 ignored, puzzle ids [N]) drawn in a
    fresh random order each epoch, as ExampleSampler does (without augmentation)."""

    def __init__(self, tokens, labels, ids, seed=0):
        self.tokens, self.labels, self.ids = tokens, labels, ids
        self.gen = torch.Generator().manual_seed(seed)
        self.order, self.position = [], 0

    def next(self):
        if not self.order:
            self.order = torch.randperm(len(self.tokens), generator=self.gen).tolist()
        i = self.order.pop()
        self.position += 1
        return self.tokens[i], self.labels[i], self.ids[i]

    @staticmethod
    def random_sudoku(cfg: Config, count, seed=11):
        """Stand-ins for generated Sudoku puzzles (timing does not depend on the values): labels digits
        2..vocab−1 on every cell, inputs the label or blank (1) at random."""
        gen = torch.Generator().manual_seed(seed)
        labels = torch.randint(2, cfg.vocab, (count, cfg.seq_len), generator=gen)
        blank = torch.rand(count, cfg.seq_len, generator=gen) < 0.6
        return Examples(torch.where(blank, 1, labels), labels, torch.zeros(count, dtype=torch.long), seed)


class Trainer:
    """TrainingRun (Sources/Trainer/Training/TrainingRun.swift) in PyTorch: weights, AdamATan2 state, EMA
    shadow, the persistent carry; `step()` is one `trainStep`."""

    def __init__(self, cfg: Config, model, options: Options, batch: int, source: Examples):
        self.cfg, self.model, self.o, self.batch, self.source = cfg, model, options, batch, source
        inner = model.inner
        self.inner = inner
        self.rotary = getattr(inner, "rotary_emb", None)
        self.dense = [p for _, p in inner.named_parameters()]  # H_init, L_init and the puzzle table are buffers
        self.adam = AdamATan2(self.dense, options.beta1, options.beta2, options.weight_decay)
        self.shadow = [p.detach().clone() for p in self.dense] if options.ema is not None else None
        b, s, d = batch, cfg.full_len, cfg.hidden
        self.z_h, self.z_l = torch.zeros(b, s, d), torch.zeros(b, s, d)
        self.steps = torch.zeros(b, dtype=torch.long)
        self.halted = torch.ones(b, dtype=torch.bool)
        self.tokens = torch.zeros(b, cfg.seq_len, dtype=torch.long)
        self.labels = torch.full((b, cfg.seq_len), IGNORE, dtype=torch.long)
        self.ids = torch.zeros(b, dtype=torch.long)
        self.rng = torch.Generator().manual_seed(options.seed ^ 0x5EED0FAC7)
        self.t = 0
        # Replaying a trace (tools/train_semantics.py): the last step's q_halt and halting, and how many halting
        # decisions on a |q_halt| below FLIP_BAND followed the trace where this step's own q_halt disagreed.
        self.last_q_halt, self.last_halted, self.flips = None, None, 0
        # One piece of the semantics altered on purpose, to show that a replay comparison catches it (MUTATIONS).
        self.mutation = None
        # torch.autocast to bfloat16 around the forward (--dtype bf16): PyTorch's own mixed precision on
        # CPU (matmuls in bf16 with bf16 outputs, fp32 master weights and optimizer); timing only.
        self.autocast = False

    def net(self, state, injection):
        return self.inner.L_level(state, injection, self.rotary)

    def embed(self, tokens, rows):
        """x [B, S, D]: the puzzle rows zero-padded to P·D as P tokens, then the token embeddings, × √D
        (learned positions: added, then × 0.707106781)."""
        cfg, inner = self.cfg, self.inner
        x = F.embedding(tokens, inner.embed_tokens.embedding_weight)
        if rows is not None:
            rows = F.pad(rows, (0, cfg.puzzle_emb_len * cfg.hidden - rows.shape[-1]))
            x = torch.cat([rows.view(-1, cfg.puzzle_emb_len, cfg.hidden), x], dim=1)
        if cfg.pos_encodings == "learned":
            x = 0.707106781 * (x + inner.embed_pos.embedding_weight)
        return math.sqrt(cfg.hidden) * x

    def refill(self, refills=None):
        """Loads the next examples into the halted slots, from the source or from a trace's `refills` (which
        must name exactly the halted slots)."""
        inner = self.inner
        slots = torch.nonzero(self.halted).flatten().tolist()
        if refills is not None:
            assert [r["slot"] for r in refills] == slots, f"step {self.t}: the trace refills {[r['slot'] for r in refills]}, halted {slots}"
        for i, b in enumerate(slots):
            if refills is None:
                tokens, labels, pid = self.source.next()
            else:
                r = refills[i]
                tokens, labels, pid = torch.tensor(r["tokens"]), torch.tensor(r["labels"]), r["puzzle_id"]
            self.tokens[b], self.labels[b], self.ids[b] = tokens, labels, pid
            if self.mutation != "carry-not-reset":
                self.z_h[b] = inner.H_init
                self.z_l[b] = inner.L_init
            self.steps[b] = 0
        self.halted.zero_()

    def step(self, trace=None):
        """One optimizer step; returns (loss, lm_loss, q_halt_loss), each / B, as trm-train logs them. With
        `trace` (one line of `trm-train --trace`) the step replays trm-train's random draws: the refilled
        examples and the exploration minima."""
        cfg, o, inner, b = self.cfg, self.o, self.inner, self.batch
        self.t += 1
        factor = lr_factor(self.t, o)
        self.refill(None if trace is None else trace["refills"])
        has_puzzle = cfg.puzzle_emb_len > 0
        rows = inner.puzzle_emb.weights[self.ids].clone().requires_grad_() if has_puzzle else None
        autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.autocast)
        autocast.__enter__()
        x = self.embed(self.tokens, rows)
        z_h, z_l = self.z_h, self.z_l
        with torch.no_grad():
            for _ in range(cfg.h_cycles - 1):
                for _ in range(cfg.l_cycles):
                    z_l = self.net(z_l, z_h + x)
                z_h = self.net(z_h, z_l)
        for _ in range(cfg.l_cycles):
            z_l = self.net(z_l, z_h + x)
        z_h = self.net(z_h, z_l)
        logits = inner.lm_head(z_h[:, cfg.puzzle_emb_len:])
        q = inner.q_head(z_h[:, 0])
        per_token, mask = token_losses(logits, self.labels, o.loss)
        counts = mask.sum(-1)
        lm = (per_token / counts.clamp_min(1)[:, None].to(per_token.dtype)).sum()
        with torch.no_grad():
            exact = ((logits.argmax(-1) == self.labels) & mask).sum(-1) == counts
        halt = F.binary_cross_entropy_with_logits(q[:, 0], exact.to(q.dtype), reduction="sum")
        total = lm + (0.25 if self.mutation == "halt-loss-weight" else o.halt_loss_weight) * halt
        autocast.__exit__(None, None, None)
        (total / b).backward()
        q_halt = q[:, 0].detach()
        # Halting (TrainingCarry.advance).
        self.z_h, self.z_l = z_h.detach(), z_l.detach()
        self.steps += 1
        halted = self.steps >= cfg.halt_max_steps
        if cfg.halt_max_steps > 1:
            halted |= q_halt > 0
            if trace is not None:
                minimum = torch.tensor(trace["min_steps"]) if self.mutation != "no-exploration" else torch.zeros(b, dtype=torch.long)
            else:
                explores = torch.rand(b, generator=self.rng) < o.exploration
                low = torch.randint(2, cfg.halt_max_steps + 1, (b,), generator=self.rng)
                minimum = torch.where(explores, low, 0)
            halted &= self.steps >= minimum
        if trace is not None:
            theirs = torch.tensor(trace["halted"])
            disagree = halted != theirs
            # A q_halt within rounding of 0 may fall on the other side in another implementation: follow the trace.
            near_zero = q_halt.abs() < FLIP_BAND
            assert not (disagree & ~near_zero).any(), \
                f"step {self.t}: halting {halted.tolist()} where trm-train halted {theirs.tolist()} (q_halt {q_halt.tolist()})"
            self.flips += int(disagree.sum())
            halted = theirs
        self.halted = halted
        self.last_q_halt, self.last_halted = q_halt, halted.clone()
        with torch.no_grad():
            if has_puzzle:  # sparse SignSGD on the rows of the batch (PuzzleEmbeddingSignSGD)
                table = inner.puzzle_emb.weights
                summed = torch.zeros_like(table).index_add_(0, self.ids, rows.grad)
                used = torch.unique(self.ids)
                lr = o.puzzle_emb_lr * factor
                step = summed[used] if self.mutation == "sgd-not-signsgd" else torch.sign(summed[used])
                table[used] = table[used] * (1 - lr * o.puzzle_emb_weight_decay) - lr * step
            self.adam.plain_adam = self.mutation == "adam-not-atan2"
            self.adam.step(o.lr * factor)
            if self.shadow is not None:
                torch._foreach_lerp_(self.shadow, self.dense, 1 - (0.8 if self.mutation == "ema-rate" else o.ema))
        return float(total.detach()) / b, float(lm.detach()) / b, float(halt.detach()) / b


# ---------------------------------------------------------------- timing


def time_torch(preset, size, batch, threads, repeat, attention="sdpa", dtype="fp32"):
    cfg, options = sudoku_config(preset, size), size_options(size)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = reference_init(build_model(cfg, attention), seed=1)
    trainer = Trainer(cfg, model, options, batch, Examples.random_sudoku(cfg, max(batch, 8)))
    trainer.autocast = dtype == "bf16"
    trainer.step()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        trainer.step()
        times.append(time.perf_counter() - t0)
    flops = trm_flops_per_sample(cfg, model)
    best, median = min(times), statistics.median(times)
    return {"preset": preset, "size": size, "batch": batch, "threads": threads, "s_best": best, "s_median": median,
            "samples_per_s": batch / best, "gflop_per_sample": flops / 1e9, "gflops": batch * flops / best / 1e9,
            "params": sum(p.numel() for p in trainer.dense), "config": dataclasses.asdict(cfg),
            "loss": options.loss, "ema": options.ema, "dtype": dtype}


def trm_train_command(binary, preset, size, batch, threads, steps, output, precision="fp32"):
    """The trm-train command of the same configuration (the shipped models' flags for `small`)."""
    cfg, o = sudoku_config(preset, size), size_options(size)
    n = SIZES[size]["grid"]
    cmd = [str(binary), "--task", "sudoku", "--grid", str(n), "--preset", preset, "--hidden", str(cfg.hidden),
           "--heads", str(cfg.heads), "--expansion", str(cfg.expansion), "--h-cycles", str(cfg.h_cycles),
           "--l-cycles", str(cfg.l_cycles), "--halt-max-steps", str(cfg.halt_max_steps),
           "--puzzle-emb-len", str(cfg.puzzle_emb_len), "--steps", str(steps), "--batch", str(batch), "--lr", str(o.lr),
           "--warmup", str(o.warmup_steps), "--weight-decay", str(o.weight_decay), "--puzzle-emb-lr", str(o.puzzle_emb_lr),
           "--puzzle-emb-weight-decay", str(o.puzzle_emb_weight_decay), "--loss", o.loss,
           "--exploration", str(o.exploration), "--train-count", str(max(batch, 8)), "--eval-count", "0",
           "--log-every", "1", "--checkpoint-every", "1000000000", "--threads", str(threads), "--seed", "0", "-q",
           "--precision", precision]
    cmd += ["--ema", str(o.ema)] if o.ema is not None else ["--no-ema"]
    if "mamba2" in cfg.sublayers:
        cmd += ["--d-state", str(cfg.d_state), "--headdim", str(cfg.headdim)]
    return cmd + ["-o", str(output)]


def time_trm_train(binary, preset, size, batch, threads, repeat, precision="fp32"):
    """trm-train's own per-step times (batch / samples_per_s of each `--log-every 1` record, which times
    the optimizer step alone) for 1 warm-up + `repeat` steps of the same configuration."""
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "m.ckpt"
        cmd = trm_train_command(binary, preset, size, batch, threads, 1 + repeat, out, precision)
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        records = [json.loads(line) for line in open(str(out) + ".metrics.jsonl")]
    times = [batch / r["samples_per_s"] for r in records if r["kind"] == "train" and r["step"] > 1]
    assert len(times) == repeat, records
    shown = cmd[1:-1] + ["m.ckpt"]  # the temporary output's path is of no interest
    return {"s_best": min(times), "s_median": statistics.median(times), "command": " ".join(shown)}


def fmt(seconds):
    return f"{seconds:.3g}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="trm-attn,tr-mamba2attn", help="comma-separated: " + ", ".join(PRESETS))
    parser.add_argument("--size", default="reference", help="comma-separated: reference, small (tiny: for the tests)")
    parser.add_argument("--batch", help="comma-separated batch sizes (default: reference 8; small the shipped models')")
    parser.add_argument("--threads", default="2", help="comma-separated thread counts")
    parser.add_argument("--repeat", type=int, default=3, help="timed steps after one warm-up step")
    parser.add_argument("--attention", default="sdpa", choices=["sdpa", "einsum"],
                        help="F.scaled_dot_product_attention (the official layers.py) or official_torch_model's einsum")
    parser.add_argument("--dtype", default="fp32",
                        help="comma-separated: fp32 (the semantics test's arithmetic), bf16 (torch.autocast to bfloat16 "
                             "around the forward, PyTorch's CPU mixed precision; timing only)")
    parser.add_argument("--trm-train", help="also time trm-train (this binary) on the same configurations")
    parser.add_argument("--json", help="write the results as JSON")
    args = parser.parse_args(argv)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set, or inter-op work already started (a second call in one process)
        pass
    dtypes = args.dtype.split(",")
    if any(d not in ("fp32", "bf16") for d in dtypes):
        parser.error(f"--dtype: {args.dtype!r} is not a list of fp32 and bf16")
    rows, threads_before = [], torch.get_num_threads()
    for size in args.size.split(","):
        if size not in SIZES:
            parser.error(f"unknown size {size!r}")
        for preset in args.preset.split(","):
            if preset not in PRESETS:
                parser.error(f"unknown preset {preset!r}")
            batches = [int(b) for b in args.batch.split(",")] if args.batch else [SIZES[size]["batch"][preset]]
            for batch in batches:
                for threads in [int(t) for t in args.threads.split(",")]:
                    for dtype in dtypes:
                        r = time_torch(preset, size, batch, threads, args.repeat, args.attention, dtype)
                        line = (f"{preset} batch {batch} threads {threads}: {fmt(r['s_best'])} s/step best "
                                f"({fmt(r['s_median'])} median), PyTorch {torch.__version__} eager "
                                f"{'fp32' if dtype == 'fp32' else 'bf16 autocast'}, {size} size, {r['gflops']:.1f} GFLOP/s")
                        if args.trm_train:
                            r["trm_train"] = time_trm_train(args.trm_train, preset, size, batch, threads, args.repeat, dtype)
                            r["torch_over_trm"] = r["s_best"] / r["trm_train"]["s_best"]
                            line += (f"; trm-train {fmt(r['trm_train']['s_best'])} s/step best "
                                     f"(PyTorch ÷ trm = {r['torch_over_trm']:.2f})")
                        print(line, flush=True)
                        rows.append(r)
    torch.set_num_threads(threads_before)
    if args.json:
        report = {"torch": torch.__version__, "attention": args.attention, "repeat": args.repeat,
                  "mamba2": "Mamba-2 mixer of tools/bench_torch_train.py (quadratic SSD form of the scan)",
                  "cpu_count": os.cpu_count(), "results": rows}
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
