package dev.kiln;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.kiln.api.HostModel;
import dev.kiln.api.Kiln;
import dev.kiln.api.Tensor;
import dev.kiln.ir.DType;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The onnx-intarith fixtures alone (Add/Sub/Mul/Div/Mod/Max/Min, comparisons and Clip on run-time int8, uint8, int16,
 * int32 and int64 tensors, broadcast, with edge values), compiled with gcc and run as a process against onnxruntime's
 * outputs, exactly; ModelConformanceTest runs them too, among every ONNX fixture.
 */
class OnnxIntArithConformanceTest {
  static Stream<Case> cases() { return ReferenceModels.onnxIntArith().stream(); }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesOnnxruntime(Case c, @TempDir Path work) throws Exception {
    ModelConformanceTest.assertMatchesReference(c, work);
  }

  /**
   * What onnxruntime cannot be asked (its CPU kernels trap with SIGFPE): a zero divisor gives 0 for Div, Mod and Mod
   * fmod=1, and MIN / -1 wraps to MIN with remainder 0. The program runs to the end and writes exactly that.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource({"int8", "uint8", "int16", "int32", "int64"})
  void zeroDivisorGivesZeroAndMinByMinusOneWraps(String type, @TempDir Path work) throws Exception {
    DType t = DType.valueOf(type.toUpperCase(java.util.Locale.ROOT));
    long min = switch (t) { case INT8 -> Byte.MIN_VALUE; case INT16 -> Short.MIN_VALUE; case INT32 -> Integer.MIN_VALUE;
      case INT64 -> Long.MIN_VALUE; default -> 0; };
    long max = switch (t) { case INT8 -> Byte.MAX_VALUE; case UINT8 -> 255; case INT16 -> Short.MAX_VALUE;
      case INT32 -> Integer.MAX_VALUE; default -> Long.MAX_VALUE; };
    boolean signed = t != DType.UINT8;
    // a [2,3,4] by b [4]: row 0 divides by zero; in row 1 only MIN by -1 (and 7 by -1) is left
    long[] a = new long[24];
    for (int i = 0; i < 24; i++) a[i] = i % 3 == 0 ? min : i % 3 == 1 ? max : 7;
    long[] b = signed ? new long[] {0, -1, 0, -1} : new long[] {0, 1, 0, 1};
    Case c = ReferenceModels.onnxIntArith().stream().filter(x -> x.name().equals("int_div_mod_" + type)).findFirst().orElseThrow();
    HostModel program = Kiln.load(c.modelFile()).build(dev.kiln.api.Executor.aot().interfaceApi("c").unpackedApi(true))
        .compileForHost(work);
    List<Tensor> out = program.run(List.of(tensor(t, new int[] {2, 3, 4}, a), tensor(t, new int[] {4}, b)));
    long[] div = new long[24];
    long[] rem = new long[24];
    for (int i = 0; i < 24; i++) {
      long d = b[i % 4];
      div[i] = d == 0 ? 0 : d == -1 ? (a[i] == min ? min : -a[i]) : a[i]; // d is 1 otherwise (uint8)
      rem[i] = 0;
    }
    assertArrayEquals(div, longs(out.get(0)), "Div");
    assertArrayEquals(rem, longs(out.get(1)), "Mod");
    assertArrayEquals(rem, longs(out.get(2)), "Mod fmod=1");
  }

  static Tensor tensor(DType t, int[] shape, long[] v) {
    ByteBuffer bb = ByteBuffer.allocate(v.length * t.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (long x : v) {
      switch (t.byteSize()) {
        case 1 -> bb.put((byte) x);
        case 2 -> bb.putShort((short) x);
        case 4 -> bb.putInt((int) x);
        default -> bb.putLong(x);
      }
    }
    return Tensor.of(t, shape, bb.array());
  }

  static long[] longs(Tensor t) {
    ByteBuffer bb = ByteBuffer.wrap(t.bytes()).order(ByteOrder.LITTLE_ENDIAN);
    long[] v = new long[bb.capacity() / t.dtype().byteSize()];
    for (int i = 0; i < v.length; i++) {
      v[i] = switch (t.dtype()) {
        case INT8 -> bb.get();
        case UINT8 -> bb.get() & 0xff;
        case INT16 -> bb.getShort();
        case INT32 -> bb.getInt();
        default -> bb.getLong();
      };
    }
    return v;
  }
}
