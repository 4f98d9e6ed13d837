package dev.kiln.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.codegen.kernels.Kernels;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Hybrid SVDF and LSTM (float32 activations, int8 weights: what TFLite's dynamic-range quantization
 * writes) are refused in one line that says TFLite Micro does not run them either and how to
 * convert instead; a quantized LSTM is refused as not done yet.
 */
class HybridRefusalsTest {
  static Tensor.Builder t(String name, DType dtype, int... shape) { return Tensor.builder(name).dtype(dtype).shape(shape); }

  static Tensor.Builder int8(String name, int... shape) {
    return t(name, DType.INT8, shape).quantization(Quantization.perTensor(0.02f, 0)).data(new byte[product(shape)]);
  }

  static int product(int... shape) {
    int n = 1;
    for (int d : shape) n *= d;
    return n;
  }

  @Test
  void aHybridSvdfIsRefusedNamingWhatTfliteMicroRuns() {
    Graph.Builder b = Graph.builder("g", "test");
    int x = b.addTensor(t("x", DType.FLOAT32, 1, 4));
    int wf = b.addTensor(int8("weights_feature", 6, 4));
    int wt = b.addTensor(int8("weights_time", 6, 3));
    int bias = b.addTensor(t("bias", DType.FLOAT32, 3).data(new byte[12]));
    int state = b.addTensor(t("state", DType.FLOAT32, 1, 18).variable(true));
    int y = b.addTensor(t("y", DType.FLOAT32, 1, 3));
    b.addOp(OpType.SVDF, new int[] {x, wf, wt, bias, state}, new int[] {y}, new Options.Svdf(2, Activation.NONE));
    Graph g = b.inputs(x).outputs(y).build();
    CompileException e = assertThrows(CompileException.class, () -> Compiler.compile(g, Kernels.support()));
    assertEquals("op #0 SVDF (x float32, weights_feature int8, weights_time int8, bias float32, state float32 -> y float32) "
        + "cannot be compiled: SVDF op #0 (output 'y'): dtypes (float32, int8, int8, float32, float32) -> float32 are not "
        + "supported; Kiln compiles float32 SVDF and full-integer SVDF (int8 input, weights_feature and output, int16 "
        + "weights_time and state, int32 bias); this is a hybrid SVDF (float32 input, int8 weights), which TFLite Micro does"
        + " not run either: convert with full-integer quantization or keep float32 weights", e.getMessage());
  }

  @Test
  void hybridAndQuantizedLstmsAreRefusedEachWithItsReason() {
    // int8 activations are the full-integer LSTM Kiln compiles (Lstm8Emitter); int16 ones are refused
    for (DType act : new DType[] {DType.FLOAT32, DType.INT16}) {
      Graph.Builder b = Graph.builder("g", "test");
      int[] ins = new int[24];
      java.util.Arrays.fill(ins, -1);
      ins[0] = b.addTensor(act == DType.INT16
          ? t("x", DType.INT16, 1, 2, 3).quantization(Quantization.perTensor(0.001f, 0)) : t("x", DType.FLOAT32, 1, 2, 3));
      for (int g = 0; g < 4; g++) {
        ins[1 + g] = b.addTensor(int8("w" + g, 4, 3));
        ins[5 + g] = b.addTensor(int8("r" + g, 4, 4));
        ins[12 + g] = b.addTensor(t("b" + g, DType.FLOAT32, 4).data(new byte[16]));
      }
      ins[18] = b.addTensor(t("h", act, 1, 4).variable(true));
      ins[19] = b.addTensor(t("c", act, 1, 4).variable(true));
      int y = b.addTensor(t("y", act, 1, 2, 4));
      b.addOp(OpType.UNIDIRECTIONAL_SEQUENCE_LSTM, ins, new int[] {y},
          new Options.SequenceLstm(Activation.TANH, 0f, 0f, false));
      Graph graph = b.inputs(ins[0]).outputs(y).build();
      String message = assertThrows(CompileException.class, () -> Compiler.compile(graph, Kernels.support())).getMessage();
      String want = act == DType.FLOAT32
          ? "this is a hybrid LSTM (float32 activations, quantized weights), which TFLite Micro does not run either; convert "
              + "without Optimize.DEFAULT to keep float32 weights"
          : "this is a quantized LSTM with int16 activations; Kiln compiles float32 LSTMs and the full-integer form with int8"
              + " activations (TFLite's 8x8_16): convert with int8 activations or as float32";
      assertEquals(want, message.substring(message.indexOf("this is ")), message);
    }
  }
}
