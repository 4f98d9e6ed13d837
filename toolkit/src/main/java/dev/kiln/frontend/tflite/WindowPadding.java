package dev.kiln.frontend.tflite;

/**
 * TFLite's SAME/VALID arithmetic for one spatial axis (tflite-micro padding.h, format doc 4.1):
 * the output size the padding implies, and the explicit zeros before and after. The model's own
 * output size is authoritative; {@link #check} says when it disagrees with the formula.
 */
final class WindowPadding {
  static final int SAME = 0;
  static final int VALID = 1;

  final int before;
  final int after;

  private WindowPadding(int before, int after) {
    this.before = before;
    this.after = after;
  }

  /** The output size TFLite computes; 0 or less when the window does not fit (VALID). */
  static long expectedOut(int padding, int in, int kernel, int stride, int dilation) {
    long effective = effectiveKernel(kernel, dilation);
    return padding == SAME ? ((long) in + stride - 1) / stride : ((long) in + stride - effective) / stride;
  }

  /**
   * The padding for a model whose output size is {@code out}, or null when {@code out} is not what
   * {@link #expectedOut} gives (the caller reports it). The odd extra pixel goes after.
   */
  static WindowPadding check(int padding, int in, int out, int kernel, int stride, int dilation) {
    if (out != expectedOut(padding, in, kernel, stride, dilation)) return null;
    long total = Math.max(0, ((long) out - 1) * stride + effectiveKernel(kernel, dilation) - in);
    long before = total / 2;
    return new WindowPadding((int) before, (int) (total - before));
  }

  static long effectiveKernel(int kernel, int dilation) {
    return ((long) kernel - 1) * dilation + 1;
  }
}
