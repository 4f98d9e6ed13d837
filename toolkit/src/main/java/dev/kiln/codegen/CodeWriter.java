package dev.kiln.codegen;

/**
 * The only code that writes C text: two-space indentation, no trailing blanks. Kernel emitters and
 * the model writer add whole lines; control flow opens and closes with {@link #begin}/{@link #end}.
 */
public final class CodeWriter {
  private final StringBuilder out = new StringBuilder();
  private int indent;

  /** Adds one line at the current indentation; an empty string adds an empty line. */
  public CodeWriter line(String text) {
    if (text.isEmpty()) {
      out.append('\n');
      return this;
    }
    for (String part : text.split("\n", -1)) {
      if (!part.isEmpty()) out.append("  ".repeat(indent)).append(stripTrailing(part));
      out.append('\n');
    }
    return this;
  }

  /** {@code String.format} then {@link #line}. */
  public CodeWriter linef(String format, Object... args) { return line(String.format(java.util.Locale.ROOT, format, args)); }

  /** Writes {@code header {} and indents. */
  public CodeWriter begin(String header) {
    line(header + " {");
    indent++;
    return this;
  }

  /** Unindents and writes the closing brace (plus an optional suffix such as {@code ;}). */
  public CodeWriter end(String suffix) {
    if (indent == 0) throw new IllegalStateException("cannot unindent below 0");
    indent--;
    line("}" + suffix);
    return this;
  }

  public CodeWriter end() { return end(""); }

  public CodeWriter comment(String text) {
    for (String l : text.split("\n")) line("/* " + l.replace("*/", "* /") + " */");
    return this;
  }

  /** Appends another writer's text at this writer's indentation. */
  public CodeWriter append(CodeWriter other) {
    String text = other.toString();
    if (text.endsWith("\n")) text = text.substring(0, text.length() - 1);
    if (!text.isEmpty()) line(text);
    return this;
  }

  private static String stripTrailing(String s) { return s.stripTrailing(); }

  @Override public String toString() { return out.toString(); }
}
