package dev.kiln.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * Where a run's time goes, operator by operator, measured on the device by its own clock (microTVM's
 * debug executor, TFLM's profiler): {@code executor.profile()}. Each operator's time runs from the
 * end of the previous operator to its own end, so the operators add up to at most {@link
 * #totalMicros()}, the whole run timed around the same runs (the rest is the executor's own work:
 * argument checks, output copies). Times are means over {@link #rounds()} rounds of {@link
 * #number()} runs. Immutable.
 *
 * @param instructionsPerMicrosecond the device clock's instruction rate where the platform counts
 *     instructions (QEMU with {@code -icount shift=0}: 1000); empty for a wall clock
 */
public record Profile(String model, String executor, String device, int number, int rounds, List<Entry> entries,
                      double totalMicros, OptionalDouble instructionsPerMicrosecond) {

  /**
   * One operator: its index in the compiled model, type, the name of the tensor it writes, the
   * function that runs it ({@code inline} where the AoT entry has the kernel written out), mean
   * microseconds per run and its share of the whole run.
   */
  public record Entry(int index, String type, String name, String function, double micros, double share,
                      OptionalLong instructions) {
    @Override public String toString() {
      return String.format(Locale.ROOT, "%d %s %s: %.2f us (%.1f%%)", index, type, name, micros, share * 100);
    }
  }

  public Profile {
    entries = List.copyOf(entries);
    if (number < 1) throw new IllegalArgumentException("number < 1: " + number);
    if (rounds < 1) throw new IllegalArgumentException("rounds < 1: " + rounds);
  }

  /** Microseconds of all operators together. */
  public double operatorMicros() {
    double s = 0;
    for (Entry e : entries) s += e.micros();
    return s;
  }

  /** The {@code n} slowest operators, slowest first. */
  public List<Entry> slowest(int n) {
    List<Entry> sorted = new ArrayList<>(entries);
    sorted.sort((a, b) -> Double.compare(b.micros(), a.micros()));
    return List.copyOf(sorted.subList(0, Math.min(n, sorted.size())));
  }

  /** The profile as a fixed-width text table, one operator per line, then the total. */
  public String table() {
    int typeW = "type".length();
    int nameW = "writes".length();
    int fnW = "function".length();
    for (Entry e : entries) {
      typeW = Math.max(typeW, e.type().length());
      nameW = Math.max(nameW, Math.min(40, e.name().length()));
      fnW = Math.max(fnW, Math.min(44, e.function().length()));
    }
    boolean instr = instructionsPerMicrosecond.isPresent();
    StringBuilder sb = new StringBuilder();
    String head = "%4s  %-" + typeW + "s  %-" + nameW + "s  %-" + fnW + "s  %12s  %6s" + (instr ? "  %14s" : "%s") + "%n";
    String row = "%4d  %-" + typeW + "s  %-" + nameW + "s  %-" + fnW + "s  %12.2f  %5.1f%%" + (instr ? "  %14s" : "%s") + "%n";
    sb.append(String.format(Locale.ROOT, head, "op", "type", "writes", "function", "us per run", "share", instr ? "instructions" : ""));
    for (Entry e : entries) {
      sb.append(String.format(Locale.ROOT, row, e.index(), e.type(), cut(e.name(), 40), cut(e.function(), 44), e.micros(),
          e.share() * 100, instr ? String.format(Locale.ROOT, "%,d", e.instructions().orElse(0)) : ""));
    }
    sb.append(String.format(Locale.ROOT, "operators %.2f us of %.2f us per run (%.1f%%); %d round%s of at least %d run%s on %s%n",
        operatorMicros(), totalMicros, totalMicros > 0 ? operatorMicros() / totalMicros * 100 : 0, rounds,
        rounds == 1 ? "" : "s", number, number == 1 ? "" : "s", device));
    return sb.toString();
  }

  private static String cut(String s, int n) { return s.length() <= n ? s : s.substring(0, n - 3) + "..."; }

  @Override public String toString() {
    return model + " (" + executor + ") on " + device + ": per-operator time\n" + table();
  }
}
