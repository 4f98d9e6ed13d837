package dev.kiln.frontend.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The weight-scale tuning that makes FULLY_CONNECTED requantize like onnxruntime: whenever it
 * returns a scale, Kiln's rescale equals onnxruntime's on every accumulator (checked here on every
 * accumulator of small domains and at random points of large ones), and it finds one for most
 * channels.
 */
class OrtRequantizeTest {

  @Test void aTunedScaleGivesOnnxruntimesCodeForEveryAccumulator() {
    Random rnd = new Random(7);
    int found = 0;
    int trials = 300;
    for (int k = 0; k < trials; k++) {
      float sx = (float) Math.pow(10, -2.5 + 1.5 * rnd.nextDouble());
      float sw = (float) Math.pow(10, -3 + 1.5 * rnd.nextDouble());
      float sy = (float) Math.pow(10, -2 + 1.5 * rnd.nextDouble());
      int zp = rnd.nextInt(256) - 128;
      int lo = rnd.nextBoolean() ? zp : -128;
      long bound = 2000 + rnd.nextInt(200_000);
      float tuned = OrtRequantize.tuneOrNaN(sx, sw, sy, zp, lo, 127, -bound, bound);
      if (Float.isNaN(tuned)) continue;
      found++;
      assertTrue(Math.abs(tuned - sw) <= OrtRequantize.SEARCH_ULPS * Math.ulp(sw) * 2, "a scale next to the model's");
      float m = sx * sw / sy;
      if (bound <= 20_000) {
        for (long acc = -bound; acc <= bound; acc++) {
          assertEquals(OrtRequantize.ort(acc, m, zp, lo, 127), OrtRequantize.kiln(acc, sx, tuned, sy, zp, lo, 127), "acc " + acc);
        }
      } else {
        for (int i = 0; i < 20_000; i++) {
          long acc = -bound + (long) (rnd.nextDouble() * 2 * bound);
          assertEquals(OrtRequantize.ort(acc, m, zp, lo, 127), OrtRequantize.kiln(acc, sx, tuned, sy, zp, lo, 127), "acc " + acc);
        }
      }
    }
    assertTrue(found > trials * 3 / 4, "found a scale for " + found + " of " + trials);
  }

  @Test void onnxruntimeRoundsTheFloatProductHalfToEvenAndClampsAroundTheZeroPoint() {
    assertEquals(2 - 5, OrtRequantize.ort(5, 0.5f, -5, -128, 127)); // 2.5 -> 2
    assertEquals(4 - 5, OrtRequantize.ort(7, 0.5f, -5, -128, 127)); // 3.5 -> 4
    assertEquals(127, OrtRequantize.ort(1_000_000, 0.5f, 0, -128, 127));
    assertEquals(-5, OrtRequantize.ort(-100, 0.5f, -5, -5, 127)); // the activation clamp
  }
}
