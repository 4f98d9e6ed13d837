package dev.kiln.codegen.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.api.Build;
import dev.kiln.api.Executor;
import dev.kiln.api.HostModel;
import dev.kiln.api.Kiln;
import dev.kiln.api.Model;
import dev.kiln.api.Tensor;
import dev.kiln.api.Tolerance;
import dev.kiln.compile.FixedPoint;
import dev.kiln.compile.LinearRescale;
import dev.kiln.ir.Activation;
import dev.kiln.ir.DType;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.ir.Quantization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The NnKernels emitters and C kernels: the edge-case fixtures of {@code resources/nn} (made by
 * {@code fixtures/make_nn_fixtures.py} with TF 2.21 BUILTIN_REF outputs) compiled end to end and
 * run (int8 bit-exact, float32 within tolerance), the exact double-rescale emulation of the int8
 * FULLY_CONNECTED against real double arithmetic, and the refusals of {@code check}.
 */
class NnKernelsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String KERNELS = "/dev/kiln/runtime/kernels/";

  record Fixture(String name, Path folder, JsonNode manifest) {
    @Override public String toString() { return name; }
  }

  static Stream<Fixture> fixtures() throws IOException {
    Path root = Path.of("src/test/resources/nn").toAbsolutePath();
    List<Fixture> out = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path d : (Iterable<Path>) dirs.sorted()::iterator) {
        Path m = d.resolve("manifest.json");
        if (Files.exists(m)) out.add(new Fixture(d.getFileName().toString(), d, JSON.readTree(m.toFile())));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void fixtureMatchesTfliteReferenceKernels(Fixture f, @TempDir Path work) {
    Model model = Kiln.load(f.folder().resolve(f.manifest().get("file").asText()));
    Build build = model.build(Executor.aot().interfaceApi("c").unpackedApi(true));
    HostModel program = build.compileForHost(work);
    int inputs = f.manifest().get("inputs").size();
    int outputs = f.manifest().get("outputs").size();
    List<String> problems = new ArrayList<>();
    int samples = 0;
    for (int s = 0; Files.exists(f.folder().resolve("sample" + s + "_in0.npy")); s++, samples++) {
      List<Tensor> in = new ArrayList<>();
      for (int i = 0; i < inputs; i++) in.add(Tensor.load(f.folder().resolve("sample" + s + "_in" + i + ".npy")));
      List<Tensor> got = program.run(in);
      for (int j = 0; j < outputs; j++) {
        String why = Tolerance.mismatch(got.get(j), Tensor.load(f.folder().resolve("sample" + s + "_out" + j + ".npy")));
        if (why != null) problems.add("sample " + s + " output " + j + ": " + why);
      }
    }
    assertTrue(samples > 0, "no samples in " + f.folder());
    if (!problems.isEmpty()) fail(f.name() + ":\n  " + String.join("\n  ", problems));
  }

  /**
   * kiln_f64_rescale (integer emulation of round(double(acc) * M)) against the C double formula
   * for 4 million random and near-tie cases, and the Java encoder of M against the C one.
   */
  @Test void f64RescaleEqualsDoubleArithmetic(@TempDir Path work) throws Exception {
    copyKernels(work);
    Random r = new Random(7);
    StringBuilder table = new StringBuilder();
    int n = 400;
    for (int i = 0; i < n; i++) {
      double m = (double) (float) (r.nextDouble() * 0.1 + 1e-6) * (double) (float) (r.nextDouble() * 0.01 + 1e-7)
          / (double) (float) (r.nextDouble() * 0.5 + 1e-5);
      if (i % 5 == 0) m = Math.scalb(m, r.nextInt(60) - 30);
      int[] w = FullyConnectedEmitter.f64Words(m);
      table.append(String.format("  {%s, %d, %d, %d, %d},%n", Double.toHexString(m), w[0], w[1], w[2], 0));
    }
    String program = """
        #include <math.h>
        #include <stdio.h>
        #include <stdint.h>
        #include "kiln_nn.h"
        typedef struct { double m; int32_t w0, w1, w2, pad; } entry;
        static const entry table[] = {
        %s};
        static uint64_t s = 88172645463325252u;
        static uint64_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }
        static int32_t ref(int32_t acc, double m) {
          double x = round((double)acc * m);
          if (x >= 2147483647.0) return INT32_MAX;
          if (x <= -2147483648.0) return INT32_MIN;
          return (int32_t)x;
        }
        int main(void) {
          long bad = 0;
          long i;
          for (i = 0; i < 4000000; ++i) {
            const entry *e = &table[rnd() %% %d];
            int32_t w[3];
            double m = e->m;
            int32_t acc;
            int kind = (int)(rnd() %% 4);
            w[0] = e->w0; w[1] = e->w1; w[2] = e->w2;
            if (kind == 0) acc = (int32_t)(uint32_t)rnd();
            else acc = (int32_t)(rnd() %% 2000001) - 1000000;
            if (kind == 3 && acc != 0) {
              /* a product within a few ulps of k + 1/2: the double rounding decides */
              double k = (double)(int64_t)(rnd() %% 400) - 199.5;
              int32_t v[3];
              m = fabs(k / (double)acc);
              m = nextafter(m, (rnd() & 1) ? 1.0 : 0.0);
              {
                int ex;
                double f = frexp(m, &ex);
                int64_t mant = (int64_t)ldexp(f, 53);
                v[0] = (int32_t)(mant >> 32); v[1] = (int32_t)(uint32_t)mant; v[2] = ex - 53;
              }
              if (kiln_f64_rescale(acc, v) != ref(acc, m)) ++bad;
              continue;
            }
            if (kiln_f64_rescale(acc, w) != ref(acc, m)) ++bad;
          }
          printf("%%ld\\n", bad);
          return 0;
        }
        """.formatted(table, n);
    Files.writeString(work.resolve("t.c"), program);
    run(work, gcc("-I.", "t.c", "kiln_nn_fc.c", "kiln_nn_quant.c", "-lm", "-o", "t"));
    assertEquals("0", run(work, "./t").trim(), "mismatches between kiln_f64_rescale and round(double(acc) * M)");
  }

  /**
   * The integer rescale the FULLY_CONNECTED emitter proves at compile time (LinearRescale), run
   * by the C kernel's kiln_linear_rescale, against the C double formula clamp(round(double(acc) *
   * M) + z, lo, hi): random M (as in f64RescaleEqualsDoubleArithmetic) and M with exact ties
   * (powers of two, which need the separate offset for negative accumulators), random zero points
   * and clamps; every accumulator within 3 of each output step, random ones over all of int32,
   * and all of [-2^20, 2^20] for a few entries. A rescale must be found for every M >= 1e-5.
   */
  @Test void integerFcRescaleEqualsDoubleArithmetic(@TempDir Path work) throws Exception {
    copyKernels(work);
    Random r = new Random(11);
    StringBuilder table = new StringBuilder();
    int n = 0;
    int roundedForms = 0;
    for (int i = 0; i < 300; i++) {
      double m = (double) (float) (r.nextDouble() * 0.1 + 1e-6) * (double) (float) (r.nextDouble() * 0.01 + 1e-7)
          / (double) (float) (r.nextDouble() * 0.5 + 1e-5);
      if (i % 5 == 0) m = Math.scalb(m, r.nextInt(40) - 30);
      if (i % 7 == 0) m = Math.scalb(1.0, -r.nextInt(12)) * (1 + r.nextInt(4)); // exact halves: ties on both sides
      if (i == 1) m = 0;
      int zp = r.nextInt(256) - 128;
      int lo = r.nextBoolean() ? -128 : Math.max(-128, zp);
      int hi = r.nextInt(4) == 0 ? Math.max(lo, 100 - r.nextInt(50)) : 127;
      int[] w = FullyConnectedEmitter.integerRescales(new double[] {m}, zp, lo, hi);
      if (w == null) {
        // a 31-bit slope cannot place every step exactly once M is below about 2^-30 per code
        // (the kernel then keeps kiln_f64_rescale); the multipliers of real models are far larger
        assertTrue(m < 1e-5, "no integer rescale found for M = " + m + ", zero point " + zp);
        continue;
      }
      // a per-tensor FC's table in the form the emitter writes (2 words when rounded), read as the kernel reads it
      int[] c = java.util.Arrays.copyOf(FullyConnectedEmitter.rounded(w), LinearRescale.WORDS);
      if (c[1] >= FullyConnectedEmitter.RESCALE_ROUNDED) roundedForms++;
      table.append(String.format("  {%s, %d, %d, %d, {%d, %d, %d, %d, %d, %d}},%n", Double.toHexString(m), zp, lo, hi,
          c[0], c[1], c[2], c[3], c[4], c[5]));
      n++;
    }
    String program = """
        #include <math.h>
        #include <stdio.h>
        #include <stdint.h>
        #include "kiln_nn_util.h"
        typedef struct { double m; int32_t zp, lo, hi; int32_t words[KILN_RESCALE_WORDS]; } entry;
        static const entry table[] = {
        %s};
        static uint64_t s = 88172645463325252u;
        static uint64_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }
        static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }
        static int64_t ref(const entry *e, int32_t acc) {
          double x = round((double)acc * e->m);
          if (x > 4e9) x = 4e9;
          if (x < -4e9) x = -4e9;
          return clamp64((int64_t)x + e->zp, e->lo, e->hi);
        }
        static long checks = 0;
        static long bad = 0;
        static void check(const entry *e, const kiln_rescale *r, int64_t acc) {
          if (acc < INT32_MIN || acc > INT32_MAX) return;
          ++checks;
          if (clamp64(kiln_linear_rescale((int32_t)acc, r) + e->zp, e->lo, e->hi) != ref(e, (int32_t)acc)) {
            if (bad < 5) printf("M %%a zp %%d acc %%lld\\n", e->m, e->zp, (long long)acc);
            ++bad;
          }
        }
        int main(void) {
          int i;
          for (i = 0; i < %d; ++i) {
            const entry *e = &table[i];
            const kiln_rescale r = kiln_rescale_load_one(e->words);
            int t;
            long k;
            for (t = e->lo - e->zp - 1; t <= e->hi - e->zp + 1 && e->m > 0; ++t) {
              const double edge = ((double)t - 0.5) / e->m;
              int d;
              if (fabs(edge) > 3e9) continue;
              for (d = -3; d <= 3; ++d) check(e, &r, (int64_t)edge + d);
            }
            for (k = 0; k < 20000; ++k) check(e, &r, (int32_t)(uint32_t)rnd());
            check(e, &r, INT32_MIN);
            check(e, &r, INT32_MAX);
            if (i %% 50 == 0) {
              for (k = -(1L << 20); k <= (1L << 20); ++k) check(e, &r, k);
            }
          }
          printf("%%ld %%ld\\n", bad, checks);
          return 0;
        }
        """.formatted(table, n);
    Files.writeString(work.resolve("t.c"), program);
    run(work, gcc("-I.", "t.c", "-lm", "-o", "t"));
    String[] result = run(work, "./t").trim().split(" ");
    assertEquals("0", result[0], "mismatches between kiln_linear_rescale and round(double(acc) * M) in " + result[1]);
    assertTrue(n > 250 && Long.parseLong(result[1]) > 5_000_000L, "too few checks: " + n + " rescales, " + result[1]);
    assertTrue(roundedForms > 25 && roundedForms < n, roundedForms + " of " + n + " rescales in the 2-word rounded form");
  }

  /**
   * onnxruntime's requantization of a fused QDQ Conv/Gemm/MatMul (MLAS: rne(float32(acc) * m) with
   * a float32 m, clamped, plus the zero point), as the emitters hand it to the kernels
   * (ConvEmitter.onnxruntimeWords: the exact integer rescale where LinearRescale finds one, else the
   * float form) and kiln_rescale_apply runs it, against that float arithmetic in C with libm's
   * nearbyintf: m = float32(float32(s_in * s_w) / s_out) from random scales, and m with exact ties
   * (a few significant bits: rne's ties alternate, which no straight line follows, so these take the
   * float form), random zero points, clamps and accumulator bounds; every accumulator within 3 of
   * each output step, random ones within the bound, and all of [-2^18, 2^18] for a few entries.
   */
  @Test void onnxruntimeRescaleEqualsFloatArithmetic(@TempDir Path work) throws Exception {
    copyKernels(work);
    Random r = new Random(13);
    StringBuilder table = new StringBuilder();
    int n = 0;
    int floats = 0;
    int ties = 0;
    for (int i = 0; i < 300; i++) {
      float m = (float) (r.nextDouble() * 0.05 + 1e-4) * (float) (r.nextDouble() * 0.02 + 1e-4)
          / (float) (r.nextDouble() * 0.2 + 1e-3);
      boolean tie = i % 4 == 0;
      if (tie) m = Math.scalb((float) (1 + 2 * r.nextInt(8)), -5 - r.nextInt(8)); // below 1/2: ties all over the range
      int zp = r.nextInt(256) - 128;
      int lo = r.nextBoolean() || tie ? -128 : Math.max(-128, zp);
      int hi = r.nextInt(4) == 0 && !tie ? Math.max(lo + 1, 100 - r.nextInt(50)) : 127;
      long bound = r.nextBoolean() ? Integer.MAX_VALUE : 1000 + r.nextInt(1_000_000);
      int[] w = ConvEmitter.onnxruntimeWords(m, zp, lo, hi, bound);
      if (w[1] == dev.kiln.compile.LinearRescale.FLOAT_SHIFT) floats++;
      if (tie) {
        ties++;
        assertEquals(dev.kiln.compile.LinearRescale.FLOAT_SHIFT, w[1], "m = " + m + " has ties no straight line follows");
      }
      table.append(String.format("  {%sf, %d, %d, %d, %d, {%d, %d, %d, %d, %d, %d}},%n", Float.toHexString(m), zp, lo, hi,
          bound, w[0], w[1], w[2], w[3], w[4], w[5]));
      n++;
    }
    String program = """
        #include <math.h>
        #include <stdio.h>
        #include <stdint.h>
        #define KILN_RESCALE_FLOAT_USED 1 /* as in a model with float-form entries */
        #include "kiln_nn_util.h"
        typedef struct { float m; int32_t zp, lo, hi; int64_t bound; int32_t words[KILN_RESCALE_WORDS]; } entry;
        static const entry table[] = {
        %s};
        static uint64_t s = 88172645463325252u;
        static uint64_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }
        static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }
        static int64_t ref(const entry *e, int32_t acc) {
          float v = (float)acc * e->m;
          v = fmaxf(v, (float)(-128 - e->zp));
          v = fminf(v, (float)(127 - e->zp));
          return clamp64((int64_t)nearbyintf(v) + e->zp, e->lo, e->hi);
        }
        static long checks = 0;
        static long bad = 0;
        static void check(const entry *e, const kiln_rescale *r, int64_t acc) {
          if (acc < -e->bound || acc > e->bound) return;
          ++checks;
          if (clamp64(kiln_rescale_apply((int32_t)acc, r) + e->zp, e->lo, e->hi) != ref(e, (int32_t)acc)) {
            if (bad < 5) printf("m %%a zp %%d acc %%lld\\n", (double)e->m, e->zp, (long long)acc);
            ++bad;
          }
        }
        int main(void) {
          int i;
          for (i = 0; i < %d; ++i) {
            const entry *e = &table[i];
            const kiln_rescale r = kiln_rescale_load(e->words);
            int t;
            long k;
            for (t = e->lo - e->zp - 1; t <= e->hi - e->zp + 1; ++t) {
              const double edge = ((double)t - 0.5) / (double)e->m;
              int d;
              if (fabs(edge) > 3e9) continue;
              for (d = -3; d <= 3; ++d) check(e, &r, (int64_t)edge + d);
            }
            for (k = 0; k < 20000; ++k) check(e, &r, (int64_t)(rnd() %% (uint64_t)(2 * e->bound + 1)) - e->bound);
            check(e, &r, -e->bound);
            check(e, &r, e->bound);
            if (i %% 25 == 0) {
              for (k = -(1L << 18); k <= (1L << 18); ++k) check(e, &r, k);
            }
          }
          printf("%%ld %%ld\\n", bad, checks);
          return 0;
        }
        """.formatted(table, n);
    Files.writeString(work.resolve("t.c"), program);
    run(work, gcc("-I.", "t.c", "-lm", "-o", "t"));
    String[] result = run(work, "./t").trim().split(" ");
    assertEquals("0", result[0], "mismatches between kiln_rescale_apply and rne(float32(acc) * m) in " + result[1]);
    assertTrue(floats >= ties && floats < n, "both forms: " + floats + " float entries of " + n);
    assertTrue(Long.parseLong(result[1]) > 3_000_000L, "too few checks: " + result[1]);
  }

  /**
   * The float form in integer arithmetic (kiln_float_rescale_integer, what cores without
   * single-precision hardware float run) against the float arithmetic itself
   * (kiln_float_rescale_float, what an FPU runs; here the host's SSE float32): identical results for
   * every acc and every multiplier word. Random (acc, bits) over all bit patterns (negative m,
   * zero, subnormal, infinite, NaN) and with m's exponent aimed so |acc m| lands in [1/4, 512);
   * exact ties at each rounding step, built so: float32(acc) (|acc| >= 2^24 halfway between two
   * 24-bit values), the float32 product (odd significands whose product has 25 bits), the final
   * rne (m with few bits: x.5 products), and the product rounding onto x.5; results near +-256;
   * and acc in {0, +-1, +-(2^24 +- 1), INT32_MIN, INT32_MAX} against special multipliers.
   */
  @Test void integerFloatRescaleEqualsFloatArithmetic(@TempDir Path work) throws Exception {
    copyKernels(work);
    String program = """
        #include <stdio.h>
        #include <stdint.h>
        #define KILN_RESCALE_FLOAT_USED 1
        #define KILN_RESCALE_BOTH_FORMS 1 /* both forms, whichever the target would take */
        #include "kiln_nn_util.h"
        static uint64_t s = 88172645463325252u;
        static uint64_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }
        static uint32_t below(uint32_t n) { return (uint32_t)(rnd() % n); }
        static long checks = 0;
        static long bad = 0;
        static long product_ties = 0;
        static long half_ties = 0;
        static void check(int64_t acc64, uint32_t bits) {
          const int32_t acc = (int32_t)acc64;
          const int32_t f = kiln_float_rescale_float(acc, (int32_t)bits);
          const int32_t i = kiln_float_rescale_integer(acc, (int32_t)bits);
          float m;
          double twice;
          if (acc64 < INT32_MIN || acc64 > INT32_MAX) return;
          ++checks;
          memcpy(&m, &bits, sizeof m);
          twice = 2.0 * (double)((float)acc * m); /* an odd integer: the float32 product is a tie of the final rne */
          if (twice > -512.0 && twice < 512.0 && twice == (double)(int64_t)twice && ((int64_t)twice & 1) != 0) ++half_ties;
          if (f != i) {
            if (bad < 5) printf("acc %ld m bits %08lx: float %ld integer %ld\\n", (long)acc, (unsigned long)bits, (long)f, (long)i);
            ++bad;
          }
        }
        static int bit_length(uint64_t x) { int n = 0; while (x != 0) { x >>= 1; ++n; } return n; }
        /* the bits of odd * 2^k (odd < 2^24) as a float32, k such that it stays a normal float */
        static uint32_t float_bits(uint32_t sign, uint32_t odd, int k) {
          const int len = bit_length(odd);
          const uint32_t significand = odd << (24 - len); /* 2^23 <= significand < 2^24 */
          const int exponent = k + len - 1 + 127; /* odd * 2^k = significand * 2^(k + len - 24) */
          return (sign << 31) | ((uint32_t)exponent << 23) | (significand & 0x7fffffu);
        }
        /* bits of a random m of the given sign with |acc m| in [2^target, 2^(target+1)) roughly */
        static uint32_t aimed(int64_t acc, int target) {
          const uint64_t a = (uint64_t)(acc < 0 ? -acc : acc);
          const int exponent = 127 + target - (bit_length(a) - 1);
          return (uint32_t)(rnd() & 0x807fffffu) | ((uint32_t)exponent << 23);
        }
        int main(void) {
          static const uint32_t specials[] = {0x00000000u, 0x80000000u, 0x00000001u, 0x007fffffu, 0x00800000u,
                                              0x3f800000u, 0xbf800000u, 0x3f000000u, 0x33800000u, 0x7f7fffffu,
                                              0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00001u, 0x7f800001u,
                                              0x34000000u, 0x3b800000u, 0x43800000u, 0x3f800001u, 0x3effffffu};
          static const int64_t accs[] = {0, 1, -1, 2, 255, 256, 257, 511, 512, 513, (1 << 24) - 1, (1 << 24),
                                         (1 << 24) + 1, (1 << 24) + 3, -(1 << 24) - 1, -(1 << 24) - 3,
                                         INT32_MIN, INT32_MIN + 1, INT32_MAX, INT32_MAX - 64, 0x40000040, -0x40000040};
          long k;
          size_t i;
          size_t j;
          for (i = 0; i < sizeof accs / sizeof accs[0]; ++i) {
            for (j = 0; j < sizeof specials / sizeof specials[0]; ++j) check(accs[i], specials[j]);
            for (j = 0; j < 20000; ++j) {
              if (accs[i] != 0) check(accs[i], aimed(accs[i], (int)below(14) - 4));
              check(accs[i], (uint32_t)rnd());
            }
          }
          for (k = 0; k < 4000000; ++k) { /* any acc, any bits */
            check((int64_t)(int32_t)rnd() >> below(32), (uint32_t)rnd());
          }
          for (k = 0; k < 3000000; ++k) { /* |acc m| in [1/4, 512) */
            const int64_t acc = (int64_t)(int32_t)rnd() >> below(32);
            if (acc != 0) check(acc, aimed(acc, (int)below(11) - 2));
          }
          for (k = 0; k < 1000000; ++k) { /* float32(acc) ties: |acc| = (2q + 1) 2^(e-1), q of 24 bits */
            const int e = 1 + (int)below(7);
            const int64_t q = (1 << 23) + (int64_t)below(1u << 23);
            const int64_t a = (2 * q + 1) << (e - 1);
            const int64_t acc = (rnd() & 1) ? -a : a;
            const int64_t d = (int64_t)below(3) - 1;
            check(acc + d, aimed(acc, (int)below(11) - 2));
          }
          for (k = 0; k < 1000000; ++k) { /* float32 product ties: an odd product of exactly 25 bits */
            const uint32_t odd_a = (uint32_t)((1u << below(16)) | below(1u << 16)) | 1u;
            const int len_m = 25 - bit_length(odd_a) + (int)below(2);
            uint32_t odd_m;
            int shift;
            int target;
            if (len_m < 1 || len_m > 24) continue;
            odd_m = ((1u << (len_m - 1)) | below(1u << (len_m - 1))) | 1u;
            if (bit_length((uint64_t)odd_a * odd_m) != 25) continue;
            shift = (int)below((uint32_t)(32 - bit_length(odd_a)));
            target = (int)below(12) - 3; /* the product near 2^target */
            ++product_ties;
            check((rnd() & 1) ? -((int64_t)odd_a << shift) : ((int64_t)odd_a << shift),
                  float_bits((uint32_t)(rnd() & 1), odd_m, target - 24 - shift));
          }
          for (k = 0; k < 1000000; ++k) { /* final rne ties: m = odd 2^-e with few bits, small acc */
            const uint32_t odd = (uint32_t)(below(64) * 2 + 1);
            const int e = 1 + (int)below(12);
            const int64_t acc = (int64_t)(int32_t)rnd() >> (20 + below(12));
            check(acc, float_bits((uint32_t)(rnd() & 1), odd, -e));
          }
          for (k = 0; k < 1000000; ++k) { /* products rounding onto or next to t + 1/2, and near +-256 */
            const int64_t acc = (int64_t)(int32_t)rnd() >> below(24);
            const double goal = (k & 1) ? 255.5 + (double)below(3) - 1.0 : (double)below(256) + 0.5;
            const float m = (float)(goal / (double)(acc == 0 ? 1 : acc));
            uint32_t bits;
            memcpy(&bits, &m, sizeof bits);
            check(acc, bits + below(5) - 2);
          }
          printf("%ld %ld %ld %ld\\n", bad, checks, product_ties, half_ties);
          return 0;
        }
        """;
    Files.writeString(work.resolve("t.c"), program);
    run(work, gcc("-I.", "t.c", "-o", "t"));
    String[] result = run(work, "./t").trim().split(" ");
    assertEquals("0", result[0], "mismatches between kiln_float_rescale_integer and kiln_float_rescale_float in " + result[1]);
    assertTrue(Long.parseLong(result[1]) > 10_000_000L && Long.parseLong(result[2]) > 100_000L
        && Long.parseLong(result[3]) > 100_000L, "too few checks: " + result[1] + ", product ties " + result[2]
        + ", x.5 products " + result[3]);
  }

  /**
   * The float form is in the kernels only of a model that has a float-form entry (issue 12: code
   * no larger and no model slower than before it existed): the generated copy of kiln_nn_util.h
   * turns KILN_RESCALE_FLOAT_USED on for the QDQ fixture whose channels need it, with the channels
   * counted in the operators file, and keeps it off for TFLite int8 conv and FC models, whose kernels
   * then compile without the branch.
   */
  @Test void floatRescaleIsCompiledOnlyForModelsThatNeedIt() {
    Build qdq = Kiln.load(Path.of("src/test/resources/onnx/qdq_float_requant/model.onnx"))
        .build(Executor.aot().interfaceApi("c").unpackedApi(true));
    String on = "#define KILN_RESCALE_FLOAT_USED 1";
    assertTrue(qdq.sources().get("include/kiln_nn_util.h").contains(on), "qdq_float_requant needs the float form");
    assertTrue(qdq.sources().get("src/default_lib1.c").matches("(?s).*/\\* KILN_RESCALE_FLOAT_USED: \\d+ of \\d+ output channels.*"),
        "the operators file says which conv needs it");
    for (String tflite : List.of("conv_grouped_relu_int8", "fc_weight_zero_point_int8", "dwconv_dm3_s2_dil12_int8")) {
      Path folder = Path.of("src/test/resources/nn", tflite);
      Build b = Kiln.load(folder.resolve(readManifest(folder).get("file").asText()))
          .build(Executor.aot().interfaceApi("c").unpackedApi(true));
      String header = b.sources().get("include/kiln_nn_util.h");
      assertTrue(header.contains("#define KILN_RESCALE_FLOAT_USED 0") && !header.contains(on), tflite + " never takes the float form");
    }
  }

  /**
   * A kernel variant is compiled only into models that call it (issue 12: Cortex-M4 code no larger
   * than at its start): the generated kiln_nn.h turns on the int8 conv's portable path for a grouped
   * conv only, the depthwise one for a depth multiplier other than 1 only, the FC's DSP dot products
   * for 4+ units and its portable ones for units not by 4, and the 64-bit conv requantization for a
   * model whose channels do not all take the 32-bit form (here onnxruntime's rescale table).
   */
  @Test void kernelVariantsAreCompiledOnlyForModelsThatCallThem() {
    assertEquals(1, kernelSwitch("conv_grouped_relu_int8", "KILN_CONV_S8_PORTABLE_USED"));
    assertEquals(0, kernelSwitch("conv_per_tensor_s23_int8", "KILN_CONV_S8_PORTABLE_USED"));
    assertEquals(0, kernelSwitch("conv_per_tensor_s23_int8", "KILN_CONV_RESCALE64_USED"));
    assertEquals(1, kernelSwitch("dwconv_dm3_s2_dil12_int8", "KILN_DEPTHWISE_S8_PORTABLE_USED"));
    assertEquals(0, kernelSwitch("dwconv_per_tensor_batch2_int8", "KILN_DEPTHWISE_S8_PORTABLE_USED"));
    assertEquals(1, kernelSwitch("fc_multiplier_above_one_int8", "KILN_FC_S8_DSP_USED"));
    assertEquals(0, kernelSwitch("fc_multiplier_above_one_int8", "KILN_FC_S8_PORTABLE_USED"));
    assertEquals(1, kernelSwitch("fc_weight_zero_point_int8", "KILN_FC_S8_PORTABLE_USED"));
    assertEquals(0, kernelSwitch("conv_grouped_relu_int8", "KILN_FC_S8_DSP_USED"));
    // sizes are 16-bit kiln_dim_t fields unless one does not fit (this conv's image is 65540 wide)
    assertEquals(1, kernelSwitch("conv_wide_dims_int8", "KILN_DIM_WIDE_USED"));
    assertEquals(0, kernelSwitch("conv_per_tensor_s23_int8", "KILN_DIM_WIDE_USED"));
    Build qdq = Kiln.load(Path.of("src/test/resources/onnx/qdq_float_requant/model.onnx"))
        .build(Executor.aot().interfaceApi("c").unpackedApi(true));
    assertTrue(qdq.sources().get("include/kiln_nn.h").contains("#define KILN_CONV_RESCALE64_USED 1"),
        "onnxruntime's rescale table takes the 64-bit path");
  }

  /** A default-off switch of the generated kiln_nn.h of an nn fixture: 0 or 1. */
  private static int kernelSwitch(String fixture, String name) {
    Path folder = Path.of("src/test/resources/nn", fixture);
    String header = Kiln.load(folder.resolve(readManifest(folder).get("file").asText()))
        .build(Executor.aot().interfaceApi("c").unpackedApi(true)).sources().get("include/kiln_nn.h");
    var m = java.util.regex.Pattern.compile("(?m)^#define " + name + " ([01])\\b").matcher(header);
    assertTrue(m.find(), fixture + ": kiln_nn.h defines " + name);
    return Integer.parseInt(m.group(1));
  }

  private static JsonNode readManifest(Path folder) {
    try {
      return JSON.readTree(folder.resolve("manifest.json").toFile());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * kiln_mbqm_rescale (MBQM as one 64-bit product and shift, used by the conv kernels) against
   * kiln_mbqm for every shift from -31 to 30: random multipliers, accumulators over all of int32
   * (within the left shift's range), small ones, and ones next to the second rounding's ties.
   */
  @Test void integerMbqmEqualsMbqm(@TempDir Path work) throws Exception {
    copyKernels(work);
    String program = """
        #include <stdio.h>
        #include <stdint.h>
        #include "kiln_fixedpoint.h"
        #include "kiln_nn_util.h"
        static uint64_t s = 88172645463325252u;
        static uint64_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }
        int main(void) {
          long bad = 0;
          long checks = 0;
          int shift;
          for (shift = -31; shift <= 30; ++shift) {
            const int right = shift < 0 ? -shift : 0;
            long i;
            for (i = 0; i < 200000; ++i) {
              const int32_t q = i % 101 == 0 ? 0 : (int32_t)((1u << 30) + (uint32_t)(rnd() % (1u << 30)));
              const int kind = (int)(rnd() % 4);
              int64_t x;
              if (kind == 0) {
                x = (int32_t)(uint32_t)rnd();
              } else if (kind == 1) {
                x = (int64_t)(rnd() % 4001) - 2000;
              } else {
                /* x * q / 2^31 next to (k + 1/2) 2^right, where RDBPOT and SRDHM round ties */
                const int64_t k = (int64_t)(rnd() % 600) - 300;
                const long double tie = ((long double)k + 0.5L) * 2147483648.0L * (long double)((int64_t)1 << right);
                x = q == 0 ? 0 : (int64_t)(tie / (long double)q) + (int64_t)(rnd() % 7) - 3;
              }
              if (shift > 0) x /= ((int64_t)1 << shift);
              if (x < INT32_MIN || x > INT32_MAX) continue;
              ++checks;
              const kiln_rescale r = kiln_mbqm_rescale(q, shift);
              if (kiln_linear_rescale((int32_t)x, &r) != kiln_mbqm((int32_t)x, q, shift)) {
                if (bad < 5) printf("x %lld q %d shift %d\\n", (long long)x, q, shift);
                ++bad;
              }
            }
          }
          printf("%ld %ld\\n", bad, checks);
          return 0;
        }
        """;
    Files.writeString(work.resolve("t.c"), program);
    run(work, gcc("-I.", "t.c", "-o", "t"));
    String[] result = run(work, "./t").trim().split(" ");
    assertEquals("0", result[0], "mismatches between kiln_mbqm_rescale and kiln_mbqm in " + result[1]);
  }

  /**
   * kiln_requant32 (MBQM in 32-bit form, used by the conv kernels when the compiler proved the
   * accumulator range) against kiln_mbqm for every shift from -31 to 30: random multipliers,
   * accumulators over the whole range it is used on (|x| * 2^(max(shift, 0) + 1) < 2^31), small
   * ones, ones next to the second rounding's ties, and the range's ends.
   */
  @Test void requant32EqualsMbqm(@TempDir Path work) throws Exception {
    copyKernels(work);
    String program = """
        #include <stdio.h>
        #include <stdint.h>
        #include "kiln_fixedpoint.h"
        #include "kiln_nn_util.h"
        static uint64_t s = 88172645463325252u;
        static uint64_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }
        int main(void) {
          long bad = 0;
          long checks = 0;
          long i;
          int shift;
          for (shift = -31; shift <= 29; ++shift) {
            const int right = shift < 0 ? -shift : 0;
            const int left = (shift > 0 ? shift : 0) + 1;
            const int64_t limit = ((int64_t)1 << (31 - left)) - 1; /* largest |x| allowed */
            for (i = 0; i < 200000; ++i) {
              const int32_t q = i % 101 == 0 ? 0 : (int32_t)((1u << 30) + (uint32_t)(rnd() % (1u << 30)));
              const int kind = (int)(rnd() % 5);
              int64_t x;
              if (kind == 0) {
                x = (int64_t)(rnd() % (uint64_t)(2 * limit + 1)) - limit;
              } else if (kind == 1) {
                x = (int64_t)(rnd() % 4001) - 2000;
              } else if (kind == 2) {
                x = (rnd() % 2 == 0 ? limit : -limit) - (int64_t)(rnd() % 3) * (rnd() % 2 == 0 ? 1 : -1);
              } else {
                const int64_t k = (int64_t)(rnd() % 600) - 300;
                const long double tie = ((long double)k + 0.5L) * 2147483648.0L * (long double)((int64_t)1 << right);
                x = q == 0 ? 0 : (int64_t)(tie / (long double)q) + (int64_t)(rnd() % 7) - 3;
                if (shift > 0) x /= ((int64_t)1 << shift);
              }
              if (x < -limit || x > limit) continue;
              ++checks;
              {
                const kiln_requant32 r = kiln_requant32_of(q, shift);
                if (kiln_requant32_apply((int32_t)x, &r) != kiln_mbqm((int32_t)x, q, shift)) {
                  if (bad < 5) printf("x %lld q %d shift %d\\n", (long long)x, q, shift);
                  ++bad;
                }
              }
            }
          }
          /* kiln_linear_rescale_high (the FC kernel's form for shift >= 32) against kiln_linear_rescale */
          for (i = 0; i < 4000000; ++i) {
            kiln_rescale r;
            int32_t acc = (int32_t)(uint32_t)rnd();
            if (i % 3 == 0) acc = (int32_t)(rnd() % 200001) - 100000;
            r.multiplier = (int32_t)(rnd() % (1u << 31));
            r.shift = 32 + (int32_t)(rnd() % 31);
            r.offset_non_negative = (int64_t)(rnd() % ((uint64_t)1 << 62));
            r.offset_negative = r.offset_non_negative - (int64_t)(rnd() % ((uint64_t)1 << 61));
            ++checks;
            if ((int64_t)kiln_linear_rescale_high(acc, &r) != kiln_linear_rescale(acc, &r)) {
              if (bad < 5) printf("acc %d m %d shift %d\\n", acc, r.multiplier, r.shift);
              ++bad;
            }
          }
          printf("%ld %ld\\n", bad, checks);
          return 0;
        }
        """;
    Files.writeString(work.resolve("t.c"), program);
    run(work, gcc("-I.", "t.c", "-o", "t"));
    String[] result = run(work, "./t").trim().split(" ");
    assertEquals("0", result[0], "mismatches of kiln_requant32 / kiln_linear_rescale_high in " + result[1]);
    assertTrue(Long.parseLong(result[1]) > 8_000_000L, "too few checks: " + result[1]);
  }

  private static void copyKernels(Path work) throws IOException {
    for (String f : List.of("kiln_nn.h", "kiln_nn_util.h", "kiln_fixedpoint.h", "kiln_nn_fc.c", "kiln_nn_quant.c")) {
      try (var in = NnKernelsTest.class.getResourceAsStream(KERNELS + f)) {
        Files.write(work.resolve(f), in.readAllBytes());
      }
    }
  }

  /** The int8 MEAN multiplier folding (QuantizedMeanOrSum) on a few hand-checked values. */
  @Test void meanMultiplierFoldsTheCount() {
    FixedPoint.Multiplier m = MeanEmitter.int8Multiplier(0.05f, 0.05f, 35);
    // q = 2^30, shift 1; k = floor(log2 35) = 5; q' = 2^35 / 35
    assertEquals((int) ((1L << 35) / 35), m.multiplier());
    assertEquals(1 - 5, m.shift());
    FixedPoint.Multiplier tiny = MeanEmitter.int8Multiplier(1e-8f, 0.5f, 64);
    FixedPoint.Multiplier base = FixedPoint.quantizeMultiplier((double) 1e-8f / 0.5f);
    int k = Math.min(6, 31 + base.shift());
    assertEquals(base.shift() - k, tiny.shift());
  }

  @Test void meanPlanMergesAdjacentDimensions() {
    MeanEmitter.Plan p = MeanEmitter.plan(new int[] {2, 5, 7, 3}, new int[] {1, 2});
    assertEquals("[2, 3]", java.util.Arrays.toString(p.keptSize()));
    assertEquals("[105, 1]", java.util.Arrays.toString(p.keptStride()));
    assertEquals("[35]", java.util.Arrays.toString(p.reducedSize()));
    assertEquals("[3]", java.util.Arrays.toString(p.reducedStride()));
    assertEquals(35, p.count());
    MeanEmitter.Plan all = MeanEmitter.plan(new int[] {1, 4, 1}, new int[] {0, 1, 2});
    assertEquals(0, all.keptSize().length);
    assertEquals("[4]", java.util.Arrays.toString(all.reducedSize()));
  }

  // ---- check() refusals ------------------------------------------------------------------------

  private static dev.kiln.ir.Tensor q8(String name, float scale, int zp, int... shape) {
    return dev.kiln.ir.Tensor.builder(name).shape(shape).dtype(DType.INT8).quantization(Quantization.perTensor(scale, zp)).build();
  }

  private static dev.kiln.ir.Tensor weights(String name, float scale, int zp, byte fill, int... shape) {
    int n = 1;
    for (int d : shape) n *= d;
    byte[] data = new byte[n];
    java.util.Arrays.fill(data, fill);
    return dev.kiln.ir.Tensor.builder(name).shape(shape).dtype(DType.INT8).quantization(Quantization.perTensor(scale, zp))
        .data(data).build();
  }

  private static Op conv(Activation act, dev.kiln.ir.Tensor in, dev.kiln.ir.Tensor w, dev.kiln.ir.Tensor bias,
                         dev.kiln.ir.Tensor out) {
    List<dev.kiln.ir.Tensor> inputs = new ArrayList<>(java.util.Arrays.asList(in, w, bias));
    return new Op(0, OpType.CONV_2D, inputs, List.of(out),
        new Options.Conv(1, 1, 1, 1, Options.Padding.ZERO, 1, act));
  }

  @Test void checkRefusesWhatItCannotCompile() {
    KernelEmitterUnderTest e = new KernelEmitterUnderTest(new ConvEmitter(OpType.CONV_2D));
    dev.kiln.ir.Tensor in = q8("x", 0.1f, 0, 1, 4, 4, 2);
    dev.kiln.ir.Tensor out = q8("y", 0.1f, 0, 1, 4, 4, 3);
    dev.kiln.ir.Tensor w = weights("w", 0.01f, 0, (byte) 1, 3, 1, 1, 2);
    e.accepts(conv(Activation.RELU, in, w, null, out));
    e.refuses(conv(Activation.TANH, in, w, null, out), "TANH");
    dev.kiln.ir.Tensor floatBias = dev.kiln.ir.Tensor.builder("b").shape(3).dtype(DType.FLOAT32).data(new byte[12]).build();
    e.refuses(conv(Activation.NONE, in, w, floatBias, out), "int32 bias");
    dev.kiln.ir.Tensor floatIn = dev.kiln.ir.Tensor.builder("xf").shape(1, 4, 4, 2).dtype(DType.FLOAT32).build();
    e.refuses(conv(Activation.NONE, floatIn, w, null, out), "dtypes");
    // multiplier 0.1 * 2 / 0.01 = 20 (shift 5): |acc| <= 2 * 127 * 128 fits; weights of 127 over 2 channels do too
    dev.kiln.ir.Tensor big = weights("w2", 2f, 0, (byte) 127, 3, 1, 1, 2);
    e.accepts(conv(Activation.NONE, in, big, null, q8("y2", 0.01f, 0, 1, 4, 4, 3)));
    // multiplier 0.1 * 2 / 1e-6 = 2e5 (shift 18): 2 * 127 * 128 * 2^18 overflows
    e.refuses(conv(Activation.NONE, in, big, null, q8("y3", 1e-6f, 0, 1, 4, 4, 3)), "overflows 32 bits");
    // hybrid with an asymmetric filter
    dev.kiln.ir.Tensor floatOut = dev.kiln.ir.Tensor.builder("yf").shape(1, 4, 4, 3).dtype(DType.FLOAT32).build();
    e.refuses(conv(Activation.NONE, floatIn, weights("w4", 0.01f, 3, (byte) 1, 3, 1, 1, 2), null, floatOut), "zero point 3");
    e.accepts(conv(Activation.NONE, floatIn, w, null, floatOut));
  }

  /** Runs check() and expects acceptance or an UnsupportedOperationException naming the problem. */
  private record KernelEmitterUnderTest(dev.kiln.codegen.KernelEmitter emitter) {
    void accepts(Op op) { emitter.check(op); }

    void refuses(Op op, String fragment) {
      UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> emitter.check(op));
      assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' should mention '" + fragment + "'");
    }
  }

  /** gcc with the project's strict warnings (CWarnings.STRICT), -O2 and {@code rest}. */
  private static String[] gcc(String... rest) {
    java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("gcc", "-O2"));
    cmd.addAll(dev.kiln.project.CWarnings.STRICT);
    cmd.addAll(java.util.List.of(rest));
    return cmd.toArray(String[]::new);
  }

  private static String run(Path dir, String... command) throws Exception {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timeout: " + String.join(" ", command));
    String text = new String(out, StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), String.join(" ", command) + " failed:\n" + text);
    return text;
  }
}
