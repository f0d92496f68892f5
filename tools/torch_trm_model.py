"""trm's model in PyTorch, for the trainer benchmark and the semantics comparison (tools/bench_torch_train.py,
tools/torch_trm_train.py, tools/tests/test_train_semantics.py): the config fields of a trm checkpoint, the
official TRM module tree of tools/official_torch_model.py with trm's parameter names, and for tr-mamba2attn a
Mamba-2 mixer of its own (the official model has none): in_proj, causal depthwise conv + SiLU,
dt = softplus(dt + dt_bias), A = −exp(A_log), the selective scan in its exact quadratic (SSD, single-chunk)
form with the D skip, gated grouped RMSNorm, out_proj — the same function as trm's sequential scan
(docs/mamba2.md §2). Attention goes through F.scaled_dot_product_attention as the official layers.py does
(`attention="einsum"` keeps official_torch_model's einsum attention). Also trm's reference initialisation
by its table, checkpoint loading and trm's FLOP count of a training sample.
"""
import dataclasses
import json
import math
import pathlib
import sys

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import official_torch_model as otm  # noqa: E402

IGNORE = -100
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
    (ParameterLayout.swift): `mamba2.{j}`, `self_attn`, `mlp`, `mlp_t` (the SwiGLU over the S positions,
    its residual and norm over S on the transposed view, as the official Block's; docs/model.md §5.5)."""

    def __init__(self, cfg: Config, arch: otm.Arch, kinds):
        super().__init__()
        assert all(kinds.count(k) <= 1 for k in ("attn", "mlp", "mlp_t")), kinds
        assert set(kinds) <= {"attn", "mlp", "mlp_t", "mamba2"}, kinds
        self.kinds, self.eps = kinds, cfg.rms_eps
        if "mamba2" in kinds:
            self.mamba2 = nn.ModuleList([Mamba2Mixer(cfg) for _ in range(kinds.count("mamba2"))])
        if "attn" in kinds:
            self.self_attn = otm.SelfAttention(arch)
        if "mlp" in kinds:
            self.mlp = otm.SwiGLU(cfg.hidden, cfg.expansion)
        if "mlp_t" in kinds:
            self.mlp_t = otm.SwiGLU(cfg.full_len, cfg.expansion)

    def forward(self, x, rotary):
        j = 0
        for kind in self.kinds:
            if kind == "mamba2":
                f = self.mamba2[j](x)
                j += 1
            elif kind == "attn":
                f = self.self_attn(x, rotary)
            elif kind == "mlp_t":
                t = x.transpose(1, 2)
                x = otm.rms_norm(t + self.mlp_t(t), self.eps).transpose(1, 2)
                continue
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
    (Mamba-2, mlp_t) otherwise, fp32 throughout. Weights are zero until `reference_init` or `load_trm_weights`."""
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
