package dev.kiln.qemu;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.api.Device;
import dev.kiln.api.Executor;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ONNX integer arithmetic (INT_ARITH) on the Cortex-M4F (mps2-an386) and the Cortex-M3 (mps2-an385, no FPU): int64
 * division and remainders through libgcc's helpers, int64 fmod=1 through a soft-float double fmod on the M3, wrapping
 * int8 arithmetic and float32 fmodf, all against onnxruntime's outputs, exactly (every sample).
 */
class QemuIntArithTest {
  private static final List<String> CASES = List.of("int_div_mod_int64", "int64_index_arithmetic", "int_elementwise_int8", "float_fmod");

  @BeforeAll static void needsQemu() {
    assumeTrue(QemuDeviceTest.onPath("qemu-system-arm") && QemuDeviceTest.onPath("arm-none-eabi-gcc"),
        "qemu-system-arm or arm-none-eabi-gcc is not installed (./install adds qemu-system-arm and gcc-arm-none-eabi)");
  }

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    List<Case> cases = ReferenceModels.onnxIntArith().stream().filter(c -> CASES.contains(c.name())).toList();
    if (cases.size() != CASES.size()) throw new IllegalStateException("onnx-intarith fixtures missing: found " + cases);
    for (String board : List.of("mps2-an386", "mps2-an385")) {
      for (Case c : cases) out.add(Arguments.of(c, board));
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("cases")
  void integerArithmeticMatchesOnnxruntimeOnTheBoard(Case c, String board) {
    QemuDeviceTest.assertRunsOnBoard(c, Executor.aot(), Device.qemu(board), c.samples());
  }
}
