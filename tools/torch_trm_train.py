"""trm-train's supervision step in PyTorch (TrainingRun.trainStep, docs/model.md §9.1), on the model of
tools/torch_trm_model.py: refill the halted slots of the persistent carry with H_init/L_init and the next
examples; the input embedding (puzzle-row prefix, a per-batch copy of the rows that autograd sees, then the
token embeddings, × √D); H_cycles − 1 H-cycles under torch.no_grad(), each L_cycles updates
z_L = net(z_L, z_H + x) then z_H = net(z_H, z_L); the last H-cycle with autograd; lm_head on the grid
positions and q_head on position 0; loss = Σ_b Σ_t CE / max(n_b, 1) + 0.5 · Σ_b BCE(q_halt, all-correct)
(stablemax in float64 or softmax), backward of loss / B; halting (q_halt > 0 or halt_max_steps, with
exploration); sparse SignSGD on the puzzle rows; AdamATan2 (trm's, no ε) on the dense tensors; EMA of the
dense tensors. tools/bench_torch_train.py times it; tools/tests/test_train_semantics.py replays trm-train's
traces through it.
"""
import dataclasses
import math
import pathlib
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from torch_trm_model import IGNORE, Config  # noqa: E402

# |q_halt| under which a replayed halting decision may differ from trm-train's (rounding), see Trainer.step.
FLIP_BAND = 1e-3
# The pieces of the semantics Trainer.mutation can alter, one at a time (tools/tests/test_train_semantics.py).
MUTATIONS = ("carry-not-reset", "halt-loss-weight", "no-exploration", "sgd-not-signsgd", "ema-rate", "adam-not-atan2")

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
