package dev.kiln.codegen.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TRANSPOSE: the Java plan (drop size-1 axes, merge axes that stay neighbours, pad to 6) and the C
 * kernel, compiled with the toolkit's strict flags and run on random permutations of ranks 1..6
 * with elements of 1, 2, 4 and 8 bytes, compared byte for byte with a transpose done here.
 */
class TransposeKernelTest {

  @Test void nchwToNhwcOfAnRgbImageIsATwoAxisWalk() {
    TransposeEmitter.Plan p = TransposeEmitter.plan(new int[] {1, 3, 32, 32}, new int[] {0, 2, 3, 1});
    assertArrayEquals(new int[] {1, 1, 1, 1, 1024, 3}, p.shape());
    assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1024}, p.inStride());
  }

  @Test void movingOnlyAxesOfSizeOneIsACopy() {
    assertTrue(TransposeEmitter.plan(new int[] {1, 1, 8, 8}, new int[] {0, 2, 3, 1}).isCopy());
    assertTrue(TransposeEmitter.plan(new int[] {4, 1, 1, 5}, new int[] {1, 0, 3, 2}).isCopy());
    assertFalse(TransposeEmitter.plan(new int[] {4, 1, 1, 5}, new int[] {3, 1, 2, 0}).isCopy());
  }

  @Test void aNonPermutationIsRefused() {
    assertEquals("perm [0, 0, 1] is not a permutation of 0..2",
        assertThrows(IllegalArgumentException.class, () -> TransposeEmitter.plan(new int[] {2, 3, 4}, new int[] {0, 0, 1})).getMessage());
  }

  /** numpy.transpose on raw elements of {@code e} bytes. */
  static byte[] reference(byte[] in, int[] shape, int[] perm, int e) {
    int r = shape.length;
    int[] out = TransposeEmitter.permuted(shape, perm);
    long[] stride = new long[r];
    long s = 1;
    for (int d = r - 1; d >= 0; d--) {
      stride[d] = s;
      s *= shape[d];
    }
    byte[] result = new byte[in.length];
    int[] idx = new int[r];
    int n = in.length / e;
    for (int k = 0; k < n; k++) {
      long src = 0;
      for (int i = 0; i < r; i++) src += idx[i] * stride[perm[i]];
      System.arraycopy(in, (int) src * e, result, k * e, e);
      for (int i = r - 1; i >= 0; i--) {
        if (++idx[i] < out[i]) break;
        idx[i] = 0;
      }
    }
    return result;
  }

  @Test void theKernelMatchesNumpyTransposeForEveryRankAndElementSize(@TempDir Path dir) throws Exception {
    Random rnd = new Random(6);
    List<int[][]> cases = new ArrayList<>(); // {shape, perm, {elementBytes}}
    cases.add(new int[][] {{1, 3, 5, 4}, {0, 2, 3, 1}, {4}});
    cases.add(new int[][] {{2, 5, 4, 3}, {0, 3, 1, 2}, {1}});
    cases.add(new int[][] {{7}, {0}, {8}});
    cases.add(new int[][] {{3, 1, 4}, {2, 1, 0}, {2}});
    for (int k = 0; k < 40; k++) {
      int r = 1 + rnd.nextInt(6);
      int[] shape = new int[r];
      for (int d = 0; d < r; d++) shape[d] = 1 + rnd.nextInt(r > 4 ? 3 : 5);
      List<Integer> p = new ArrayList<>();
      for (int d = 0; d < r; d++) p.add(d);
      java.util.Collections.shuffle(p, rnd);
      cases.add(new int[][] {shape, p.stream().mapToInt(Integer::intValue).toArray(), {1 << rnd.nextInt(4)}});
    }
    StringBuilder c = new StringBuilder("#include <stdio.h>\n#include <string.h>\n#include \"kiln_layout.h\"\n");
    StringBuilder calls = new StringBuilder();
    for (int k = 0; k < cases.size(); k++) {
      int[] shape = cases.get(k)[0];
      int[] perm = cases.get(k)[1];
      int e = cases.get(k)[2][0];
      int n = (int) dev.kiln.ir.Shape.elements(shape) * e;
      byte[] in = new byte[n];
      rnd.nextBytes(in);
      byte[] want = reference(in, shape, perm, e);
      TransposeEmitter.Plan plan = TransposeEmitter.plan(shape, perm);
      c.append("static const unsigned char in").append(k).append("[] = {").append(list(in)).append("};\n");
      c.append("static const unsigned char want").append(k).append("[] = {").append(list(want)).append("};\n");
      c.append("static const kiln_transpose_params p").append(k).append(" = {{").append(join(plan.shape())).append("}, {")
          .append(join(plan.inStride())).append("}, ").append(e).append("};\n");
      calls.append("  { static unsigned long long out[").append((n + 7) / 8).append("]; kiln_transpose(&p").append(k)
          .append(", in").append(k).append(", out); if (memcmp(out, want").append(k).append(", ").append(n)
          .append(") != 0) { printf(\"case ").append(k).append(" differs\\n\"); bad++; } }\n");
    }
    c.append("int main(void) {\n  int bad = 0;\n").append(calls).append("  printf(\"%d bad\\n\", bad);\n  return bad != 0;\n}\n");
    for (String f : new String[] {"kiln_layout.h", "kiln_layout.c"}) {
      try (InputStream in = getClass().getResourceAsStream("/dev/kiln/runtime/kernels/" + f)) {
        Files.write(dir.resolve(f), in.readAllBytes());
      }
    }
    Files.writeString(dir.resolve("t.c"), c);
    List<String> cmd = new ArrayList<>(List.of("gcc"));
    cmd.addAll(Arrays.asList(EltwiseHarness.CFLAGS.split(" ")));
    cmd.addAll(List.of("-I" + dir, "-o", dir.resolve("t").toString(), dir.resolve("t.c").toString(), dir.resolve("kiln_layout.c").toString()));
    EltwiseHarness.exec(cmd, new byte[0]);
    String out = new String(EltwiseHarness.exec(List.of(dir.resolve("t").toString()), new byte[0]), StandardCharsets.UTF_8);
    assertEquals("0 bad\n", out);
  }

  private static String list(byte[] b) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < b.length; i++) sb.append(i == 0 ? "" : ",").append(b[i] & 0xff);
    return sb.length() == 0 ? "0" : sb.toString();
  }

  private static String join(int[] v) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < v.length; i++) sb.append(i == 0 ? "" : ", ").append(v[i]);
    return sb.toString();
  }
}
