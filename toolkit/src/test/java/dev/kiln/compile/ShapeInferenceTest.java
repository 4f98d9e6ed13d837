package dev.kiln.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.codegen.kernels.Kernels;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Activations whose TFLite shape signature has a -1 carry the converter's batch-1 guess; the
 * compiler re-derives them from the static inputs (on real Keras conversions: a dilated Conv1D's
 * SPACE_TO_BATCH_ND, Keras 3's UpSampling2D reshape) and refuses, naming the op, what it cannot derive.
 * The numbers of those models are checked against TFLite by KerasModelsTest.
 */
class ShapeInferenceTest {
  static final Path KERAS = Path.of("src/test/resources/models-keras");

  @Test
  void aDilatedConv1dRunsItsSpaceToBatchWithTheRealBatchOfTwo() {
    var model = Kiln.load(KERAS.resolve("conv1d_audio_int8/model.tflite"));
    CompiledModel c = model.build(Executor.aot().interfaceApi("c").unpackedApi(true)).compiled();
    Op s2b = c.graph().ops().stream().filter(op -> op.type() == OpType.SPACE_TO_BATCH_ND).findFirst().orElseThrow();
    assertArrayEquals(new int[] {2, 15, 32}, s2b.output().shape(), "the file says [1,15,32] (its guess for batch -1)");
    Op b2s = c.graph().ops().stream().filter(op -> op.type() == OpType.BATCH_TO_SPACE_ND).findFirst().orElseThrow();
    assertArrayEquals(new int[] {2, 13, 48}, b2s.input(0).shape());
    assertArrayEquals(new int[] {1, 25, 48}, b2s.output().shape());
    for (Tensor t : c.graph().tensors()) assertFalse(t.hasDynamicShape(), t.name() + " is still dynamic");
  }

  @Test
  void anUpSamplingReshapeGetsTheShapeItsFoldedShapeInputSays() {
    var model = Kiln.load(KERAS.resolve("unet_float/model.tflite"));
    CompiledModel c = model.build(Executor.graph()).compiled();
    // UpSampling2D is EXPAND_DIMS -> TILE -> RESHAPE per axis; the second RESHAPE is stored as [1,1,32,16] with
    // signature [-1,-1,32,16], and its folded SHAPE -> STRIDED_SLICE -> CONCATENATION input says [1,32,32,16]
    List<String> reshapes = c.graph().ops().stream().filter(op -> op.type() == OpType.RESHAPE)
        .map(op -> Arrays.toString(op.output().shape())).toList();
    assertEquals(List.of("[1, 32, 16, 16]", "[1, 32, 32, 16]"), reshapes);
  }

  @Test
  void aDynamicOutputOfAnOpKilnCannotDeriveIsRefusedWhenItsInputsChanged() {
    // x [1,4] -> TILE(x, [2,1]) marked dynamic (stored [1,4], really [2,4]) -> ARG_MAX marked dynamic: not derived here
    Graph.Builder b = Graph.builder("g", "test");
    int x = b.addTensor(Tensor.builder("x").shape(1, 4).dtype(DType.FLOAT32));
    int reps = b.addTensor(Tensor.builder("reps").shape(2).dtype(DType.INT32).data(ints(2, 1)));
    int tiled = b.addTensor(Tensor.builder("tiled").shape(1, 4).dtype(DType.FLOAT32).dynamicShape(true));
    int axis = b.addTensor(Tensor.builder("axis").shape(1).dtype(DType.INT32).data(ints(1)));
    int arg = b.addTensor(Tensor.builder("arg").shape(1).dtype(DType.INT32).dynamicShape(true));
    b.addOp(OpType.TILE, new int[] {x, reps}, new int[] {tiled}, new Options.None());
    b.addOp(OpType.ARG_MAX, new int[] {tiled, axis}, new int[] {arg}, new Options.ArgMinMax(1));
    Graph g = b.inputs(x).outputs(arg).build();
    CompileException e = assertThrows(CompileException.class, () -> Compiler.compile(g, Kernels.support()));
    assertEquals("op #1 ARG_MAX (tiled float32, axis int32 -> arg int32) cannot be compiled: its output 'arg' has a dynamic"
        + " shape (a -1 in its shape signature) and its inputs' shapes changed when Kiln re-derived them, but Kiln cannot"
        + " re-derive ARG_MAX's output from them (an op Kiln does not derive shapes for, or padding the file resolved for"
        + " other spatial sizes); convert the model with static shapes", e.getMessage());
  }

  @Test
  void aPaddedConvolutionWhoseInputSizeChangedIsRefused() {
    // x [1,4,4,2] -> TILE x[1,2,1,1] (stored [1,4,4,2], really [1,8,4,2]) -> CONV_2D 3x3 with SAME padding 1 resolved for 4 rows
    Graph.Builder b = Graph.builder("g", "test");
    int x = b.addTensor(Tensor.builder("x").shape(1, 4, 4, 2).dtype(DType.FLOAT32));
    int reps = b.addTensor(Tensor.builder("reps").shape(4).dtype(DType.INT32).data(ints(1, 2, 1, 1)));
    int tiled = b.addTensor(Tensor.builder("tiled").shape(1, 4, 4, 2).dtype(DType.FLOAT32).dynamicShape(true));
    int w = b.addTensor(Tensor.builder("w").shape(3, 3, 3, 2).dtype(DType.FLOAT32).data(new byte[4 * 54]));
    int y = b.addTensor(Tensor.builder("y").shape(1, 4, 4, 3).dtype(DType.FLOAT32).dynamicShape(true));
    b.addOp(OpType.TILE, new int[] {x, reps}, new int[] {tiled}, new Options.None());
    b.addOp(OpType.CONV_2D, new int[] {tiled, w, -1}, new int[] {y},
        new Options.Conv(1, 1, 1, 1, new Options.Padding(1, 1, 1, 1), 1, dev.kiln.ir.Activation.NONE));
    Graph g = b.inputs(x).outputs(y).build();
    CompileException e = assertThrows(CompileException.class, () -> Compiler.compile(g, Kernels.support()));
    assertEquals(true, e.getMessage().startsWith("op #1 CONV_2D (tiled float32, w float32 -> y float32) cannot be compiled:"
        + " its output 'y' has a dynamic shape"), e.getMessage());
  }

  @Test
  void reduceProdOfShapesFoldsAndOnRunTimeDataIsRefusedInOneLine() {
    Graph.Builder b = Graph.builder("g", "test");
    int x = b.addTensor(Tensor.builder("x").shape(2, 3).dtype(DType.FLOAT32));
    int axes = b.addTensor(Tensor.builder("axes").shape(1).dtype(DType.INT32).data(ints(1)));
    int y = b.addTensor(Tensor.builder("y").shape(2).dtype(DType.FLOAT32));
    b.addOp(OpType.REDUCE_PROD, new int[] {x, axes}, new int[] {y}, new Options.Mean(new int[] {1}, false));
    Graph g = b.inputs(x).outputs(y).build();
    CompileException e = assertThrows(CompileException.class, () -> Compiler.compile(g, Kernels.support()));
    assertEquals("op #0 REDUCE_PROD (x float32, axes int32 -> y float32) cannot be compiled: REDUCE_PROD op #0 (output 'y'): "
        + "REDUCE_PROD on run-time data (float32, int32) -> float32 is not supported: Kiln folds REDUCE_PROD of constants and"
        + " static shapes at compile time only (TFLite Micro has no REDUCE_PROD kernel)", e.getMessage());

    // SHAPE(x) -> REDUCE_PROD over axis 0 -> RESHAPE target [6]: all folded, the reshape is a view
    Graph.Builder f = Graph.builder("f", "test");
    int in = f.addTensor(Tensor.builder("in").shape(2, 3).dtype(DType.FLOAT32));
    int shape = f.addTensor(Tensor.builder("shape").shape(2).dtype(DType.INT32));
    int zero = f.addTensor(Tensor.builder("zero").shape(1).dtype(DType.INT32).data(ints(0)));
    int count = f.addTensor(Tensor.builder("count").shape(1).dtype(DType.INT32));
    int flat = f.addTensor(Tensor.builder("flat").shape(6).dtype(DType.FLOAT32));
    int out = f.addTensor(Tensor.builder("out").shape(6).dtype(DType.FLOAT32));
    f.addOp(OpType.SHAPE, new int[] {in}, new int[] {shape}, new Options.None());
    f.addOp(OpType.REDUCE_PROD, new int[] {shape, zero}, new int[] {count}, new Options.Mean(new int[] {0}, true));
    f.addOp(OpType.RESHAPE, new int[] {in, count}, new int[] {flat}, new Options.None());
    f.addOp(OpType.RELU, new int[] {flat}, new int[] {out}, new Options.None());
    ConstantFolding.Result r = ConstantFolding.fold(f.inputs(in).outputs(out).build());
    assertEquals(2, r.folded());
    Tensor folded = r.graph().tensors().stream().filter(t -> t.name().equals("count")).findFirst().orElseThrow();
    assertArrayEquals(ints(6), folded.data());
  }

  static byte[] ints(int... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int i : v) b.putInt(i);
    return b.array();
  }
}
