#!/usr/bin/env python3
"""Time onnxruntime inference of one model on the CPU, single-threaded.

    python3 onnx_timing.py MODEL.onnx INPUT0.npy [INPUT1.npy ...] [--runs N] [--warmup W]

Prints ONE JSON line on stdout:

    {"onnxruntime": {"median_us", "min_us", "p90_us", "runs"}}

Session: CPUExecutionProvider, intra_op_num_threads=1, inter_op_num_threads=1, sequential
execution, graph optimizations ORT_ENABLE_ALL (the shared reference models' setting). Inputs are
given in the model's input order (session.get_inputs()), and every timed run is
time.perf_counter_ns() around a single session.run() (all outputs), after W untimed warm-up runs.

Exit status: 0 ok; 2 bad arguments / model / inputs ({"error": ...}); 3 onnxruntime missing
({"error": "onnxruntime not installed: pip install onnxruntime"}).
"""

import argparse
import json
import sys
import time
import warnings

ORT_TYPES = {"tensor(float)": "float32", "tensor(double)": "float64", "tensor(int8)": "int8",
             "tensor(uint8)": "uint8", "tensor(int16)": "int16", "tensor(int32)": "int32",
             "tensor(int64)": "int64", "tensor(bool)": "bool", "tensor(float16)": "float16"}


def emit(obj, code=0):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()
    sys.exit(code)


def stats(ns):
    """median/min/p90 in microseconds (p90: linear interpolation between closest ranks)."""
    v = sorted(ns)
    n = len(v)

    def pct(p):
        if n == 1:
            return float(v[0])
        k = (n - 1) * p / 100.0
        lo = int(k)
        hi = min(lo + 1, n - 1)
        return v[lo] + (v[hi] - v[lo]) * (k - lo)
    med = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0
    return {"median_us": round(med / 1000.0, 2), "min_us": round(v[0] / 1000.0, 2),
            "p90_us": round(pct(90) / 1000.0, 2), "runs": n}


def main():
    ap = argparse.ArgumentParser(description="Time onnxruntime CPU inference (1 thread).")
    ap.add_argument("model")
    ap.add_argument("inputs", nargs="+", help="one .npy per model input, in the model's input order")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    try:
        args = ap.parse_args()
    except SystemExit as e:
        if e.code == 0:
            raise
        emit({"error": "bad arguments (usage: onnx_timing.py MODEL.onnx INPUT0.npy [...] [--runs N] "
                       "[--warmup W])"}, 2)
    if args.runs < 1 or args.warmup < 0:
        emit({"error": "--runs must be >= 1 and --warmup >= 0"}, 2)

    warnings.filterwarnings("ignore")
    try:
        import numpy as np
        import onnxruntime as ort
    except Exception:
        emit({"error": "onnxruntime not installed: pip install onnxruntime"}, 3)

    try:
        values = [np.load(p, allow_pickle=False) for p in args.inputs]
    except Exception as e:
        emit({"error": "cannot read inputs: %s" % e}, 2)

    try:
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.log_severity_level = 3
        sess = ort.InferenceSession(args.model, sess_options=so, providers=["CPUExecutionProvider"])
        ins = sess.get_inputs()
        if len(ins) != len(values):
            emit({"error": "model has %d input(s), %d .npy given" % (len(ins), len(values))}, 2)
        feeds = {}
        for i, x in zip(ins, values):
            want = ORT_TYPES.get(i.type)
            shape_ok = len(i.shape) == x.ndim and all(
                not isinstance(d, int) or d == s for d, s in zip(i.shape, x.shape))
            if (want is not None and x.dtype.name != want) or not shape_ok:
                emit({"error": "input %r expects %s%s, got %s%s" % (i.name, want or i.type, list(i.shape),
                                                                   x.dtype.name, list(x.shape))}, 2)
            feeds[i.name] = x
        run = sess.run
        for _ in range(args.warmup):
            run(None, feeds)
        clock = time.perf_counter_ns
        ns = []
        for _ in range(args.runs):
            t0 = clock()
            run(None, feeds)
            ns.append(clock() - t0)
    except SystemExit:
        raise
    except Exception as e:
        msg = str(e).strip()
        emit({"error": "onnxruntime: %s" % (msg.splitlines()[-1] if msg else repr(e))}, 2)
    emit({"onnxruntime": stats(ns)}, 0)


if __name__ == "__main__":
    main()
