package dev.kiln.codegen.kernels;

import dev.kiln.ir.OpType;
import org.junit.jupiter.api.Test;

/** RELU and RELU6 (int8 rescale through MBQM by the float32 ratio s_in/s_out, then the clamp). */
class ReluKernelTest {
  @Test void int8AllCodes() {
    LogisticKernelTest.exhaustive(OpType.RELU, 41, 0, 0, (c, si, zi, so, zo) -> EltwiseReference.relu(c, si, zi, so, zo, false));
  }

  @Test void relu6Int8AllCodes() {
    LogisticKernelTest.exhaustive(OpType.RELU6, 42, 0, 0, (c, si, zi, so, zo) -> EltwiseReference.relu(c, si, zi, so, zo, true));
  }

  @Test void float32() {
    LogisticKernelTest.floatOp(OpType.RELU, v -> Math.max(v, 0));
    LogisticKernelTest.floatOp(OpType.RELU6, v -> Math.min(Math.max(v, 0), 6));
  }
}
