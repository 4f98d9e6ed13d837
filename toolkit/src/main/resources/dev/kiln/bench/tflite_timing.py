#!/usr/bin/env python3
"""Time TensorFlow Lite inference of one model, single-threaded, with two kernel sets.

    python3 tflite_timing.py MODEL.tflite INPUT0.npy [INPUT1.npy ...] [--runs N] [--warmup W]

Prints ONE JSON line on stdout:

    {"reference": {"median_us", "min_us", "p90_us", "runs"}, "optimized": {...}}

reference = tf.lite.Interpreter with OpResolverType.BUILTIN_REF (TFLite's reference kernels),
optimized = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES (builtin optimized kernels, no XNNPACK);
both with num_threads=1. Inputs are given in the model's input order (SubGraph.inputs, i.e.
interpreter.get_input_details() order), are set once, and every timed run is
time.perf_counter_ns() around a single invoke(), after W untimed warm-up invokes.

Exit status: 0 ok; 2 bad arguments / model / inputs ({"error": ...}); 3 tensorflow missing
({"error": "tensorflow not installed: pip install tensorflow_cpu"}).
"""

import argparse
import json
import os
import sys
import time
import warnings


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
    ap = argparse.ArgumentParser(description="Time TFLite reference and optimized kernels (1 thread).")
    ap.add_argument("model")
    ap.add_argument("inputs", nargs="+", help="one .npy per model input, in the model's input order")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    try:
        args = ap.parse_args()
    except SystemExit as e:  # argparse already printed usage on stderr
        if e.code == 0:
            raise
        emit({"error": "bad arguments (usage: tflite_timing.py MODEL.tflite INPUT0.npy [...] [--runs N] "
                       "[--warmup W])"}, 2)
    if args.runs < 1 or args.warmup < 0:
        emit({"error": "--runs must be >= 1 and --warmup >= 0"}, 2)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore")
    try:
        import numpy as np
        import tensorflow as tf
    except Exception:  # ImportError, or a broken install failing at import time
        emit({"error": "tensorflow not installed: pip install tensorflow_cpu"}, 3)

    try:
        with open(args.model, "rb") as f:
            model = f.read()
        values = [np.load(p, allow_pickle=False) for p in args.inputs]
    except Exception as e:
        emit({"error": "cannot read inputs: %s" % e}, 2)

    resolvers = tf.lite.experimental.OpResolverType
    result = {}
    for key, resolver in (("reference", resolvers.BUILTIN_REF),
                          ("optimized", resolvers.BUILTIN_WITHOUT_DEFAULT_DELEGATES)):
        try:
            it = tf.lite.Interpreter(model_content=model, experimental_op_resolver_type=resolver, num_threads=1)
            it.allocate_tensors()
            details = it.get_input_details()
            if len(details) != len(values):
                emit({"error": "model has %d input(s), %d .npy given" % (len(details), len(values))}, 2)
            for d, x in zip(details, values):
                if x.dtype != d["dtype"] or tuple(x.shape) != tuple(d["shape"]):
                    emit({"error": "input %r expects %s%s, got %s%s" % (
                        d["name"], np.dtype(d["dtype"]).name, [int(v) for v in d["shape"]], x.dtype.name,
                        list(x.shape))}, 2)
                it.set_tensor(d["index"], x)
            invoke = it.invoke
            for _ in range(args.warmup):
                invoke()
            clock = time.perf_counter_ns
            ns = []
            for _ in range(args.runs):
                t0 = clock()
                invoke()
                ns.append(clock() - t0)
        except SystemExit:
            raise
        except Exception as e:
            emit({"error": "%s kernels: %s" % (key, str(e).strip().splitlines()[-1] if str(e).strip() else
                                                repr(e))}, 2)
        result[key] = stats(ns)
    emit(result, 0)


if __name__ == "__main__":
    main()
