package dev.kiln.codegen.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.compile.CompileException;
import dev.kiln.compile.Compiler;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Combinations of the reduction / resampling / spatial family that Kiln refuses: one line naming the
 * operator, its index, its tensors and what would compile.
 */
class ReduceRefusalTest {
  private static String refusal(OpType type, Options options, Tensor.Builder in, Tensor.Builder out) {
    Graph.Builder g = Graph.builder("t", "test");
    int x = g.addTensor(in);
    int y = g.addTensor(out);
    g.addOp(type, new int[] {x}, new int[] {y}, options).inputs(x).outputs(y);
    Graph graph = g.build();
    return assertThrows(CompileException.class, () -> Compiler.compile(graph, Kernels.support())).getMessage();
  }

  private static Tensor.Builder t(String name, DType dtype, Quantization q, int... shape) {
    return Tensor.builder(name).dtype(dtype).quantization(q).shape(shape);
  }

  private static final Quantization Q = Quantization.perTensor(0.05f, 3);

  @Test void int8CumsumIsRefusedBecauseTfliteHasNoReferenceForIt() {
    assertEquals("op #0 CUMSUM (x int8 -> y int8) cannot be compiled: CUMSUM op #0 (output 'y'): dtypes (int8) -> int8 are "
        + "not supported; Kiln compiles CUMSUM for float32, int32 and int64 (TFLite's reference kernel has no quantized CUMSUM)",
        refusal(OpType.CUMSUM, new Options.Cumsum(1, false, false), t("x", DType.INT8, Q, 2, 3), t("y", DType.INT8, Q, 2, 3)));
  }

  @Test void reduceMaxWithRequantizationIsRefused() {
    assertEquals("op #0 REDUCE_MAX (x int8 -> y int8) cannot be compiled: REDUCE_MAX op #0 (output 'y'): the input 'x' "
        + "(" + Q + ") and the output 'y' (" + Quantization.perTensor(0.1f, 3) + ") must share scale and zero point, as TFLite "
        + "requires for this op; re-quantize the model so they match",
        refusal(OpType.REDUCE_MAX, new Options.Mean(new int[] {1}, false), t("x", DType.INT8, Q, 2, 3),
            t("y", DType.INT8, Quantization.perTensor(0.1f, 3), 2)));
  }

  @Test void int8SumWithoutRescaleIsRefused() {
    assertEquals("op #0 SUM (x int8 -> y int8) cannot be compiled: SUM op #0 (output 'y'): int8 SUM with the same scale and "
        + "zero point on input and output adds raw codes in int8 in TFLite (wrapping around); Kiln compiles int8 SUM only with "
        + "a rescaled output, as the converter emits it",
        refusal(OpType.SUM, new Options.Mean(new int[] {0}, false), t("x", DType.INT8, Q, 2, 3), t("y", DType.INT8, Q, 3)));
  }

  @Test void int16SumWhoseRescaledSumLeavesInt32IsRefused() {
    // 40000 codes of up to 32768 times s_in / s_out = 4: TFLite's float -> int32 conversion of the rescaled sum overflows
    assertEquals("op #0 SUM (x int16 -> y int16) cannot be compiled: SUM op #0 (output 'y'): the rescaled sum reaches "
        + "5242880000 (32768 * 40000 * s_in / s_out), beyond int32, where TFLite's float-to-int32 conversion is "
        + "undefined; use an output scale of at least s_in * 40000 / 65536",
        refusal(OpType.SUM, new Options.Mean(new int[] {1}, false), t("x", DType.INT16, Quantization.perTensor(1f / 1024, 0),
            2, 40000), t("y", DType.INT16, Quantization.perTensor(1f / 4096, 0), 2)));
  }

  @Test void int16SumWithAZeroPointIsRefused() {
    assertEquals("op #0 SUM (x int16 -> y int16) cannot be compiled: SUM op #0 (output 'y'): int16 SUM needs zero point 0 on "
        + "input and output (TFLite's 16x8 scheme; it rejects others), but the input has 0 and the output 5",
        refusal(OpType.SUM, new Options.Mean(new int[] {1}, false), t("x", DType.INT16, Quantization.perTensor(1f / 1024, 0),
            2, 3), t("y", DType.INT16, Quantization.perTensor(1f / 256, 5), 2)));
  }

  @Test void int8LocalResponseNormalizationIsRefused() {
    assertEquals("op #0 LOCAL_RESPONSE_NORMALIZATION (x int8 -> y int8) cannot be compiled: LOCAL_RESPONSE_NORMALIZATION op #0 "
        + "(output 'y'): dtypes (int8) -> int8 are not supported; Kiln compiles LOCAL_RESPONSE_NORMALIZATION for float32 only "
        + "(keep this op in float)",
        refusal(OpType.LOCAL_RESPONSE_NORMALIZATION, new Options.Lrn(2, 1f, 1f, 0.5f), t("x", DType.INT8, Q, 2, 4),
            t("y", DType.INT8, Q, 2, 4)));
  }

  @Test void int8L2NormalizationOutsideTheOneOver128ScaleIsRefused() {
    assertEquals("op #0 L2_NORMALIZATION (x int8 -> y int8) cannot be compiled: L2_NORMALIZATION op #0 (output 'y'): the output "
        + "'y' has " + Q + "; TFLite's int8 L2_NORMALIZATION needs scale 1/128 (0.0078125) and zero point 0",
        refusal(OpType.L2_NORMALIZATION, new Options.L2Norm(Activation.NONE), t("x", DType.INT8, Q, 2, 4),
            t("y", DType.INT8, Q, 2, 4)));
  }

  @Test void reflectPaddingWiderThanTheInputIsRefused() {
    assertEquals("op #0 MIRROR_PAD (x float32 -> y float32) cannot be compiled: MIRROR_PAD op #0 (output 'y'): pads dimension 1 "
        + "(size 3) by 3 / 0; REFLECT allows at most the size - 1",
        refusal(OpType.MIRROR_PAD, new Options.MirrorPad(new int[] {0, 3}, new int[] {0, 0}, false),
            t("x", DType.FLOAT32, Quantization.NONE, 2, 3), t("y", DType.FLOAT32, Quantization.NONE, 2, 6)));
  }

  @Test void int16MaxPoolWithRequantizationIsRefused() {
    Quantization q16 = Quantization.perTensor(1f / 4096, 0);
    assertEquals("op #0 MAX_POOL_2D (x int16 -> y int16) cannot be compiled: MAX_POOL_2D op #0 (output 'y'): the input 'x' (" + q16
        + ") and the output 'y' (" + Quantization.perTensor(1f / 2048, 0) + ") must share scale and zero point, as TFLite "
        + "requires for this op; re-quantize the model so they match",
        refusal(OpType.MAX_POOL_2D, new Options.Pool(2, 2, 2, 2, Options.Padding.ZERO, Activation.NONE),
            t("x", DType.INT16, q16, 1, 4, 4, 1), t("y", DType.INT16, Quantization.perTensor(1f / 2048, 0), 1, 2, 2, 1)));
  }
}
