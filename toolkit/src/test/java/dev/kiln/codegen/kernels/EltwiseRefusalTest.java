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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * Element types and options the elementwise-math family does not compile are refused before any C is
 * written, in one sentence naming the operator, its index, its tensors and what would work.
 */
class EltwiseRefusalTest {
  private static Tensor.Builder t(String name, DType dtype, int... shape) {
    return Tensor.builder(name).dtype(dtype).shape(shape);
  }

  private static String refusal(Graph g) {
    return assertThrows(CompileException.class, () -> Compiler.compile(g, Kernels.support())).getMessage();
  }

  @Test
  void int64DivisionIsRefusedNamingTheTypesTfliteRuns() {
    Graph.Builder b = Graph.builder("m", "m.tflite");
    int x = b.addTensor(t("x", DType.INT64, 4));
    int y = b.addTensor(t("y", DType.INT64, 4));
    int z = b.addTensor(t("z", DType.INT64, 4));
    b.addOp(OpType.DIV, new int[] {x, y}, new int[] {z}, new Options.Elementwise(Activation.NONE)).inputs(x, y).outputs(z);
    assertEquals("op #0 DIV (x int64, y int64 -> z int64) cannot be compiled: DIV op #0 (output 'z'): input 1 'x' is int64;"
        + " Kiln compiles DIV on float32, int8, int32 (the types TFLite's reference kernel runs)", refusal(b.build()));
  }

  @Test
  void fillWithRunTimeDimsIsRefused() {
    Graph.Builder b = Graph.builder("m", "m.tflite");
    int dims = b.addTensor(t("dims", DType.INT32, 2));
    int v = b.addTensor(t("v", DType.FLOAT32));
    int out = b.addTensor(t("out", DType.FLOAT32, 2, 3));
    b.addOp(OpType.FILL, new int[] {dims, v}, new int[] {out}, new Options.None()).inputs(dims, v).outputs(out);
    assertEquals("op #0 FILL (dims int32, v float32 -> out float32) cannot be compiled: FILL op #0 (output 'out'): reads its"
        + " dims from the run-time tensor 'dims'; Kiln needs constant dims (a static output size), so compute the shape at"
        + " conversion time", refusal(b.build()));
  }

  @Test
  void fillWithConstantDimsThatDisagreeWithTheOutputIsRefused() {
    Graph.Builder b = Graph.builder("m", "m.tflite");
    byte[] d = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(3).putInt(2).array();
    int dims = b.addTensor(t("dims", DType.INT32, 2).data(d));
    int v = b.addTensor(t("v", DType.FLOAT32));
    int out = b.addTensor(t("out", DType.FLOAT32, 2, 3));
    b.addOp(OpType.FILL, new int[] {dims, v}, new int[] {out}, new Options.None()).inputs(v).outputs(out);
    assertEquals("op #0 FILL (dims int32, v float32 -> out float32) cannot be compiled: FILL op #0 (output 'out'): dims [3,2]"
        + " differ from the output shape [2,3]; the model file is inconsistent", refusal(b.build()));
  }

  @Test
  void int8LogSoftmaxNeedsTfliteOutputQuantization() {
    Graph.Builder b = Graph.builder("m", "m.tflite");
    int x = b.addTensor(t("x", DType.INT8, 1, 8).quantization(Quantization.perTensor(0.1f, 0)));
    int y = b.addTensor(t("y", DType.INT8, 1, 8).quantization(Quantization.perTensor(0.1f, 0)));
    b.addOp(OpType.LOG_SOFTMAX, new int[] {x}, new int[] {y}, new Options.None()).inputs(x).outputs(y);
    assertEquals("op #0 LOG_SOFTMAX (x int8 -> y int8) cannot be compiled: LOG_SOFTMAX op #0 (output 'y'): the int8 output"
        + " must have scale 16/256 and zero point 127 (TFLite requires it), found scale=0.1 zero_point=0; convert the model"
        + " with the TFLite converter's default LOG_SOFTMAX quantization", refusal(b.build()));
  }

  @Test
  void int16AddWithPowerOfTwoScalesIsRefused() {
    Graph.Builder b = Graph.builder("m", "m.tflite");
    Quantization q = Quantization.perTensor(1f / 4096, 0);
    int x = b.addTensor(t("x", DType.INT16, 4).quantization(q));
    int y = b.addTensor(t("y", DType.INT16, 4).quantization(q));
    int z = b.addTensor(t("z", DType.INT16, 4).quantization(q));
    b.addOp(OpType.ADD, new int[] {x, y}, new int[] {z}, new Options.Elementwise(Activation.NONE, true)).inputs(x, y).outputs(z);
    assertEquals("op #0 ADD (x int16, y int16 -> z int16) cannot be compiled: ADD op #0 (output 'z'): has pot_scale_int16 set"
        + " (TFLite's power-of-two-scale int16 kernel), which Kiln does not compile; convert with the TFLite converter's 16x8"
        + " mode, which writes pot_scale_int16 = false", refusal(b.build()));
  }

  @Test
  void int16HardSwishIsRefusedAsTfliteHasNone() {
    Graph.Builder b = Graph.builder("m", "m.tflite");
    Quantization q = Quantization.perTensor(1f / 4096, 0);
    int x = b.addTensor(t("x", DType.INT16, 4).quantization(q));
    int y = b.addTensor(t("y", DType.INT16, 4).quantization(q));
    b.addOp(OpType.HARD_SWISH, new int[] {x}, new int[] {y}, new Options.None()).inputs(x).outputs(y);
    assertEquals("op #0 HARD_SWISH (x int16 -> y int16) cannot be compiled: HARD_SWISH op #0 (output 'y'): input 'x' is int16;"
        + " Kiln compiles HARD_SWISH on float32, int8 (the types TFLite's reference kernel runs)", refusal(b.build()));
  }

  @Test
  void int16MulWithNonZeroZeroPointIsRefused() {
    Graph.Builder b = Graph.builder("m", "m.tflite");
    int x = b.addTensor(t("x", DType.INT16, 4).quantization(Quantization.perTensor(1f / 4096, 3)));
    int y = b.addTensor(t("y", DType.INT16, 4).quantization(Quantization.perTensor(1f / 4096, 0)));
    int z = b.addTensor(t("z", DType.INT16, 4).quantization(Quantization.perTensor(1f / 1024, 0)));
    b.addOp(OpType.MUL, new int[] {x, y}, new int[] {z}, new Options.Elementwise(Activation.NONE)).inputs(x, y).outputs(z);
    assertEquals("op #0 MUL (x int16, y int16 -> z int16) cannot be compiled: MUL op #0 (output 'z'): input 1 'x' has"
        + " quantization scale=2.4414062E-4 zero_point=3; int16 tensors need one finite positive scale and zero point 0"
        + " (TFLite's 16x8 scheme)", refusal(b.build()));
  }

  @Test
  void int8SelectWithMismatchedQuantizationIsRefused() {
    Graph.Builder b = Graph.builder("m", "m.tflite");
    int c = b.addTensor(t("c", DType.BOOL, 4));
    int x = b.addTensor(t("x", DType.INT8, 4).quantization(Quantization.perTensor(0.5f, 0)));
    int y = b.addTensor(t("y", DType.INT8, 4).quantization(Quantization.perTensor(0.25f, 0)));
    int z = b.addTensor(t("z", DType.INT8, 4).quantization(Quantization.perTensor(0.5f, 0)));
    b.addOp(OpType.SELECT_V2, new int[] {c, x, y}, new int[] {z}, new Options.None()).inputs(c, x, y).outputs(z);
    assertEquals("op #0 SELECT_V2 (c bool, x int8, y int8 -> z int8) cannot be compiled: SELECT_V2 op #0 (output 'z'): int8"
        + " inputs and output have different quantization (scale=0.5 zero_point=0, scale=0.25 zero_point=0 -> scale=0.5"
        + " zero_point=0); SELECT_V2 copies codes, so all three must be equal", refusal(b.build()));
  }

  @Test
  void int8ComparisonWithAnInputScaleOfOneOrMoreIsRefused() {
    Graph.Builder b = Graph.builder("m", "m.tflite");
    int x = b.addTensor(t("x", DType.INT8, 4).quantization(Quantization.perTensor(2f, 0)));
    int y = b.addTensor(t("y", DType.INT8, 4).quantization(Quantization.perTensor(0.25f, 0)));
    int z = b.addTensor(t("z", DType.BOOL, 4));
    b.addOp(OpType.LESS, new int[] {x, y}, new int[] {z}, new Options.None()).inputs(x, y).outputs(z);
    assertEquals("op #0 LESS (x int8, y int8 -> z bool) cannot be compiled: LESS op #0 (output 'z'): input 1's scale = 2.0"
        + " must be in (0, 1) for TFLite's int8 kernel; re-quantize the model", refusal(b.build()));
  }

  @Test
  void aComparisonMustWriteBool() {
    Graph.Builder b = Graph.builder("m", "m.tflite");
    int x = b.addTensor(t("x", DType.FLOAT32, 4));
    int y = b.addTensor(t("y", DType.FLOAT32, 4));
    int z = b.addTensor(t("z", DType.FLOAT32, 4));
    b.addOp(OpType.EQUAL, new int[] {x, y}, new int[] {z}, new Options.None()).inputs(x, y).outputs(z);
    assertEquals("op #0 EQUAL (x float32, y float32 -> z float32) cannot be compiled: EQUAL op #0 (output 'z'): output 'z'"
        + " is float32; a comparison writes bool", refusal(b.build()));
  }

  @Test
  void floatOnlyMathOnInt8IsRefused() {
    Graph.Builder b = Graph.builder("m", "m.tflite");
    int x = b.addTensor(t("x", DType.INT8, 4).quantization(Quantization.perTensor(0.5f, 0)));
    int y = b.addTensor(t("y", DType.INT8, 4).quantization(Quantization.perTensor(0.5f, 0)));
    b.addOp(OpType.SIN, new int[] {x}, new int[] {y}, new Options.None()).inputs(x).outputs(y);
    assertEquals("op #0 SIN (x int8 -> y int8) cannot be compiled: SIN op #0 (output 'y'): input 'x' is int8; Kiln compiles"
        + " SIN on float32 (the types TFLite's reference kernel runs)", refusal(b.build()));
  }

  @Test
  void int8ToInt16RequantizationIsRefusedAsTfliteHasNone() {
    Graph.Builder b = Graph.builder("m", "m.tflite");
    int x = b.addTensor(t("x", DType.INT8, 4).quantization(Quantization.perTensor(0.5f, 0)));
    int y = b.addTensor(t("y", DType.INT16, 4).quantization(Quantization.perTensor(1f / 4096, 0)));
    b.addOp(OpType.QUANTIZE, new int[] {x}, new int[] {y}, new Options.None()).inputs(x).outputs(y);
    assertEquals("op #0 QUANTIZE (x int8 -> y int16) cannot be compiled: QUANTIZE op #0 (output 'y'): dtypes (int8) -> int16"
        + " are not supported; Kiln requantizes int16 -> int8 and int16 -> int16 (TFLite has no other int16 requantization)",
        refusal(b.build()));
  }
}
