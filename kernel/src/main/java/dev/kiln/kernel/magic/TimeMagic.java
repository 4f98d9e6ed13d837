package dev.kiln.kernel.magic;

import java.util.Locale;

/** {@code %%time}: runs the cell's body and prints its wall time; the body's value is the cell's. */
public final class TimeMagic {
  private TimeMagic() {}

  public static void register(Magics magics) {
    magics.cell("time", ": run the cell and print its wall time", (args, body, runBody) -> {
      long start = System.nanoTime();
      try {
        return runBody.run();
      } finally {
        System.out.println(String.format(Locale.ROOT, "Wall time: %s", format(System.nanoTime() - start)));
      }
    });
    magics.line("lsmagic", ": list the magics", args -> System.out.print(magics.usage()));
  }

  static String format(long nanos) {
    if (nanos < 1_000_000L) return String.format(Locale.ROOT, "%.1f µs", nanos / 1e3);
    if (nanos < 1_000_000_000L) return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
    return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
  }
}
