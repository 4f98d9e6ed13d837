package dev.kiln.codegen.kernels;

import static dev.kiln.codegen.kernels.EltwiseHarness.floats;
import static dev.kiln.codegen.kernels.EltwiseHarness.op;
import static dev.kiln.codegen.kernels.EltwiseHarness.tensor;
import static dev.kiln.codegen.kernels.EltwiseHarness.toFloats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** int8 SOFTMAX (gemmlowp fixed point) and float SOFTMAX against {@link EltwiseReference}. */
class SoftmaxKernelTest {

  static Op softmax(int rows, int depth, float inScale, int inZero, float beta) {
    Tensor in = tensor("x", DType.INT8, new int[] {rows, depth}, inScale, inZero);
    Tensor out = tensor("y", DType.INT8, new int[] {rows, depth}, 1f / 256, -128);
    return op(OpType.SOFTMAX, new Options.Softmax(beta), List.of(in), out);
  }

  static void check(int[][] rows, float inScale, float beta) {
    int depth = rows[0].length;
    byte[] data = new byte[rows.length * depth];
    for (int r = 0; r < rows.length; r++) for (int c = 0; c < depth; c++) data[r * depth + c] = (byte) rows[r][c];
    byte[] out = EltwiseHarness.compile(softmax(rows.length, depth, inScale, 3, beta)).run(data);
    for (int r = 0; r < rows.length; r++) {
      int[] e = EltwiseReference.softmaxRow(rows[r], beta, inScale);
      for (int c = 0; c < depth; c++) {
        int expected = e == null ? -128 : e[c];
        assertEquals(expected, out[r * depth + c], "scale " + inScale + " beta " + beta + " row " + r + " col " + c);
      }
    }
  }

  @Test void randomRowsOverManyInputScales() {
    Random rnd = new Random(11);
    for (int k = 0; k < 40; k++) {
      float scale = (float) Math.pow(10, -3 + 3.7 * rnd.nextDouble());
      float beta = k % 3 == 0 ? 0.2f + 2.8f * rnd.nextFloat() : 1f;
      int depth = 1 + rnd.nextInt(k % 2 == 0 ? 12 : 300);
      int[][] rows = new int[16][depth];
      for (int[] row : rows) {
        int spread = 1 + rnd.nextInt(256);
        int base = rnd.nextInt(256) - 128;
        for (int c = 0; c < depth; c++) row[c] = Math.max(-128, Math.min(127, base + rnd.nextInt(spread) - spread / 2));
      }
      check(rows, scale, beta);
    }
  }

  /** Rows holding every int8 code once (in shuffled order): every difference to the row max 0..-255 occurs. */
  @Test void rowsOfAllCodes() {
    Random rnd = new Random(12);
    for (float scale : new float[] {0.0039f, 0.02f, 0.0625f, 0.125f, 0.17406651f, 0.5f, 1f, 4f, 40f}) {
      int[][] rows = new int[4][256];
      for (int[] row : rows) {
        for (int c = 0; c < 256; c++) row[c] = c - 128;
        for (int c = 255; c > 0; c--) {
          int j = rnd.nextInt(c + 1);
          int t = row[c];
          row[c] = row[j];
          row[j] = t;
        }
      }
      check(rows, scale, 1f);
    }
  }

  /** Small ops compute their exponentials (kiln_softmax_exp_q5): rows reaching every difference 0..-255 from the max. */
  @Test void smallOpsComputeTheirExponentials() {
    Random rnd = new Random(14);
    for (float scale : new float[] {0.0039f, 0.02f, 0.0625f, 0.17406651f, 0.5f, 1f, 40f}) {
      for (int k = 0; k < 4; k++) {
        int[][] rows = new int[1][64];
        rows[0][0] = 127;
        for (int c = 1; c < 64; c++) rows[0][c] = 127 - (64 * k + c);
        if (k == 3) rows[0][63] = -128;
        for (int c = 63; c > 0; c--) {
          int j = rnd.nextInt(c + 1);
          int t = rows[0][c];
          rows[0][c] = rows[0][j];
          rows[0][j] = t;
        }
        check(rows, scale, k == 1 ? 0.7f : 1f);
      }
    }
    String small = EltwiseHarness.compile(softmax(4, 16, 0.1f, 0, 1f)).source;
    String deep = EltwiseHarness.compile(softmax(1, 65, 0.1f, 0, 1f)).source;
    assertTrue(small.contains("KILN_SOFTMAX_EXP_RUNTIME_USED") && !small.contains("softmax_exp["), small);
    assertTrue(!deep.contains("KILN_SOFTMAX_EXP_RUNTIME_USED") && deep.contains("softmax_exp["), deep);
  }

  /** kiln_softmax_exp_q5 on the device gives every entry of the compiler's table (SoftmaxExpTable), for many scales. */
  @Test void runTimeExponentialsEqualTheTable() throws Exception {
    Path lib = EltwiseHarness.library();
    Path dir = Files.createTempDirectory(lib.getParent(), "exp");
    Files.writeString(dir.resolve("exp.c"), """
        #include <stdio.h>
        #include <stdint.h>
        #include "kiln_fixedpoint.h"
        #include "kiln_eltwise.h"
        int main(void) {
          int m, s, d;
          while (scanf("%d %d", &m, &s) == 2) {
            for (d = 0; d < 256; ++d) {
              printf("%d\\n", (int)kiln_softmax_exp_q5(kiln_srdhm((int32_t)((uint32_t)-d << s), m)));
            }
          }
          return 0;
        }
        """);
    List<String> cmd = new java.util.ArrayList<>(List.of("gcc"));
    cmd.addAll(List.of(EltwiseHarness.CFLAGS.split(" ")));
    cmd.addAll(List.of("-I", lib.toString(), "-o", dir.resolve("exp").toString(), dir.resolve("exp.c").toString(),
        lib.resolve("kiln_eltwise.o").toString(), "-lm"));
    EltwiseHarness.exec(cmd, new byte[0]);
    Random rnd = new Random(15);
    List<SoftmaxEmitter.Int8Params> cases = new java.util.ArrayList<>();
    for (int k = 0; k < 300; k++) {
      float scale = (float) Math.pow(10, -3 + 4 * rnd.nextDouble());
      cases.add(SoftmaxEmitter.int8Params(k % 2 == 0 ? 1f : 0.1f + 3 * rnd.nextFloat(), scale));
    }
    StringBuilder in = new StringBuilder();
    for (var q : cases) in.append(q.input().multiplier()).append(' ').append(q.input().shift()).append('\n');
    String[] got = new String(EltwiseHarness.exec(List.of(dir.resolve("exp").toString()),
        in.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII)), java.nio.charset.StandardCharsets.US_ASCII)
        .trim().split("\n");
    assertEquals(256 * cases.size(), got.length);
    for (int k = 0; k < cases.size(); k++) {
      var q = cases.get(k);
      int[] table = SoftmaxExpTable.table(q.input(), q.diffMin());
      for (int d = 0; d < 256 && -d >= q.diffMin(); d++) {
        assertEquals(table[d], Integer.parseInt(got[256 * k + d]), "multiplier " + q.input().multiplier() + " shift "
            + q.input().shift() + " diff " + -d);
      }
    }
  }

  /** TFLite aborts when a row's exponentials sum to 512 or more; Kiln outputs -128 (every probability is below 1/512). */
  @Test void hugeRowSumsGiveMinusOneTwentyEight() {
    int[][] rows = new int[2][600];
    for (int c = 0; c < 600; c++) rows[1][c] = c % 3;
    assertNull(EltwiseReference.softmaxRow(rows[0], 1f, 0.1f));
    check(rows, 0.1f, 1f);
  }

  @Test void floatSoftmax() {
    Random rnd = new Random(13);
    for (float beta : new float[] {1f, 0.5f, 2.5f}) {
      int rows = 7;
      int depth = 33;
      float[] x = new float[rows * depth];
      for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 5);
      Op op = op(OpType.SOFTMAX, new Options.Softmax(beta), List.of(tensor("x", DType.FLOAT32, rows, depth)), tensor("y", DType.FLOAT32, rows, depth));
      float[] out = toFloats(EltwiseHarness.compile(op).run(floats(x)));
      float[] expected = new float[x.length];
      for (int r = 0; r < rows; r++) {
        float mx = -Float.MAX_VALUE;
        for (int c = 0; c < depth; c++) mx = Math.max(mx, x[r * depth + c]);
        float sum = 0;
        for (int c = 0; c < depth; c++) {
          expected[r * depth + c] = (float) Math.exp((x[r * depth + c] - mx) * beta);
          sum += expected[r * depth + c];
        }
        for (int c = 0; c < depth; c++) expected[r * depth + c] /= sum;
      }
      TfCases.assertFloatsClose(expected, out, "float softmax beta " + beta);
    }
  }

  @Test void checkRejectsWhatTfliteRejects() {
    var e = EltwiseHarness.emitter(OpType.SOFTMAX);
    Tensor in = tensor("x", DType.INT8, new int[] {1, 10}, 0.1f, 0);
    assertThrows(UnsupportedOperationException.class, () -> e.check(op(OpType.SOFTMAX, new Options.Softmax(1f), List.of(in),
        tensor("y", DType.INT8, new int[] {1, 10}, 1f / 128, -128))));
    assertThrows(UnsupportedOperationException.class, () -> e.check(op(OpType.SOFTMAX, new Options.Softmax(1f), List.of(in),
        tensor("y", DType.INT8, new int[] {1, 10}, 1f / 256, 0))));
    assertThrows(UnsupportedOperationException.class, () -> e.check(softmax(1, 4096, 0.1f, 0, 1f)));
    assertThrows(UnsupportedOperationException.class, () -> e.check(softmax(1, 10, 1e-9f, 0, 1f)));
  }
}
