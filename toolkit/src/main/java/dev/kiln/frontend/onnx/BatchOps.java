package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.onnx.Value.TensorRef;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;

/**
 * MatMul with a batched B (attention's {@code q @ k^T} and {@code a @ v}; issue 9 item 5, onnx-more): TFLite's
 * BATCH_MATMUL in float32 (numpy.matmul: batch axes broadcast, ranks up to 5). When B's bytes hold B with its
 * last two axes swapped (an ONNX Transpose of k, which Kiln only records), the kernel reads them as they are
 * (adj_y) instead of a TRANSPOSE copying them.
 */
final class BatchOps {
  private BatchOps() {}

  static void batchMatMul(GraphLowering l, Proto.Node n, Value a0, Value b0) throws ModelFormatException {
    Value a = l.floatValue(a0);
    Value b = l.floatValue(b0);
    if (a.dtype != DType.FLOAT32 || b.dtype != DType.FLOAT32) {
      throw l.error(n, "multiplies " + a.dtype + " by " + b.dtype + " in a batched MatMul; Kiln compiles it in float32");
    }
    if (a.rank() < 2) a = a.reshaped(a.name, new int[] {1, a.shape[0]});
    boolean vectorA = a0.rank() == 1;
    int r = Math.max(a.rank(), b.rank());
    if (r > 5) throw l.error(n, "multiplies rank-" + r + " tensors; Kiln's BATCH_MATMUL takes ranks 2 to 5");
    a = MathOps.expand(a, r);
    b = MathOps.expand(b, r);
    int[] shape = productShape(a, b, r);
    if (shape == null) {
      throw l.error(n, "cannot broadcast the batch dimensions of A " + GraphLowering.shape(a0.shape) + " and B " + GraphLowering.shape(b0.shape));
    }
    int cols = shape[r - 1];
    TensorRef ta = l.layout(a, null);
    boolean adjY = swappedLastAxes(b, r);
    TensorRef tb = adjY ? b.phys : l.layout(b, null);
    String out = GraphLowering.output(n, 0);
    int[] finalShape = shape;
    if (vectorA) {
      finalShape = new int[r - 1];
      System.arraycopy(shape, 0, finalShape, 0, r - 2);
      finalShape[r - 2] = cols;
    }
    TensorRef t = l.newTensor(finalShape == shape ? out : out + "/matrix", finalShape == shape, shape, DType.FLOAT32, Quantization.NONE);
    l.op(OpType.BATCH_MATMUL, new Options.BatchMatMul(false, adjY), t, ta, tb);
    Value v = Value.tensor(t.name(), t, shape);
    l.define(n, out, finalShape == shape ? v.renamed(out) : v.reshaped(out, finalShape));
  }

  /**
   * MatMul of two dequantized activations that onnxruntime fuses (QLinearMatMul) as an int8 BATCH_MATMUL
   * on the codes with its requantization; false (nothing emitted) when it does not fuse them.
   */
  static boolean qlinear(GraphLowering l, Proto.Node n, Value a0, Value b0) throws ModelFormatException {
    if (a0.rank() < 2 || b0.rank() < 2 || Math.max(a0.rank(), b0.rank()) > 5) return false;
    QLinearOps.Group g = QLinearOps.matMulGroup(l, n, a0, b0);
    if (g == null) return false;
    int r = Math.max(a0.rank(), b0.rank());
    Value a = MathOps.expand(a0.source, r);
    Value b = MathOps.expand(b0.source, r);
    int[] shape = productShape(a, b, r);
    if (shape == null) return false;
    TensorRef ta = l.layout(a, null);
    boolean adjY = swappedLastAxes(b, r);
    TensorRef tb = adjY ? b.phys : l.layout(b, null);
    String name = g.output();
    TensorRef t = l.newTensor(name, true, shape, DType.INT8, g.quantization());
    l.op(OpType.BATCH_MATMUL, new Options.BatchMatMul(false, adjY, Options.Requantize.ONNXRUNTIME), t, ta, tb);
    g.take(l);
    l.define(n, name, Value.tensor(name, t, shape).asUint8(g.uint8Type()));
    return true;
  }

  /** The shape of a @ b, both of rank r: the batch axes broadcast, then (a's rows, b's columns); null when they do not broadcast. */
  private static int[] productShape(Value a, Value b, int r) {
    int[] batch = MathOps.broadcast(slice(a.shape, r - 2), slice(b.shape, r - 2));
    if (batch == null) return null;
    int[] shape = new int[r];
    System.arraycopy(batch, 0, shape, 0, r - 2);
    shape[r - 2] = a.shape[r - 2];
    shape[r - 1] = b.shape[r - 1];
    return shape;
  }

  /** Whether b's bytes (b.phys) hold b with its last two axes swapped, so BATCH_MATMUL reads them as they are (adj_y). */
  private static boolean swappedLastAxes(Value b, int r) {
    int[] swap = Value.identity(r);
    swap[r - 2] = r - 1;
    swap[r - 1] = r - 2;
    return b.phys != null && b.isPlainPermutation() && b.perm != null && java.util.Arrays.equals(b.perm, swap);
  }

  private static int[] slice(int[] s, int n) {
    int[] out = new int[n];
    System.arraycopy(s, 0, out, 0, n);
    return out;
  }
}
