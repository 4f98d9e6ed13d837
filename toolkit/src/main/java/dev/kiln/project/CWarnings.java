package dev.kiln.project;

import java.util.List;

/**
 * The warning flags every C file of Kiln compiles clean with, in one place: the runtime, the
 * executors, the kernels and all generated code, under gcc, clang, arm-none-eabi-gcc and
 * riscv64-unknown-elf-gcc. A new kernel must pass these too ({@code -Wconversion
 * -Wsign-conversion} included: cast explicitly where a value changes width or sign, e.g.
 * {@code (size_t)b * (size_t)stride} for offsets).
 */
public final class CWarnings {
  private CWarnings() {}

  /** C99 with every warning an error, conversions included. */
  public static final List<String> STRICT = List.of("-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-Wconversion",
      "-Wsign-conversion");

  /** {@link #STRICT} as one string, for shell-style commands in tests. */
  public static String strictText() { return String.join(" ", STRICT); }
}
