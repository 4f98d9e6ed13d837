package dev.kiln.kernel.magic;

import java.util.Locale;

/**
 * {@code %%time} runs the cell's body and {@code %time EXPR} the rest of its line, and print the
 * wall time; the Java's value is the cell's. {@code %load FILE} runs a file's Java in the session
 * (as JShell's {@code /open} does; a relative path starts at the kernel's working folder).
 */
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
    magics.codeLine("time", "JAVA: run the rest of the line and print its wall time", (args, raw, javaRunner) -> {
      if (raw.isBlank()) throw new IllegalArgumentException("%time needs Java after it, e.g. %time model.build(Executor.aot())");
      long start = System.nanoTime();
      try {
        return javaRunner.run(raw);
      } finally {
        System.out.println(String.format(Locale.ROOT, "Wall time: %s", format(System.nanoTime() - start)));
      }
    });
    magics.codeLine("load", "FILE: run the Java in FILE in this session (like JShell's /open)", (args, raw, javaRunner) -> {
      if (args.size() != 1) throw new IllegalArgumentException("%load takes one file, e.g. %load setup.jsh; got " + args);
      java.nio.file.Path file = java.nio.file.Path.of(args.get(0));
      if (!java.nio.file.Files.isRegularFile(file)) {
        throw new IllegalArgumentException("%load: no such file " + file.toAbsolutePath() + " (relative paths start at "
            + java.nio.file.Path.of("").toAbsolutePath() + ")");
      }
      return javaRunner.run(java.nio.file.Files.readString(file));
    });
    magics.line("lsmagic", ": list the magics", args -> System.out.print(magics.usage()));
  }

  static String format(long nanos) {
    if (nanos < 1_000_000L) return String.format(Locale.ROOT, "%.1f µs", nanos / 1e3);
    if (nanos < 1_000_000_000L) return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
    return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
  }
}
