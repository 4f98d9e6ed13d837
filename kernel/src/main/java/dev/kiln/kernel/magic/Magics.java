package dev.kiln.kernel.magic;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The magics a cell may use: line magics ({@code %name args}) and cell magics ({@code %%name args}
 * then a body). Each is a plain function; the classes in this package make them from small objects
 * that receive their effect (adding to the class path, running a body) as callbacks.
 */
public final class Magics {
  /** A line magic: runs with the words after its name. Output goes to {@code System.out}. */
  @FunctionalInterface
  public interface Line {
    void run(List<String> args) throws Exception;
  }

  /** Runs a cell magic's body as Java and returns its value (null when it has none). */
  @FunctionalInterface
  public interface Body {
    Object run() throws Exception;
  }

  /** A cell magic: gets its arguments, its body's text and a way to run that body. */
  @FunctionalInterface
  public interface Cell {
    Object run(List<String> args, String body, Body runBody) throws Exception;
  }

  /** Runs Java text in the session, as a cell would; returns its last value (null when none). */
  @FunctionalInterface
  public interface Java {
    Object run(String code) throws Exception;
  }

  /**
   * A line magic whose effect is Java it runs in the session ({@code %time EXPR}, {@code %load FILE}):
   * gets its arguments, the raw text after its name and a way to run Java; returns the value the
   * cell shows (null for none).
   */
  @FunctionalInterface
  public interface CodeLine {
    Object run(List<String> args, String rawArgs, Java java) throws Exception;
  }

  /** A magic name that is not registered; the message lists the registered ones. */
  public static final class UnknownMagicException extends IllegalArgumentException {
    public UnknownMagicException(String message) { super(message); }
  }

  private final Map<String, Line> lineMagics = new TreeMap<>();
  private final Map<String, Cell> cellMagics = new TreeMap<>();
  private final Map<String, CodeLine> codeLineMagics = new TreeMap<>();
  private final Map<String, String> help = new TreeMap<>();

  public Magics line(String name, String usage, Line magic) {
    lineMagics.put(name, magic);
    help.put("%" + name, usage);
    return this;
  }

  public Magics codeLine(String name, String usage, CodeLine magic) {
    codeLineMagics.put(name, magic);
    help.put("%" + name, usage);
    return this;
  }

  /** True when {@code %name} runs Java ({@link #codeLine}). */
  public boolean isCodeLine(String name) { return codeLineMagics.containsKey(name); }

  public Object runCodeLine(String name, List<String> args, String rawArgs, Java java) throws Exception {
    CodeLine magic = codeLineMagics.get(name);
    if (magic == null) throw new UnknownMagicException("no line magic %" + name);
    return magic.run(args, rawArgs, java);
  }

  public Magics cell(String name, String usage, Cell magic) {
    cellMagics.put(name, magic);
    help.put("%%" + name, usage);
    return this;
  }

  public void runLine(String name, List<String> args) throws Exception {
    Line magic = lineMagics.get(name);
    if (magic == null) {
      java.util.Set<String> all = new java.util.TreeSet<>(lineMagics.keySet());
      all.addAll(codeLineMagics.keySet());
      throw new UnknownMagicException("no line magic %" + name + "; line magics: " + names(all, "%")
          + (cellMagics.containsKey(name) ? " (%%" + name + " is a cell magic: put it on the cell's first line)" : ""));
    }
    magic.run(args);
  }

  public Object runCell(String name, List<String> args, String body, Body runBody) throws Exception {
    Cell magic = cellMagics.get(name);
    if (magic == null) {
      throw new UnknownMagicException("no cell magic %%" + name + "; cell magics: " + names(cellMagics.keySet(), "%%"));
    }
    return magic.run(args, body, runBody);
  }

  /** Every name with its prefix ({@code %jars}, {@code %%time}), sorted. */
  public List<String> allNames() {
    TreeSet<String> names = new TreeSet<>();
    lineMagics.keySet().forEach(n -> names.add("%" + n));
    codeLineMagics.keySet().forEach(n -> names.add("%" + n));
    cellMagics.keySet().forEach(n -> names.add("%%" + n));
    return List.copyOf(names);
  }

  /** The usage line of {@code %name} or {@code %%name}; "" when unknown. */
  public String usageOf(String prefixedName) {
    return help.getOrDefault(prefixedName, "");
  }

  /** One line per magic: name and usage. */
  public String usage() {
    StringBuilder sb = new StringBuilder();
    help.forEach((name, usage) -> sb.append(String.format("%-14s %s%n", name, usage)));
    return sb.toString();
  }

  private static String names(java.util.Set<String> names, String prefix) {
    if (names.isEmpty()) return "(none)";
    StringBuilder sb = new StringBuilder();
    for (String n : names) sb.append(sb.length() == 0 ? "" : ", ").append(prefix).append(n);
    return sb.toString();
  }
}
