"""Checkpoints cross between trm and Python's safetensors in both directions (issue: foundation)."""
import json
import subprocess

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file


def init(bin_dir, tmp_path, *args):
    out = tmp_path / "model.ckpt"
    r = subprocess.run([bin_dir / "trm-train", "init", *args, "-o", out], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def test_trm_checkpoint_opens_in_safetensors(bin_dir, tmp_path):
    path = init(bin_dir, tmp_path, "--preset", "tr-mamba2attn", "--task", "arc", "--seed", "4")
    tensors = load_file(str(path))
    with safe_open(str(path), "np") as f:
        meta = f.metadata()
    assert meta["trm.format"] == "trm-ckpt/1"
    config = json.loads(meta["trm.config"])
    assert config["sublayers"] == ["mamba2", "mamba2", "attn", "mlp"]
    assert config["mamba"]["d_state"] == 128
    assert json.loads(meta["trm.task"]) == {"task": "arc", "grid": 30}
    counted = sum(v.size for k, v in tensors.items() if k not in ("puzzle_emb.weights", "H_init", "L_init"))
    assert counted == 6_860_386
    assert tensors["L_level.layers.0.mamba2.0.in_proj.weight"].shape == (2320, 512)
    assert tensors["L_level.layers.0.mamba2.1.conv1d.weight"].shape == (1280, 1, 4)
    assert tensors["q_head.bias"].tolist() == [-5.0, -5.0]
    assert all(v.dtype == np.float32 for v in tensors.values())


def python_checkpoint(path, config, rng, prefix=""):
    """A checkpoint made the way another tool would: our names and metadata, numpy data."""
    d, v = config["hidden"], config["vocab"]
    i = 256  # SwiGLU width for hidden 64, expansion 4

    def linear(rows, fan_in):
        return rng.standard_normal((rows, fan_in)) / np.sqrt(fan_in)

    tensors = {
        "embed_tokens.embedding_weight": linear(v, d),
        "lm_head.weight": linear(v, d),
        "q_head.weight": np.zeros((2, d)), "q_head.bias": np.full((2,), -5.0),
        "H_init": rng.standard_normal(d), "L_init": rng.standard_normal(d),
        "puzzle_emb.weights": np.zeros((1, d)),
    }
    for b in range(2):
        p = f"L_level.layers.{b}."
        tensors[p + "self_attn.qkv_proj.weight"] = linear(3 * d, d)
        tensors[p + "self_attn.o_proj.weight"] = linear(d, d)
        tensors[p + "mlp.gate_up_proj.weight"] = linear(2 * i, d)
        tensors[p + "mlp.down_proj.weight"] = linear(d, i)
    tensors = {prefix + k: np.ascontiguousarray(t, dtype=np.float32) for k, t in tensors.items()}
    save_file(tensors, str(path), metadata={"trm.format": "trm-ckpt/1", "trm.config": json.dumps(config),
                                            "trm.task": json.dumps({"task": "sudoku", "grid": 4})})
    return tensors


CONFIG = {"hidden": 64, "heads": 4, "expansion": 4, "sublayers": ["attn", "mlp", "attn", "mlp"],
          "H_cycles": 2, "L_cycles": 2, "halt_max_steps": 3, "vocab": 6, "seq_len": 16,
          "puzzle_emb_len": 16, "puzzle_emb_ndim": 64, "num_puzzle_ids": 1, "pos_encodings": "rope",
          "rope_theta": 10000, "rms_eps": 1e-5}


def test_python_checkpoint_loads_in_graphir(bin_dir, tmp_path):
    path = tmp_path / "py.ckpt"
    python_checkpoint(path, CONFIG, np.random.default_rng(0))
    r = subprocess.run([bin_dir / "trm-info", path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "params      " + str(2 * (4 * 64 * 64 + 3 * 64 * 256) + 2 * 6 * 64 + 2 * 64 + 2) in r.stdout
    r = subprocess.run([bin_dir / "trm-info", path, "--json"], capture_output=True, text=True)
    assert json.loads(r.stdout)["hidden"] == 64


def test_reference_prefix_is_accepted(bin_dir, tmp_path):
    path = tmp_path / "ref.ckpt"
    python_checkpoint(path, CONFIG, np.random.default_rng(1), prefix="_orig_mod.model.inner.")
    r = subprocess.run([bin_dir / "trm-info", path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_python_checkpoint_with_wrong_shape_is_refused(bin_dir, tmp_path):
    path = tmp_path / "bad.ckpt"
    tensors = python_checkpoint(path, CONFIG, np.random.default_rng(2))
    tensors["lm_head.weight"] = np.zeros((7, 64), dtype=np.float32)
    save_file(tensors, str(path), metadata={"trm.format": "trm-ckpt/1", "trm.config": json.dumps(CONFIG)})
    r = subprocess.run([bin_dir / "trm-info", path], capture_output=True, text=True)
    assert r.returncode == 1
    assert "lm_head.weight" in r.stderr
