package dev.kiln.codegen.kernels;

import dev.kiln.codegen.KernelEmitter;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Shape;
import dev.kiln.ir.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Per-element and row ops: SOFTMAX, ADD, SUB, MUL, CONCATENATION, QUANTIZE, DEQUANTIZE, LOGISTIC,
 * TANH, RELU, RELU6, CLAMP. Their Eval routines live in {@code kiln_eltwise.c}; this class also holds the
 * checks the emitters share.
 */
final class ElementwiseKernels {
  static final List<String> SOURCES = List.of("kiln_eltwise.h", "kiln_eltwise.c");

  private ElementwiseKernels() {}

  static void register(Map<OpType, KernelEmitter> emitters) {
    emitters.put(OpType.SOFTMAX, new SoftmaxEmitter());
    emitters.put(OpType.ADD, new ArithmeticEmitter(OpType.ADD));
    emitters.put(OpType.SUB, new ArithmeticEmitter(OpType.SUB));
    emitters.put(OpType.MUL, new ArithmeticEmitter(OpType.MUL));
    emitters.put(OpType.CONCATENATION, new ConcatEmitter());
    emitters.put(OpType.QUANTIZE, new QuantizeEmitter());
    emitters.put(OpType.DEQUANTIZE, new DequantizeEmitter());
    emitters.put(OpType.LOGISTIC, new LookupTableEmitter(OpType.LOGISTIC));
    emitters.put(OpType.TANH, new LookupTableEmitter(OpType.TANH));
    emitters.put(OpType.RELU, new LookupTableEmitter(OpType.RELU));
    emitters.put(OpType.RELU6, new LookupTableEmitter(OpType.RELU6));
    emitters.put(OpType.CLAMP, new ClampEmitter());
  }

  /** A designated-initializer struct literal, one line per group of fields. */
  static String initializer(String... fieldGroups) {
    return "{\n  " + String.join(",\n  ", fieldGroups) + "\n}";
  }

  // ---- shared checks ---------------------------------------------------------------------------

  /** "ADD op #3 (output 'y')", the start of every message. */
  static String describe(Op op) {
    return op.type() + " op #" + op.index() + " (output '" + op.output().name() + "')";
  }

  static UnsupportedOperationException unsupported(Op op, String sentence) {
    return new UnsupportedOperationException(describe(op) + ": " + sentence);
  }

  /** Requires exactly {@code inputs} non-null inputs and one output. */
  static void requireArity(Op op, int inputs) {
    if (op.inputs().size() != inputs || op.inputs().stream().anyMatch(t -> t == null) || op.outputs().size() != 1) {
      throw unsupported(op, "expected " + inputs + " input(s) and 1 output, found " + op.inputs().size() + " and "
          + op.outputs().size() + "; the model file is malformed");
    }
  }

  static String dtypes(Op op) {
    return op.inputs().stream().map(t -> t.dtype().toString()).collect(Collectors.joining(", ", "(", ")"))
        + " -> " + op.output().dtype();
  }

  /** The tensor's per-tensor quantization, checked: finite positive scale, zero point in its type's range. */
  static Quantization perTensor(Op op, Tensor t, String role) {
    Quantization q = t.quantization();
    if (!q.isQuantized()) {
      throw unsupported(op, role + " '" + t.name() + "' is " + t.dtype() + " without quantization parameters; "
          + "quantize the model with a representative dataset so every " + t.dtype() + " tensor has a scale and zero point");
    }
    if (q.isPerChannel()) {
      throw unsupported(op, role + " '" + t.name() + "' has per-channel quantization (" + q.count() + " scales); "
          + "this op needs one scale per tensor, as the TFLite converter emits for activations");
    }
    float s = q.scale();
    if (!(s > 0) || Float.isInfinite(s)) {
      throw unsupported(op, role + " '" + t.name() + "' has scale " + s + "; scales must be finite and positive");
    }
    long z = q.zeroPoints()[0];
    long lo = t.dtype() == DType.UINT8 ? 0 : t.dtype() == DType.INT16 ? -32768 : -128;
    long hi = t.dtype() == DType.UINT8 ? 255 : t.dtype() == DType.INT16 ? 32767 : 127;
    if (z < lo || z > hi) {
      throw unsupported(op, role + " '" + t.name() + "' has zero point " + z + " outside the " + t.dtype()
          + " range [" + lo + ", " + hi + "]");
    }
    return q;
  }

  /** Rejects quantization on a float tensor (e.g. a half-converted model). */
  static void requireFloat(Op op, Tensor t, String role) {
    if (t.dtype() != DType.FLOAT32) {
      throw unsupported(op, role + " '" + t.name() + "' is " + t.dtype() + ", expected float32");
    }
  }

  static boolean sameShape(Tensor a, Tensor b) { return Arrays.equals(a.shape(), b.shape()); }

  static void requireSameShape(Op op, Tensor in, Tensor out) {
    if (!sameShape(in, out)) {
      throw unsupported(op, "input shape " + Shape.toString(in.shape()) + " differs from output shape "
          + Shape.toString(out.shape()) + "; the model file is inconsistent");
    }
  }

  /** Element count as a C int32, rejecting tensors too large for the kernels' int32 indices. */
  static int count(Op op, Tensor t) {
    long n = t.elements();
    if (n * Math.max(1, t.dtype().byteSize()) >= Integer.MAX_VALUE) {
      throw unsupported(op, "tensor '" + t.name() + "' has " + n + " elements; Kiln's kernels index tensors below 2 GiB");
    }
    return (int) n;
  }
}
