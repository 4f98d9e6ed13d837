package dev.kiln.kernel.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A cell's text cut into the parts that run in order: Java code and line magics ({@code %name args}
 * alone on a line), or one cell magic ({@code %%name args} on the first line, the rest its body).
 *
 * <p>A {@code %} line inside unfinished Java (a text block, an open parenthesis) stays Java: the
 * caller says, through {@code incomplete}, whether the Java gathered so far is unfinished.
 */
public final class Cell {
  private static final Pattern LINE_MAGIC = Pattern.compile("^[ \\t]*%([A-Za-z][\\w.-]*)(.*)$");
  private static final Pattern CELL_MAGIC = Pattern.compile("^[ \\t]*%%([A-Za-z][\\w.-]*)([^\\n]*)(?:\\n|$)");

  /** One part of a cell; {@code offset} and {@code line} (0-based) locate it in the cell. */
  public sealed interface Part permits Code, LineMagic, CellMagic {
    int offset();
    int line();
  }

  public record Code(String text, int offset, int line) implements Part {}

  public record LineMagic(String name, List<String> args, String rawArgs, int offset, int line) implements Part {}

  public record CellMagic(String name, List<String> args, String body, int offset, int line, int bodyOffset, int bodyLine)
      implements Part {}

  private final String text;
  private final List<Part> parts;

  private Cell(String text, List<Part> parts) {
    this.text = text;
    this.parts = List.copyOf(parts);
  }

  public String text() { return text; }

  public List<Part> parts() { return parts; }

  public static Cell parse(String text, Predicate<String> incomplete) {
    List<Part> parts = new ArrayList<>();
    Matcher cm = CELL_MAGIC.matcher(text);
    if (cm.lookingAt()) {
      String args = cm.group(2).trim();
      parts.add(new CellMagic(cm.group(1), splitArgs(args), text.substring(cm.end()), 0, 0, cm.end(), 1));
      return new Cell(text, parts);
    }
    StringBuilder code = new StringBuilder();
    int codeOffset = 0;
    int codeLine = 0;
    int offset = 0;
    int line = 0;
    while (offset <= text.length()) {
      int nl = text.indexOf('\n', offset);
      int end = nl < 0 ? text.length() : nl + 1;
      String lineText = text.substring(offset, nl < 0 ? text.length() : nl);
      Matcher lm = LINE_MAGIC.matcher(lineText);
      if (lm.matches() && !lineText.stripLeading().startsWith("%%") && !incomplete.test(code.toString())) {
        if (!code.toString().isBlank()) parts.add(new Code(code.toString(), codeOffset, codeLine));
        String raw = lm.group(2).trim();
        parts.add(new LineMagic(lm.group(1), splitArgs(raw), raw, offset, line));
        code.setLength(0);
        codeOffset = end;
        codeLine = line + 1;
      } else {
        code.append(text, offset, end);
      }
      if (nl < 0) break;
      offset = end;
      line++;
    }
    if (!code.toString().isBlank()) parts.add(new Code(code.toString(), codeOffset, codeLine));
    return new Cell(text, parts);
  }

  /** Splits magic arguments on blanks; double quotes group, a backslash escapes the next character. */
  public static List<String> splitArgs(String raw) {
    List<String> args = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    boolean quoted = false;
    boolean any = false;
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '\\' && i + 1 < raw.length()) {
        current.append(raw.charAt(++i));
        any = true;
      } else if (c == '"') {
        quoted = !quoted;
        any = true;
      } else if (Character.isWhitespace(c) && !quoted) {
        if (any) args.add(current.toString());
        current.setLength(0);
        any = false;
      } else {
        current.append(c);
        any = true;
      }
    }
    if (any) args.add(current.toString());
    return args;
  }

  /** 0-based line of {@code offset} in {@code text}. */
  public static int lineOf(String text, int offset) {
    int line = 0;
    for (int i = 0; i < offset && i < text.length(); i++) if (text.charAt(i) == '\n') line++;
    return line;
  }
}
