package dev.kiln.ir;

import java.util.Arrays;

/** Helpers for int[] shapes; shapes in Kiln are static and non-negative. */
public final class Shape {
  private Shape() {}

  public static long elements(int[] shape) {
    long n = 1;
    for (int d : shape) n *= d;
    return n;
  }

  public static String toString(int[] shape) {
    return Arrays.toString(shape).replace(" ", "");
  }
}
