#!/usr/bin/env python3
"""Writes state dicts in torch.save's layout with CPython's own pickler and zipfile, torch itself not
needed: the torch globals are stand-ins registered under their real module names, so the pickle holds
exactly the opcodes and names that torch.save writes (docs/formats.md §1.5). TorchCheckpointTests
reads the files back, a cross-check of trm's reader against a writer that is not trm's.

    tools/fake_torch_save.py OUT_DIR

Writes p2.pt (protocol 2 as torch.save: GLOBAL, BINPUT and LONG_BINPUT past 256 memo entries,
SETITEMS in batches of 1000), p4.pt (protocol 4, zip64 extra fields) and p5.pt (protocol 5). Tensor
i is 'layers.{i}.weight' = [i, -i] (every third one bf16, the rest fp32); 'step' is the int 10**12.
"""
import collections
import io
import pickle
import struct
import sys
import types
import zipfile

torch = types.ModuleType("torch")
utils = types.ModuleType("torch._utils")
sys.modules["torch"], sys.modules["torch._utils"] = torch, utils


def stand_in(module, name, value):
    value.__module__, value.__qualname__ = module.__name__, name
    setattr(module, name, value)
    return value


FloatStorage = stand_in(torch, "FloatStorage", type("FloatStorage", (), {}))
BFloat16Storage = stand_in(torch, "BFloat16Storage", type("BFloat16Storage", (), {}))
rebuild_tensor_v2 = stand_in(utils, "_rebuild_tensor_v2", lambda *args: None)


class Storage:
    def __init__(self, key, kind, data):
        self.key, self.kind, self.data = key, kind, data


class Tensor:
    """Pickles as torch.Tensor does: _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)."""

    def __init__(self, storage, size, stride):
        self.storage, self.size, self.stride = storage, size, stride

    def __reduce_ex__(self, protocol):
        return (rebuild_tensor_v2, (self.storage, 0, tuple(self.size), tuple(self.stride), False, collections.OrderedDict()))


def write(path, folder, count, protocol, zip64):
    state, storages = collections.OrderedDict(), []
    for i in range(count):
        if i % 3 == 2:
            halves = [struct.unpack("<I", struct.pack("<f", v))[0] >> 16 for v in (float(i), -float(i))]
            storage = Storage(str(i), BFloat16Storage, struct.pack("<2H", *halves))
        else:
            storage = Storage(str(i), FloatStorage, struct.pack("<2f", float(i), -float(i)))
        storages.append(storage)
        state[f"layers.{i}.weight"] = Tensor(storage, [2], [1])
    state["step"] = 10**12
    state._metadata = collections.OrderedDict([("", {"version": 1}), ("layers", {"version": 2})])
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=protocol)

    def persistent_id(obj):
        if isinstance(obj, Storage):
            return ("storage", obj.kind, obj.key, "cpu", len(obj.data) // (4 if obj.kind is FloatStorage else 2))
        return None

    pickler.persistent_id = persistent_id
    pickler.dump(state)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        def record(name, data):
            with archive.open(f"{folder}/{name}", "w", force_zip64=zip64) as f:
                f.write(data)
        record("data.pkl", buffer.getvalue())
        record("byteorder", b"little")
        for s in storages:
            record(f"data/{s.key}", s.data)
        record("version", b"3\n")


if __name__ == "__main__":
    out = sys.argv[1]
    write(f"{out}/p2.pt", "step_2", 1100, 2, False)
    write(f"{out}/p4.pt", "step_4", 300, 4, True)
    write(f"{out}/p5.pt", "step_5", 5, 5, False)
