package dev.kiln.frontend;

import dev.kiln.ir.Graph;
import dev.kiln.ir.Shape;
import dev.kiln.ir.Tensor;
import java.util.Locale;

/**
 * How big a model Kiln takes, checked before the work it would cost: a model file (or external
 * data file) over {@link #MAX_FILE_BYTES} is refused from its size, before a byte is read; a model
 * whose tensors would need over {@link #MAX_TENSOR_BYTES} in all (weights, activations, folded
 * constants) is refused from its shapes, before anything that size is allocated. Microcontroller
 * models are kilobytes to a few megabytes, so both limits are far above any real one.
 */
public final class ModelLimits {
  /** The largest model file (and external data file) read: 256 MiB. */
  public static final long MAX_FILE_BYTES = 256L << 20;
  /** The most memory all of a model's tensors together may need: 1 GiB. */
  public static final long MAX_TENSOR_BYTES = 1L << 30;

  /**
   * The largest constant computed while a model is read (a Pad, a Pow, a ConstantOfShape of constants): 16 MiB, more
   * than any microcontroller's flash, so a real model never meets it, and a damaged one cannot stall the reader.
   */
  public static final long MAX_FOLDED_BYTES = 16L << 20;

  private ModelLimits() {}

  /** Refuses a constant about to be computed at read time that would hold over {@link #MAX_FOLDED_BYTES}. */
  public static void checkFolded(String file, String what, int[] shape, long elementBytes) throws ModelFormatException {
    long n = bytes(shape, elementBytes);
    if (n > MAX_FOLDED_BYTES) {
      throw new ModelFormatException(file, what + " has shape " + Shape.toString(shape) + ", " + describe(n) + "; Kiln computes"
          + " constants of at most " + mib(MAX_FOLDED_BYTES) + " while it reads a model (ModelLimits.MAX_FOLDED_BYTES), more than"
          + " any microcontroller's flash holds");
    }
  }

  /** Refuses a file of {@code size} bytes over the limit; {@code kind} is "model file" or "external data file". */
  public static void checkFileSize(String file, String kind, long size) throws ModelFormatException {
    if (size > MAX_FILE_BYTES) {
      throw new ModelFormatException(file, "the " + kind + " is " + size + " bytes (" + mib(size) + "); Kiln reads files up to "
          + mib(MAX_FILE_BYTES) + " (ModelLimits.MAX_FILE_BYTES), far above any microcontroller model: is this the right file?");
    }
  }

  /** Bytes of {@code shape} elements of {@code elementBytes} each, or Long.MAX_VALUE if that overflows. */
  public static long bytes(int[] shape, long elementBytes) {
    long n = elementBytes;
    for (int d : shape) {
      if (d < 0) return Long.MAX_VALUE;
      if (d != 0 && n > Long.MAX_VALUE / d) return Long.MAX_VALUE;
      n *= d;
    }
    return n;
  }

  /** Refuses one tensor (e.g. a constant about to be folded) that alone would need over the limit. */
  public static void checkTensor(String file, String what, int[] shape, long elementBytes) throws ModelFormatException {
    long n = bytes(shape, elementBytes);
    if (n > MAX_TENSOR_BYTES) {
      throw new ModelFormatException(file, what + " has shape " + Shape.toString(shape) + ", " + describe(n) + "; Kiln takes models whose"
          + " tensors need at most " + mib(MAX_TENSOR_BYTES) + " in all (ModelLimits.MAX_TENSOR_BYTES)");
    }
  }

  /** Refuses a graph whose tensors together would need over the limit, naming the largest. */
  public static void checkGraph(String file, Graph g) throws ModelFormatException {
    long total = 0;
    Tensor largest = null;
    long largestBytes = -1;
    for (Tensor t : g.tensors()) {
      long n = bytes(t.shape(), t.dtype().byteSize());
      total = n > Long.MAX_VALUE - total ? Long.MAX_VALUE : total + n;
      if (n > largestBytes) {
        largestBytes = n;
        largest = t;
      }
    }
    if (total > MAX_TENSOR_BYTES) {
      throw new ModelFormatException(file, "its tensors would need " + describe(total) + " in all (the largest, '" + largest.name() + "' "
          + Shape.toString(largest.shape()) + " " + largest.dtype().numpyName() + ", " + describe(largestBytes) + "); Kiln takes models"
          + " whose tensors need at most " + mib(MAX_TENSOR_BYTES) + " (ModelLimits.MAX_TENSOR_BYTES)");
    }
  }

  private static String describe(long bytes) {
    return bytes == Long.MAX_VALUE ? "more bytes than a long counts" : bytes + " bytes (" + mib(bytes) + ")";
  }

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0).replace(".0 MiB", " MiB");
  }
}
