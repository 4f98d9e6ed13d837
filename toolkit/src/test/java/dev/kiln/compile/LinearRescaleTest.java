package dev.kiln.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.Test;

/** LinearRescale against the references it replaces, accumulator by accumulator. */
class LinearRescaleTest {
  private static LongUnaryOperator doubleRescale(double m, int zeroPoint, int lo, int hi) {
    return acc -> Math.max(lo, Math.min(hi, FixedPoint.rhaz((double) acc * m) + zeroPoint));
  }

  private static long device(LinearRescale.Rescale r, long acc, int zeroPoint, int lo, int hi) {
    return Math.max(lo, Math.min(hi, r.apply(acc) + zeroPoint));
  }

  private static void assertEqualOn(LongUnaryOperator reference, LinearRescale.Rescale r, int zeroPoint, int lo, int hi,
                                    long from, long to) {
    for (long acc = from; acc <= to; acc++) {
      assertEquals(reference.applyAsLong(acc), device(r, acc, zeroPoint, lo, hi), "accumulator " + acc);
    }
  }

  @Test void roundingADoubleProductIsReproducedForEveryAccumulatorTried() {
    Random random = new Random(3);
    for (int i = 0; i < 40; i++) {
      double m = (double) (float) (random.nextDouble() * 0.05 + 1e-4) * (double) (float) (random.nextDouble() * 0.02)
          / (double) (float) (random.nextDouble() * 0.3 + 1e-3);
      int zeroPoint = random.nextInt(256) - 128;
      LongUnaryOperator reference = doubleRescale(m, zeroPoint, -128, 127);
      LinearRescale.Rescale r = LinearRescale.fit(reference, m, zeroPoint, -128, 127, Integer.MIN_VALUE, Integer.MAX_VALUE);
      assertNotNull(r, "M = " + m);
      long span = (long) Math.ceil(300 / Math.max(m, 1e-9));
      assertEqualOn(reference, r, zeroPoint, -128, 127, -Math.min(span, 200_000), Math.min(span, 200_000));
      for (int k = 0; k < 20_000; k++) {
        long acc = random.nextInt();
        assertEquals(reference.applyAsLong(acc), device(r, acc, zeroPoint, -128, 127), "accumulator " + acc);
      }
    }
  }

  @Test void exactTiesRoundAwayFromZeroOnBothSides() {
    // M = 1/4: acc = 4k + 2 is an exact tie, rounded up for acc > 0 and down for acc < 0
    LongUnaryOperator reference = doubleRescale(0.25, 0, -128, 127);
    LinearRescale.Rescale r = LinearRescale.fit(reference, 0.25, 0, -128, 127, Integer.MIN_VALUE, Integer.MAX_VALUE);
    assertNotNull(r);
    assertNotEquals(r.offsetNonNegative(), r.offsetNegative());
    assertEqualOn(reference, r, 0, -128, 127, -1000, 1000);
    assertEquals(1, r.apply(2));
    assertEquals(-1, r.apply(-2));
  }

  @Test void multiplyByQuantizedMultiplierIsReproducedIncludingItsDoubleRounding() {
    Random random = new Random(5);
    for (int i = 0; i < 40; i++) {
      double real = Math.scalb(1 + random.nextDouble(), -1 - random.nextInt(20));
      FixedPoint.Multiplier m = FixedPoint.quantizeMultiplier(real);
      int zeroPoint = random.nextInt(256) - 128;
      LongUnaryOperator reference = acc -> Math.max(-128, Math.min(127, (long) FixedPoint.mbqm((int) acc, m) + zeroPoint));
      LinearRescale.Rescale r = LinearRescale.fit(reference, Math.scalb((double) m.multiplier(), m.shift() - 31), zeroPoint,
          -128, 127, Integer.MIN_VALUE, Integer.MAX_VALUE);
      assertNotNull(r, "multiplier " + m);
      long span = (long) Math.ceil(300 / real);
      assertEqualOn(reference, r, zeroPoint, -128, 127, -Math.min(span, 200_000), Math.min(span, 200_000));
    }
  }

  @Test void aReferenceNoStraightLineFollowsHasNoFit() {
    // steps at 0, 10, 11, 30: no single slope puts a floor's steps there
    LongUnaryOperator reference = acc -> acc < 0 ? 0 : acc < 10 ? 1 : acc < 11 ? 2 : acc < 30 ? 3 : 4;
    assertNull(LinearRescale.fit(reference, 0.1, 0, 0, 4, -100, 100));
  }

  @Test void aZeroMultiplierGivesTheZeroPoint() {
    LinearRescale.Rescale r = LinearRescale.fit(doubleRescale(0, 7, -128, 127), 0, 7, -128, 127, Integer.MIN_VALUE,
        Integer.MAX_VALUE);
    assertNotNull(r);
    assertEquals(7, device(r, Integer.MIN_VALUE, 7, -128, 127));
    assertEquals(7, device(r, Integer.MAX_VALUE, 7, -128, 127));
  }

  @Test void theFewestBitsFitIsExactOnItsWholeDomainAndOneBitFewerHasNone() {
    Random random = new Random(7);
    for (int i = 0; i < 20; i++) {
      FixedPoint.Multiplier m = FixedPoint.quantizeMultiplier(Math.scalb(1 + random.nextDouble(), -6 - random.nextInt(6)));
      int zeroPoint = random.nextInt(256) - 128;
      LongUnaryOperator reference = acc -> Math.max(-128, Math.min(127, (long) FixedPoint.mbqm((int) acc, m) + zeroPoint));
      double real = Math.scalb((double) m.multiplier(), m.shift() - 31);
      long from = -40_000 - random.nextInt(20_000);
      long to = 40_000 + random.nextInt(20_000);
      int bits = LinearRescale.fewestBits(reference, real, zeroPoint, -128, 127, from, to);
      assertTrue(bits > 1 && bits < 31, "multiplier " + m + ": " + bits + " bits");
      LinearRescale.Rescale r = LinearRescale.fit(reference, real, zeroPoint, -128, 127, from, to, bits);
      assertNotNull(r);
      assertTrue(r.multiplier() < (1 << bits), r.toString());
      assertEqualOn(reference, r, zeroPoint, -128, 127, from, to);
      assertNull(LinearRescale.fit(reference, real, zeroPoint, -128, 127, from, to, bits - 1), "multiplier " + m);
    }
  }

  @Test void aPowerOfTwoNeedsOneBit() {
    // floor((acc + 8) / 16): the slope 2^-4 is multiplier 1 with shift 4
    LongUnaryOperator reference = acc -> Math.max(-128, Math.min(127, Math.floorDiv(acc + 8, 16)));
    assertEquals(1, LinearRescale.fewestBits(reference, 1.0 / 16, 0, -128, 127, -5000, 5000));
    LinearRescale.Rescale r = LinearRescale.fit(reference, 1.0 / 16, 0, -128, 127, -5000, 5000, 1);
    assertEqualOn(reference, r, 0, -128, 127, -5000, 5000);
  }
}
