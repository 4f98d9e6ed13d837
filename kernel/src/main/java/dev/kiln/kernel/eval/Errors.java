package dev.kiln.kernel.eval;

import dev.kiln.api.KilnException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jdk.jshell.DeclarationSnippet;
import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.Snippet;
import jdk.jshell.UnresolvedReferenceException;

/**
 * Turns what went wrong in a cell into a few readable lines: the exception's class and message and
 * the cell line it came from, never JShell's wrapper frames. Kiln's own exceptions are usage
 * errors and show no library frames; anything else shows the non-JDK frames (a bug somewhere).
 */
final class Errors {
  private static final String RED = "\u001b[31m";
  private static final String RESET = "\u001b[0m";
  private static final int MAX_LIBRARY_FRAMES = 12;

  private Errors() {}

  static CellException compileError(JShell shell, Snippet snippet, String source, int count, int cellLine) {
    List<String> lines = new ArrayList<>();
    String first = null;
    List<Diag> diags = shell.diagnostics(snippet).toList();
    for (Diag d : diags) {
      if (!d.isError()) continue;
      String message = cleanMessage(d.getMessage(Locale.ROOT));
      if (first == null) first = message.lines().findFirst().orElse(message);
      long pos = d.getStartPosition() >= 0 ? d.getStartPosition() : d.getPosition();
      long end = d.getEndPosition() >= 0 ? d.getEndPosition() : pos + 1;
      if (pos < 0 || pos > source.length()) {
        lines.add(RED + "CompileError" + RESET + " in " + where(count, cellLine) + ": " + message);
        continue;
      }
      int lineInSnippet = Cell.lineOf(source, (int) pos);
      int lineStart = source.lastIndexOf('\n', (int) pos - 1) + 1;
      int lineEnd = source.indexOf('\n', (int) pos);
      if (lineEnd < 0) lineEnd = source.length();
      String text = source.substring(lineStart, lineEnd);
      int col = (int) pos - lineStart;
      int width = (int) Math.max(1, Math.min(end, lineEnd) - pos);
      lines.add(RED + "CompileError" + RESET + " in " + where(count, cellLine + lineInSnippet) + ": " + message.lines().findFirst().orElse(""));
      message.lines().skip(1).forEach(l -> lines.add("    " + l.strip()));
      lines.add("    " + text);
      lines.add("    " + " ".repeat(Math.max(0, col)) + "^".repeat(width));
    }
    if (first == null) {
      first = "the snippet was rejected";
      lines.add(RED + "CompileError" + RESET + " in " + where(count, cellLine) + ": " + first);
    }
    return new CellException("CompileError", first, lines, null);
  }

  /** javac's "location: class" lines name JShell's wrapper class: drop them. */
  private static String cleanMessage(String message) {
    StringBuilder sb = new StringBuilder();
    for (String line : message.split("\n")) {
      if (line.strip().startsWith("location:")) continue;
      if (sb.length() > 0) sb.append('\n');
      sb.append(line);
    }
    return sb.toString();
  }

  static CellException runtimeError(JShellException shellException, Throwable real, Map<String, JShellEvaluator.Origin> origins) {
    if (shellException instanceof UnresolvedReferenceException ure) {
      DeclarationSnippet s = ure.getSnippet();
      String message = describe(s) + " cannot be used yet: it refers to something not declared";
      List<String> lines = new ArrayList<>();
      lines.add(RED + "UnresolvedReference" + RESET + ": " + message);
      addFrames(lines, ure.getStackTrace(), origins, false);
      return new CellException("UnresolvedReference", message, lines, null);
    }
    String className = real != null ? real.getClass().getName()
        : shellException instanceof EvalException ee ? ee.getExceptionClassName() : shellException.getClass().getName();
    String ename = simpleName(className);
    String message = real != null ? real.getMessage() : shellException.getMessage();
    if (message == null) message = "";
    List<String> lines = new ArrayList<>();
    List<String> messageLines = message.lines().toList();
    lines.add(RED + ename + RESET + (messageLines.isEmpty() ? "" : ": " + messageLines.get(0)));
    for (int i = 1; i < messageLines.size(); i++) lines.add(messageLines.get(i));
    boolean usageError = real instanceof KilnException;
    addFrames(lines, shellException.getStackTrace(), origins, !usageError);
    Throwable cause = real != null ? real.getCause() : null;
    int depth = 0;
    while (cause != null && depth++ < 5) {
      lines.add("Caused by: " + cause.getClass().getName() + (cause.getMessage() != null ? ": " + cause.getMessage() : ""));
      if (!usageError) addLibraryFrames(lines, cause.getStackTrace(), 3);
      cause = cause.getCause();
    }
    return new CellException(ename, message, lines, real);
  }

  private static void addFrames(List<String> lines, StackTraceElement[] frames, Map<String, JShellEvaluator.Origin> origins,
      boolean libraryFrames) {
    int hidden = 0;
    int shown = 0;
    for (StackTraceElement f : frames) {
      String file = f.getFileName();
      if (file != null && file.startsWith("#")) {
        if (hidden > 0 && libraryFrames) lines.add("    ... " + hidden + " more");
        hidden = 0;
        lines.add("  at " + snippetFrame(f, origins.get(file.substring(1))));
      } else if (libraryFrames && !isJdk(f.getClassName()) && shown < MAX_LIBRARY_FRAMES) {
        if (hidden > 0 && shown > 0) lines.add("    ... " + hidden + " more");
        hidden = 0;
        lines.add("  at " + f);
        shown++;
      } else {
        hidden++;
      }
    }
  }

  private static void addLibraryFrames(List<String> lines, StackTraceElement[] frames, int max) {
    int shown = 0;
    for (StackTraceElement f : frames) {
      if (shown >= max) break;
      if (isJdk(f.getClassName()) || f.getClassName().startsWith("REPL.")) continue;
      lines.add("    at " + f);
      shown++;
    }
  }

  private static String snippetFrame(StackTraceElement f, JShellEvaluator.Origin origin) {
    String method = f.getMethodName() == null || f.getMethodName().isEmpty() ? "" : f.getMethodName() + "(), ";
    if (origin == null) return method + "snippet " + f.getFileName() + " line " + f.getLineNumber();
    int lineInSnippet = Math.max(1, f.getLineNumber());
    String[] source = origin.source().split("\n", -1);
    String text = lineInSnippet <= source.length ? source[lineInSnippet - 1].strip() : "";
    return method + where(origin.executionCount(), origin.cellLine() + lineInSnippet - 1) + (text.isEmpty() ? "" : ": " + text);
  }

  private static boolean isJdk(String className) {
    return className.startsWith("java.") || className.startsWith("javax.") || className.startsWith("jdk.")
        || className.startsWith("sun.") || className.startsWith("com.sun.") || className.startsWith("dev.kiln.kernel.eval.");
  }

  static CellException interrupted(int count, int line, Throwable cause) {
    String at = line >= 0 ? where(count, line) : "In [" + count + "]";
    String why = cause == null || cause instanceof InterruptedException || cause instanceof ThreadDeath ? ""
        : " (" + cause.getClass().getSimpleName() + (cause.getMessage() != null ? ": " + cause.getMessage() : "") + ")";
    String message = "the cell was interrupted" + why;
    return new CellException("Interrupted", message, List.of(RED + "Interrupted" + RESET + ": stopped in " + at + why), cause);
  }

  static CellException magicFailed(String magic, Exception e, int count, int line) {
    String ename = e.getClass().getSimpleName();
    String message = e.getMessage() == null ? "" : e.getMessage();
    List<String> lines = new ArrayList<>();
    lines.add(RED + ename + RESET + ": " + message);
    lines.add("  at " + where(count, line) + ": " + magic);
    return new CellException(ename, message, lines, e);
  }

  static String unresolvedNote(JShell shell, Snippet snippet) {
    if (!(snippet instanceof DeclarationSnippet d)) return "note: " + snippet.source().strip() + " is not usable yet";
    List<String> missing = shell.unresolvedDependencies(d).toList();
    return "note: " + describe(d) + " is declared but cannot be used until " + String.join(", ", missing) + " "
        + (missing.size() == 1 ? "is" : "are") + " declared";
  }

  private static String describe(DeclarationSnippet s) {
    return switch (s.kind()) {
      case METHOD -> "method " + s.name() + "()";
      case VAR -> "variable " + s.name();
      case TYPE_DECL -> "type " + s.name();
      default -> s.name();
    };
  }

  static String where(int count, int zeroBasedLine) {
    return "In [" + count + "] line " + (zeroBasedLine + 1);
  }

  private static String simpleName(String className) {
    int dot = className.lastIndexOf('.');
    String s = dot < 0 ? className : className.substring(dot + 1);
    int dollar = s.lastIndexOf('$');
    return dollar < 0 ? s : s.substring(dollar + 1);
  }
}
