"""Times one ACT step of .trmg models in onnxruntime (ORT_ENABLE_ALL, the given thread counts), on the
same inputs trm-bench uses (random tokens, carries from H_init/L_init), for the ratio in BENCHMARKS.md.

    python tools/bench_ort.py a.trmg,b.trmg --batch 1,8 --threads 1,2 --repeat 3 --json ort.json
"""
import argparse
import json
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper


def inputs_for(model_proto, batch, seed=1):
    init = {t.name: t for t in model_proto.graph.initializer}
    carry = json.loads({p.key: p.value for p in model_proto.metadata_props}["trm.carry"])
    feeds, rng = {}, np.random.default_rng(seed)
    for value in model_proto.graph.input:
        dims = [d.dim_value for d in value.type.tensor_type.shape.dim[1:]]
        if value.type.tensor_type.elem_type == onnx.TensorProto.INT32:
            table = next(n.input[0] for n in model_proto.graph.node if n.op_type == "Gather" and n.input[1] == value.name)
            rows = init[table].dims[0]
            feeds[value.name] = rng.integers(0, rows, [batch] + dims).astype(np.int32)
        else:
            # Format 2 carries the [D] start vector in the metadata (init_values); format 1 named an initializer.
            binding = next(c for c in carry if c["to"] == value.name)
            start = (np.asarray(binding["init_values"], np.float32) if binding.get("init_values")
                     else numpy_helper.to_array(init[binding["init"]]))
            feeds[value.name] = np.broadcast_to(start, [batch] + dims).astype(np.float32).copy()
    return feeds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models")
    parser.add_argument("--batch", default="1,8")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", required=True)
    args = parser.parse_args()
    rows = []
    for path in args.models.split(","):
        proto = onnx.load(path)
        for threads in [int(t) for t in args.threads.split(",")]:
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
            for batch in [int(b) for b in args.batch.split(",")]:
                feeds = inputs_for(proto, batch)
                session.run(None, feeds)  # warm-up
                times = []
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    session.run(None, feeds)
                    times.append(time.perf_counter() - t0)
                times.sort()
                rows.append({"model": path, "batch": batch, "threads": threads, "ms_best": 1e3 * times[0],
                             "ms_median": 1e3 * times[len(times) // 2]})
                print(f"onnxruntime {path} batch {batch} threads {threads}: {rows[-1]['ms_best']:.0f} ms best", flush=True)
    with open(args.json, "w") as f:
        json.dump({"onnxruntime": ort.__version__, "results": rows}, f, indent=2)


if __name__ == "__main__":
    main()
