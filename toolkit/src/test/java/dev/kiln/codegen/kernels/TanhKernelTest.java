package dev.kiln.codegen.kernels;

import dev.kiln.ir.OpType;
import org.junit.jupiter.api.Test;

class TanhKernelTest {
  @Test void int8AllCodes() {
    LogisticKernelTest.exhaustive(OpType.TANH, 31, 1f / 128, 0, (c, si, zi, so, zo) -> EltwiseReference.logisticOrTanh(c, si, zi, so, zo, true));
    LogisticKernelTest.exhaustive(OpType.TANH, 32, 0, 0, (c, si, zi, so, zo) -> EltwiseReference.logisticOrTanh(c, si, zi, so, zo, true));
  }

  @Test void float32() { LogisticKernelTest.floatOp(OpType.TANH, Math::tanh); }
}
