package dev.kiln.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.cli.Main;
import dev.kiln.codegen.kernels.Kernels;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Compile-time folding on real Keras 3 conversions (whose Reshape/Flatten layers are SHAPE ->
 * STRIDED_SLICE -> PACK -> RESHAPE chains) and on small hand-made graphs: what folds, what stays
 * on the device, and the one-line refusals when an index input is neither constant nor foldable.
 * The folded models' numbers are checked against TFLite by ModelConformanceTest (ops-movement/keras_*).
 */
class ConstantFoldingTest {
  static final Path FIXTURES = Path.of("src/test/resources/ops-movement");

  @ParameterizedTest
  @ValueSource(strings = {"keras_reshape_flatten_float32", "keras_reshape_flatten_int8"})
  void kerasReshapeChainsFoldAwayAndReshapesBecomePlainViews(String name) {
    var model = Kiln.load(FIXTURES.resolve(name).resolve("model.tflite"));
    assertEquals(11, model.ops().size(), model.summary());
    CompiledModel c = model.build(Executor.aot().interfaceApi("c").unpackedApi(true)).compiled();
    assertEquals(11, c.sourceOps());
    assertEquals(6, c.foldedOps(), "two SHAPE -> STRIDED_SLICE -> PACK chains");
    List<OpType> left = c.graph().ops().stream().map(Op::type).toList();
    assertEquals(List.of(OpType.CONV_2D, OpType.RESHAPE, OpType.TRANSPOSE, OpType.RESHAPE, OpType.FULLY_CONNECTED), left);
    for (Op op : c.graph().ops()) {
      if (op.type() == OpType.RESHAPE) assertEquals(1, op.inputs().size(), "a folded RESHAPE keeps only its data input: " + op);
    }
  }

  @Test
  void kilnInfoSaysHowManyOperatorsWereFolded() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = Main.run(new String[] {"info", FIXTURES.resolve("keras_reshape_flatten_int8/model.tflite").toString()},
        new PrintWriter(out, true), new PrintWriter(err, true));
    assertEquals(0, status, err.toString());
    assertTrue(out.toString().contains("folded at compile time: 6 of 11 ops (constant inputs or static shapes); 5 ops left for the device"),
        out.toString());
  }

  @Test
  void constantChainsFoldAndRunTimeOpsStay() {
    // x (run time) -> GATHER(x, TILE(const)) ; SHAPE(x) -> ADD(shape, const): only the TILE and the shape arithmetic fold.
    Graph.Builder b = Graph.builder("g", "test");
    int x = b.addTensor(Tensor.builder("x").shape(4, 3).dtype(DType.FLOAT32));
    int base = b.addTensor(Tensor.builder("base").shape(2).dtype(DType.INT32).data(ints(1, 3)));
    int reps = b.addTensor(Tensor.builder("reps").shape(1).dtype(DType.INT32).data(ints(2)));
    int idx = b.addTensor(Tensor.builder("idx").shape(4).dtype(DType.INT32));
    int y = b.addTensor(Tensor.builder("y").shape(4, 3).dtype(DType.FLOAT32));
    int shape = b.addTensor(Tensor.builder("shape").shape(2).dtype(DType.INT32));
    int one = b.addTensor(Tensor.builder("one").shape().dtype(DType.INT32).data(ints(1)));
    int plus = b.addTensor(Tensor.builder("plus").shape(2).dtype(DType.INT32));
    int z = b.addTensor(Tensor.builder("z").shape(4, 3).dtype(DType.FLOAT32));
    b.addOp(OpType.TILE, new int[] {base, reps}, new int[] {idx}, new Options.None());
    b.addOp(OpType.GATHER, new int[] {x, idx}, new int[] {y}, new Options.Gather(0, 0));
    b.addOp(OpType.SHAPE, new int[] {y}, new int[] {shape}, new Options.None());
    b.addOp(OpType.ADD, new int[] {shape, one}, new int[] {plus}, new Options.Elementwise(dev.kiln.ir.Activation.NONE));
    b.addOp(OpType.RESHAPE, new int[] {y, plus}, new int[] {z}, new Options.None());
    b.inputs(x).outputs(z);
    ConstantFolding.Result r = ConstantFolding.fold(b.build());
    assertEquals(3, r.folded());
    Graph g = r.graph();
    assertEquals(List.of(OpType.GATHER, OpType.RESHAPE), g.ops().stream().map(Op::type).toList());
    assertEquals(List.of(1L, 3L, 1L, 3L), longs(g.ops().get(0).input(1)));
    assertEquals(1, g.ops().get(1).inputs().size());
    Tensor plusNow = g.find("plus").orElseThrow();
    assertEquals(List.of(5L, 4L), longs(plusNow), "SHAPE of a static [4,3] plus 1");
  }

  @Test
  void anOpWithConstantInputsTheEvaluatorCannotFoldRunsOnTheDevice() {
    Graph.Builder b = Graph.builder("g", "test");
    int c = b.addTensor(Tensor.builder("c").shape(3).dtype(DType.FLOAT32).data(new byte[12]));
    int x = b.addTensor(Tensor.builder("x").shape(3).dtype(DType.FLOAT32));
    int s = b.addTensor(Tensor.builder("s").shape(3).dtype(DType.FLOAT32));
    int y = b.addTensor(Tensor.builder("y").shape(3).dtype(DType.FLOAT32));
    b.addOp(OpType.LOGISTIC, new int[] {c}, new int[] {s}, new Options.None());
    b.addOp(OpType.ADD, new int[] {x, s}, new int[] {y}, new Options.Elementwise(dev.kiln.ir.Activation.NONE));
    b.inputs(x).outputs(y);
    ConstantFolding.Result r = ConstantFolding.fold(b.build());
    assertEquals(0, r.folded());
    assertEquals(2, r.graph().ops().size());
  }

  @Test
  void aHybridEmbeddingLookupOfConstantsIsNotFoldedAsBytes() {
    Graph.Builder b = Graph.builder("g", "test");
    int ids = b.addTensor(Tensor.builder("ids").shape(2).dtype(DType.INT32).data(ints(1, 0)));
    int table = b.addTensor(Tensor.builder("table").shape(2, 4).dtype(DType.INT8).quantization(Quantization.perTensor(0.5f, 0))
        .data(new byte[] {1, 2, 3, 4, -1, -2, -3, -4}));
    int rows = b.addTensor(Tensor.builder("rows").shape(2, 4).dtype(DType.FLOAT32));
    int x = b.addTensor(Tensor.builder("x").shape(2, 4).dtype(DType.FLOAT32));
    int y = b.addTensor(Tensor.builder("y").shape(2, 4).dtype(DType.FLOAT32));
    b.addOp(OpType.EMBEDDING_LOOKUP, new int[] {ids, table}, new int[] {rows}, new Options.None());
    b.addOp(OpType.ADD, new int[] {x, rows}, new int[] {y}, new Options.Elementwise(dev.kiln.ir.Activation.NONE));
    b.inputs(x).outputs(y);
    ConstantFolding.Result r = ConstantFolding.fold(b.build());
    assertEquals(0, r.folded(), "int8 codes become float32 values on the device, not by copying bytes");
    assertEquals(2, r.graph().ops().size());
  }

  @Test
  void aStridedSliceWithRunTimeBeginIsRefusedInOneLine() {
    Graph.Builder b = Graph.builder("g", "test");
    int x = b.addTensor(Tensor.builder("x").shape(4, 3).dtype(DType.FLOAT32));
    int begin = b.addTensor(Tensor.builder("begin").shape(2).dtype(DType.INT32));
    int end = b.addTensor(Tensor.builder("end").shape(2).dtype(DType.INT32).data(ints(2, 3)));
    int strides = b.addTensor(Tensor.builder("strides").shape(2).dtype(DType.INT32).data(ints(1, 1)));
    int y = b.addTensor(Tensor.builder("y").shape(2, 3).dtype(DType.FLOAT32));
    b.addOp(OpType.STRIDED_SLICE, new int[] {x, begin, end, strides}, new int[] {y}, new Options.StridedSlice(0, 0, 0, 0, 0, false));
    b.inputs(x, begin).outputs(y);
    CompileException e = assertThrows(CompileException.class, () -> Compiler.compile(b.build(), Kernels.support()));
    assertEquals("op #0 STRIDED_SLICE (x float32, begin int32, end int32, strides int32 -> y float32) cannot be compiled:"
        + " STRIDED_SLICE op #0 (output 'y'): the begin input 'begin' is computed at run time; Kiln needs it constant (or computable"
        + " at compile time from constants and static shapes), as TFLite Micro does", e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
  }

  @Test
  void aShrinkingSliceBeyondItsConstantIsLeftUnfoldedAndRefusedInOneLine() {
    // found by the reader fuzzer: a mutated begin that points one past the end of a constant, with shrink_axis_mask
    Graph.Builder b = Graph.builder("g", "test");
    int c = b.addTensor(Tensor.builder("c").shape(4).dtype(DType.INT32).data(ints(1, 2, 3, 4)));
    int begin = b.addTensor(Tensor.builder("begin").shape(1).dtype(DType.INT32).data(ints(4)));
    int end = b.addTensor(Tensor.builder("end").shape(1).dtype(DType.INT32).data(ints(5)));
    int strides = b.addTensor(Tensor.builder("strides").shape(1).dtype(DType.INT32).data(ints(1)));
    int t = b.addTensor(Tensor.builder("t").shape().dtype(DType.INT32));
    int x = b.addTensor(Tensor.builder("x").shape().dtype(DType.INT32));
    int y = b.addTensor(Tensor.builder("y").shape().dtype(DType.INT32));
    b.addOp(OpType.STRIDED_SLICE, new int[] {c, begin, end, strides}, new int[] {t}, new Options.StridedSlice(0, 0, 0, 0, 1, false));
    b.addOp(OpType.ADD, new int[] {x, t}, new int[] {y}, new Options.Elementwise(dev.kiln.ir.Activation.NONE));
    b.inputs(x).outputs(y);
    Graph g = b.build();
    assertEquals(0, ConstantFolding.fold(g).folded());
    CompileException e = assertThrows(CompileException.class, () -> Compiler.compile(g, Kernels.support()));
    assertTrue(e.getMessage().contains("the copy reads input elements 4..4 of an input with 4"), e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
  }

  @Test
  void aWalkOutsideItsInputIsRefusedBeforeAnythingIsCopied() {
    Walk w = new Walk(new int[] {3}, 2, new long[] {1});
    byte[] out = new byte[3];
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.copy(new byte[4], out, 0, 1));
    assertEquals("the copy reads input elements 2..4 of an input with 4", e.getMessage());
    assertEquals("[0, 0, 0]", java.util.Arrays.toString(out));
    w.requireWithin(5);
  }

  @Test
  void int8DataMovementWithDifferentQuantizationIsRefused() {
    Graph.Builder b = Graph.builder("g", "test");
    int x = b.addTensor(Tensor.builder("x").shape(4, 3).dtype(DType.INT8).quantization(Quantization.perTensor(0.5f, 1)));
    int idx = b.addTensor(Tensor.builder("idx").shape(2).dtype(DType.INT32));
    int y = b.addTensor(Tensor.builder("y").shape(2, 3).dtype(DType.INT8).quantization(Quantization.perTensor(0.25f, 1)));
    b.addOp(OpType.GATHER, new int[] {x, idx}, new int[] {y}, new Options.Gather(0, 0));
    b.inputs(x, idx).outputs(y);
    CompileException e = assertThrows(CompileException.class, () -> Compiler.compile(b.build(), Kernels.support()));
    assertTrue(e.getMessage().contains("TFLite's GATHER does not requantize, so they must be equal"), e.getMessage());
  }

  private static byte[] ints(int... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i : v) b.putInt(i);
    return b.array();
  }

  private static List<Long> longs(Tensor t) {
    assertTrue(t.isConstant(), t + " is not constant");
    return java.util.Arrays.stream(Movement.ints(t)).boxed().toList();
  }

}
