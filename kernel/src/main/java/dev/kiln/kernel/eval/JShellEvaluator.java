package dev.kiln.kernel.eval;

import dev.kiln.kernel.magic.Magics;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import jdk.jshell.Diag;
import jdk.jshell.JShell;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.SourceCodeAnalysis.CompletionInfo;
import jdk.jshell.SourceCodeAnalysis.Completeness;
import jdk.jshell.VarSnippet;

/**
 * Java cells evaluated by JShell in this JVM: cut into magics and snippets, each snippet evaluated
 * in order, the last one's value returned as the real object. Also completion, inspection and
 * "is this complete?" through JShell's source analysis.
 *
 * <p>One cell at a time (a lock); {@link #interrupt()} is the only method meant to be called while
 * a cell runs, from another thread.
 */
public final class JShellEvaluator implements AutoCloseable {
  /** What every session starts with. */
  public static final List<String> DEFAULT_IMPORTS = List.of(
      "import dev.kiln.api.*;",
      "import java.util.*;",
      "import java.nio.file.*;",
      "import dev.kiln.kernel.KernelInterrupts;",
      "import dev.kiln.kernel.display.*;",
      "import dev.kiln.kernel.render.Show;",
      "import static dev.kiln.kernel.display.Display.display;",
      "import static dev.kiln.kernel.display.Display.updateDisplay;");

  /** A cell's value: {@code present} is false for statements and declarations without one. */
  public record Result(boolean present, Object value) {
    static final Result NONE = new Result(false, null);
  }

  /** Where a snippet came from, to turn "#12:3" frames back into cell lines. */
  record Origin(int executionCount, int cellLine, String source) {}

  private final Magics magics;
  private final long interruptGraceMillis;
  private final ReentrantLock lock = new ReentrantLock();
  private final Map<String, Origin> origins = new ConcurrentHashMap<>();
  private final CellInterrupts interrupts = CellInterrupts.instance();
  private final SourceDocs docs = new SourceDocs(this::qualifiedName);
  private volatile InProcessExecutionControl control;
  private JShell shell;
  private SourceCodeAnalysis analysis;

  public JShellEvaluator(Magics magics, long interruptGraceMillis) {
    this.magics = magics;
    this.interruptGraceMillis = interruptGraceMillis;
  }

  /**
   * Builds JShell, evaluates the default imports and warms javac up (a throwaway snippet, a
   * completion). Slow (about a second cold); the kernel calls it in the background at start.
   */
  public void start() {
    lock.lock();
    try {
      if (shell != null) return;
      control = new InProcessExecutionControl(interruptGraceMillis);
      shell = JShell.builder()
          .executionEngine(InProcessExecutionControl.providerFor(control), Map.of())
          .out(delegatingOut(false))
          .err(delegatingOut(true))
          .in(new InputStream() {
            @Override public int read() throws java.io.IOException { return System.in.read(); }

            @Override public int read(byte[] b, int off, int len) throws java.io.IOException {
              return System.in.read(b, off, len);
            }
          })
          .build();
      analysis = shell.sourceCodeAnalysis();
      for (String imp : DEFAULT_IMPORTS) {
        for (SnippetEvent e : shell.eval(imp)) {
          if (e.status() == Snippet.Status.REJECTED) {
            throw new IllegalStateException("default import failed: " + imp + ": " + diagnostics(e.snippet()));
          }
        }
      }
      // Warm-up: the first javac run and the first analysis cost most of a second.
      List<SnippetEvent> warm = shell.eval("var kilnWarmUp$ = dev.kiln.api.Kiln.class.getName().length() + List.of(1).size();");
      for (SnippetEvent e : warm) if (e.causeSnippet() == null) shell.drop(e.snippet());
      analysis.analyzeCompletion("int x = 1;");
      analysis.completionSuggestions("Kiln.lo", 7, new int[1]);
    } finally {
      lock.unlock();
    }
  }

  private static PrintStream delegatingOut(boolean err) {
    return new PrintStream(new java.io.OutputStream() {
      @Override public void write(int b) { (err ? System.err : System.out).write(b); }

      @Override public void write(byte[] b, int off, int len) { (err ? System.err : System.out).write(b, off, len); }

      @Override public void flush() { (err ? System.err : System.out).flush(); }
    }, true);
  }

  /** Adds a jar or class folder for both compiling and running later snippets. */
  public void addToClasspath(Path path) {
    lock.lock();
    try {
      start();
      shell.addToClasspath(path.toAbsolutePath().toString());
    } finally {
      lock.unlock();
    }
  }

  /**
   * Runs a cell. {@code executionCount} names it in error messages ({@code In [3] line 2}).
   *
   * @throws CellException for compile errors, exceptions, interrupts and failed magics
   */
  public Result eval(String code, int executionCount) throws CellException {
    lock.lock();
    interrupts.beginCell();
    try {
      start();
      control.resetCell();
      Cell cell = Cell.parse(code, this::isUnfinishedJava);
      Result last = Result.NONE;
      for (Cell.Part part : cell.parts()) {
        checkInterrupted(executionCount, part.line(), null);
        if (part instanceof Cell.Code c) {
          last = evalCode(c.text(), c.offset(), c.line(), executionCount);
        } else if (part instanceof Cell.LineMagic m && magics.isCodeLine(m.name())) {
          Object[] javaValue = {null};
          boolean[] javaHasValue = {false};
          int rawOffset = m.offset() + Math.max(0, code.indexOf(m.rawArgs(), m.offset()) - m.offset());
          Object value = runMagic(() -> magics.runCodeLine(m.name(), m.args(), m.rawArgs(), java -> {
            Result r = evalCode(java, rawOffset, m.line(), executionCount);
            javaHasValue[0] = r.present();
            javaValue[0] = r.value();
            return r.value();
          }), "%" + m.name(), executionCount, m.line());
          last = value != null ? new Result(true, value) : javaHasValue[0] ? new Result(true, javaValue[0]) : Result.NONE;
        } else if (part instanceof Cell.LineMagic m) {
          runMagic(() -> { magics.runLine(m.name(), m.args()); return null; }, "%" + m.name(), executionCount, m.line());
          last = Result.NONE;
        } else if (part instanceof Cell.CellMagic m) {
          Object[] bodyValue = {null};
          boolean[] bodyHasValue = {false};
          Object value = runMagic(() -> magics.runCell(m.name(), m.args(), m.body(), () -> {
            Result r = evalCode(m.body(), m.bodyOffset(), m.bodyLine(), executionCount);
            bodyHasValue[0] = r.present();
            bodyValue[0] = r.value();
            return r.value();
          }), "%%" + m.name(), executionCount, m.line());
          last = value != null ? new Result(true, value) : bodyHasValue[0] ? new Result(true, bodyValue[0]) : Result.NONE;
        }
      }
      checkInterrupted(executionCount, -1, null);
      return last;
    } finally {
      interrupts.endCell();
      lock.unlock();
    }
  }

  private interface MagicCall {
    Object call() throws Exception;
  }

  private Object runMagic(MagicCall call, String name, int count, int line) throws CellException {
    try {
      return call.call();
    } catch (CellException e) {
      throw e;
    } catch (Exception e) {
      checkInterrupted(count, line, e);
      throw Errors.magicFailed(name, e, count, line);
    }
  }

  private void checkInterrupted(int count, int line, Throwable cause) throws CellException {
    if (interrupts.requested() || control.stopRequested()) throw Errors.interrupted(count, line, cause);
  }

  /** Evaluates Java text snippet by snippet; returns the last snippet's value. */
  private Result evalCode(String code, int cellOffset, int cellLine, int count) throws CellException {
    Result last = Result.NONE;
    String rest = code;
    int consumed = 0;
    while (!rest.isBlank()) {
      CompletionInfo info = analysis.analyzeCompletion(rest);
      String source;
      int used;
      if (info.completeness() == Completeness.EMPTY) break;
      if (info.completeness().isComplete()) {
        source = info.source();
        used = rest.length() - info.remaining().length();
      } else {
        // Unfinished or invalid: let javac say what is wrong with all of it.
        source = rest;
        used = rest.length();
      }
      // JShell keeps leading blank lines and comments in the snippet's source, so its line 1 is
      // the line where `rest` starts.
      int snippetLine = cellLine + Cell.lineOf(code, consumed);
      last = evalSnippet(source, snippetLine, count);
      consumed += used;
      rest = rest.substring(used);
    }
    return last;
  }

  /**
   * Evaluates one snippet. {@code restLine} is the cell line where {@code source} starts; javac's
   * positions count from there, while JShell's stack frames count from the first non-blank line.
   */
  private Result evalSnippet(String source, int restLine, int count) throws CellException {
    int blank = 0;
    while (blank < source.length() && Character.isWhitespace(source.charAt(blank))) blank++;
    int blankLines = Cell.lineOf(source, blank);
    int cellLine = restLine + blankLines;
    String code = source.substring(source.lastIndexOf('\n', Math.max(0, blank - 1)) + 1);
    control.resetSnippet();
    List<SnippetEvent> events = shell.eval(source);
    Result result = Result.NONE;
    for (SnippetEvent event : events) {
      if (event.causeSnippet() != null) continue;
      Snippet snippet = event.snippet();
      origins.put(snippet.id(), new Origin(count, cellLine, code));
      if (event.status() == Snippet.Status.REJECTED) {
        throw Errors.compileError(shell, snippet, source, count, restLine);
      }
      if (event.exception() != null) {
        checkInterrupted(count, cellLine, control.lastThrowable());
        throw Errors.runtimeError(event.exception(), control.lastThrowable(), origins);
      }
      checkInterrupted(count, cellLine, null);
      if (event.status() == Snippet.Status.RECOVERABLE_DEFINED || event.status() == Snippet.Status.RECOVERABLE_NOT_DEFINED) {
        System.err.println(Errors.unresolvedNote(shell, snippet));
      }
      if (hasValue(snippet) && event.value() != null) {
        result = new Result(control.lastValue() != null, control.lastValue());
      }
    }
    return result;
  }

  private static boolean hasValue(Snippet snippet) {
    return switch (snippet.subKind()) {
      case VAR_DECLARATION_WITH_INITIALIZER_SUBKIND, TEMP_VAR_EXPRESSION_SUBKIND, VAR_VALUE_SUBKIND, OTHER_EXPRESSION_SUBKIND -> true;
      default -> false;
    };
  }

  /** True when {@code code} ends inside an unfinished snippet (an open brace, a text block...). */
  private boolean isUnfinishedJava(String code) {
    String rest = code;
    while (!rest.isBlank()) {
      CompletionInfo info = analysis.analyzeCompletion(rest);
      switch (info.completeness()) {
        case EMPTY: return false;
        case COMPLETE: case COMPLETE_WITH_SEMI: rest = info.remaining(); break;
        case DEFINITELY_INCOMPLETE: return true;
        default: return false; // considered incomplete or unknown: javac will report it as Java
      }
    }
    return false;
  }

  /** Stops the running cell (see {@link dev.kiln.kernel.KernelInterrupts}); safe from any thread. */
  public void interrupt() {
    if (!interrupts.fire()) return;
    InProcessExecutionControl c = control;
    if (c != null) c.interruptRunning();
  }

  // ---------------------------------------------------------------- completion and inspection

  /** One completion: the text inserted, its kind ({@code method}, {@code class}, ...) and its signature ("" when none). */
  public record Match(String text, String type, String signature) {}

  /** Completion matches and the range they replace; {@code details} has one entry per match. */
  public record Completion(List<String> matches, int start, int end, List<Match> details) {
    public Completion(List<String> matches, int start, int end) {
      this(matches, start, end, matches.stream().map(m -> new Match(m, "", "")).toList());
    }
  }

  private static final int SIGNED = 50;

  /** {@code java.lang.Object}'s methods, offered only where the value's class declares its own. */
  private static final Set<String> OBJECT_METHODS = Set.of("getClass()", "hashCode()", "equals(", "toString()", "notify()",
      "notifyAll()", "wait(");

  /**
   * What may follow the cursor: JShell's suggestions (type-matching first), without
   * {@code Object}'s methods unless the value's class overrides them ({@code Tensor.equals} stays,
   * {@code wait} goes), each with its kind and signature; none inside a string or char literal or a
   * comment.
   */
  public Completion complete(String code, int cursor) {
    lock.lock();
    try {
      start();
      Located at = locate(code, cursor);
      if (at.magicLine) {
        String prefix = code.substring(at.start, cursor).trim();
        List<String> names = new ArrayList<>();
        for (String n : magics.allNames()) if (n.startsWith(prefix)) names.add(n);
        int start = code.lastIndexOf('%', cursor - 1);
        if (start > 0 && code.charAt(start - 1) == '%') start--;
        return new Completion(names, Math.max(start, at.start), cursor,
            names.stream().map(n -> new Match(n, "magic", n + " " + magics.usageOf(n))).toList());
      }
      int local = cursor - at.start;
      if (insideLiteralOrComment(at.snippet, local)) return new Completion(List.of(), cursor, cursor, List.of());
      int[] anchor = new int[1];
      List<SourceCodeAnalysis.Suggestion> suggestions = analysis.completionSuggestions(at.snippet, local, anchor);
      Set<String> matches = new LinkedHashSet<>();
      for (SourceCodeAnalysis.Suggestion s : suggestions) if (s.matchesType()) matches.add(s.continuation());
      for (SourceCodeAnalysis.Suggestion s : suggestions) matches.add(s.continuation());
      String before = at.snippet.substring(0, anchor[0]);
      List<String> kept = new ArrayList<>();
      List<Match> details = new ArrayList<>();
      for (String m : matches) {
        // signatures cost a JShell analysis each: the first SIGNED matches (what a completer shows) and Object's methods get them
        List<String> signatures = kept.size() < SIGNED || OBJECT_METHODS.contains(m) ? signatures(before, m) : List.of();
        if (OBJECT_METHODS.contains(m)) {
          String name = m.replace("(", "").replace(")", "");
          boolean onlyObjects = signatures.stream().allMatch(sig -> sig.matches("(?s)(.*[ .])?(java\\.lang\\.)?Object\\." + name + "\\(.*"));
          if (onlyObjects) continue; // JShell documents signatures with simple class names: "void Object.wait()"
        }
        kept.add(m);
        details.add(new Match(m, kind(m, signatures), String.join("\n", signatures)));
      }
      return new Completion(List.copyOf(kept), at.start + anchor[0], cursor, List.copyOf(details));
    } finally {
      lock.unlock();
    }
  }

  /** The signatures JShell documents for {@code before + match} (a method: every overload). */
  private List<String> signatures(String before, String match) {
    String probe = before + match;
    if (match.endsWith("()")) probe = before + match.substring(0, match.length() - 1);
    try {
      List<String> out = new ArrayList<>();
      for (SourceCodeAnalysis.Documentation d : analysis.documentation(probe, probe.length(), false)) {
        if (!out.contains(d.signature())) out.add(d.signature());
      }
      return out;
    } catch (RuntimeException e) {
      return List.of(); // JShell's analysis can fail on odd input; a match without a signature is still a match
    }
  }

  /** Jupyter's completion kinds: method, class, variable, package, keyword. */
  private static String kind(String match, List<String> signatures) {
    if (match.endsWith("(") || match.endsWith("()")) return "method";
    if (signatures.isEmpty()) return match.endsWith(".") ? "package" : "variable";
    String sig = signatures.get(0);
    return sig.indexOf('(') < 0 && !sig.contains(" ") ? "class" : "variable";
  }

  /**
   * True when {@code pos} in {@code snippet} is inside a string, text block or char literal, or a
   * comment, where identifiers are text and no completion applies.
   */
  static boolean insideLiteralOrComment(String snippet, int pos) {
    int i = 0;
    int end = Math.min(pos, snippet.length());
    while (i < end) {
      char c = snippet.charAt(i);
      if (snippet.startsWith("\"\"\"", i)) {
        int close = snippet.indexOf("\"\"\"", i + 3);
        if (close < 0 || close >= end) return true;
        i = close + 3;
      } else if (c == '"' || c == '\'') {
        int j = i + 1;
        while (j < snippet.length() && snippet.charAt(j) != c && snippet.charAt(j) != '\n') j += snippet.charAt(j) == '\\' ? 2 : 1;
        if (j >= end) return true;
        i = j + 1;
      } else if (snippet.startsWith("//", i)) {
        int nl = snippet.indexOf('\n', i);
        if (nl < 0 || nl >= end) return true;
        i = nl + 1;
      } else if (snippet.startsWith("/*", i)) {
        int close = snippet.indexOf("*/", i + 2);
        if (close < 0 || close + 2 > end) return true;
        i = close + 2;
      } else {
        i++;
      }
    }
    return false;
  }

  /**
   * Text for the name at {@code cursor}: its signatures (all overloads) with the first sentence
   * of its javadoc when the source is bundled (the Kiln API's is); for a class, its public
   * methods. Empty when nothing is known there.
   */
  public Optional<String> inspect(String code, int cursor, boolean detail) {
    lock.lock();
    try {
      start();
      Located at = locate(code, cursor);
      if (at.magicLine) {
        return Optional.of(magics.usage());
      }
      String snippet = at.snippet;
      int pos = identifierEnd(snippet, cursor - at.start);
      List<SourceCodeAnalysis.Documentation> found = analysis.documentation(snippet, pos, true);
      if (found.isEmpty() && pos < snippet.length() && snippet.charAt(pos) == '(') {
        found = analysis.documentation(snippet, pos + 1, true);
      }
      if (found.isEmpty() && pos > 0 && Character.isJavaIdentifierPart(snippet.charAt(pos - 1))) {
        // a bare method name (Kiln.load|): JShell documents a call, so ask as if the call were opened
        String call = snippet.substring(0, pos) + "(";
        found = analysis.documentation(call, call.length(), true);
      }
      if (found.isEmpty()) {
        // A variable: JShell documents the method/type at the cursor, not variables. Say its type.
        String name = identifierAt(snippet, pos);
        for (VarSnippet v : (Iterable<VarSnippet>) shell.variables()::iterator) {
          if (v.name().equals(name) && shell.status(v).isActive()) {
            String type = v.typeName();
            return Optional.of(name + " : " + type + docs.describeType(type, detail).map(s -> "\n\n" + s).orElse(""));
          }
        }
        return Optional.empty();
      }
      StringBuilder sb = new StringBuilder();
      Set<String> seen = new LinkedHashSet<>();
      for (SourceCodeAnalysis.Documentation d : found) {
        if (!seen.add(d.signature())) continue;
        if (sb.length() > 0) sb.append("\n\n");
        sb.append(docs.describe(d.signature(), d.javadoc(), detail));
      }
      return Optional.of(sb.toString());
    } finally {
      lock.unlock();
    }
  }

  /** "Kiln" to "dev.kiln.api.Kiln", as the cell's imports resolve it; null when unknown. */
  private String qualifiedName(String simpleName) {
    for (SourceCodeAnalysis.Documentation d : analysis.documentation(simpleName, simpleName.length(), false)) {
      if (d.signature().indexOf('(') < 0) return d.signature().strip();
    }
    return null;
  }

  private static int identifierEnd(String s, int pos) {
    int i = Math.min(pos, s.length());
    while (i < s.length() && Character.isJavaIdentifierPart(s.charAt(i))) i++;
    return i;
  }

  private static String identifierAt(String s, int end) {
    int i = end;
    while (i > 0 && Character.isJavaIdentifierPart(s.charAt(i - 1))) i--;
    return s.substring(i, end);
  }

  /** The snippet (or magic line) holding the cursor, and where it starts in the cell. */
  private static final class Located {
    String snippet;
    int start;
    boolean magicLine;
  }

  private Located locate(String code, int cursor) {
    cursor = Math.max(0, Math.min(cursor, code.length()));
    Cell cell = Cell.parse(code, this::isUnfinishedJava);
    Located at = new Located();
    at.snippet = "";
    at.start = cursor;
    for (Cell.Part part : cell.parts()) {
      if (part instanceof Cell.LineMagic m) {
        int end = code.indexOf('\n', m.offset());
        if (end < 0) end = code.length();
        if (cursor >= m.offset() && cursor <= end) {
          at.magicLine = true;
          at.start = m.offset();
          at.snippet = code.substring(m.offset(), end);
          return at;
        }
      } else if (part instanceof Cell.CellMagic m) {
        if (cursor < m.bodyOffset()) {
          at.magicLine = true;
          at.start = 0;
          at.snippet = code.substring(0, m.bodyOffset());
          return at;
        }
        return locateInCode(m.body(), m.bodyOffset(), cursor, at);
      } else if (part instanceof Cell.Code c) {
        if (cursor >= c.offset() && cursor <= c.offset() + c.text().length()) {
          return locateInCode(c.text(), c.offset(), cursor, at);
        }
      }
    }
    return at;
  }

  private Located locateInCode(String text, int textOffset, int cursor, Located at) {
    int local = cursor - textOffset;
    int consumed = 0;
    String rest = text;
    while (!rest.isBlank()) {
      CompletionInfo info = analysis.analyzeCompletion(rest);
      int used = info.completeness().isComplete() && info.completeness() != Completeness.EMPTY
          ? rest.length() - info.remaining().length() : rest.length();
      if (info.completeness() == Completeness.EMPTY) break;
      if (local <= consumed + used || used == rest.length()) {
        at.start = textOffset + consumed;
        at.snippet = text.substring(consumed, consumed + used);
        return at;
      }
      consumed += used;
      rest = rest.substring(used);
    }
    at.start = textOffset + consumed;
    at.snippet = text.substring(consumed);
    return at;
  }

  /** {@code complete}, {@code incomplete} (with the next line's indent) or {@code invalid}. */
  public record IsComplete(String status, String indent) {}

  public IsComplete isComplete(String code) {
    lock.lock();
    try {
      start();
      Cell cell = Cell.parse(code, this::isUnfinishedJava);
      for (Cell.Part part : cell.parts()) {
        String java;
        if (part instanceof Cell.Code c) java = c.text();
        else if (part instanceof Cell.CellMagic m) java = m.body();
        else continue;
        String rest = java;
        while (!rest.isBlank()) {
          CompletionInfo info = analysis.analyzeCompletion(rest);
          switch (info.completeness()) {
            case EMPTY:
              rest = "";
              break;
            case COMPLETE:
            case COMPLETE_WITH_SEMI:
              rest = info.remaining();
              break;
            case DEFINITELY_INCOMPLETE:
            case CONSIDERED_INCOMPLETE:
              return new IsComplete("incomplete", nextIndent(code));
            default:
              return new IsComplete("invalid", "");
          }
        }
      }
      return new IsComplete("complete", "");
    } finally {
      lock.unlock();
    }
  }

  private static String nextIndent(String code) {
    int lineStart = code.lastIndexOf('\n') + 1;
    String lastLine = code.substring(lineStart);
    int i = 0;
    while (i < lastLine.length() && (lastLine.charAt(i) == ' ' || lastLine.charAt(i) == '\t')) i++;
    String indent = lastLine.substring(0, i);
    String trimmed = lastLine.strip();
    if (trimmed.endsWith("{") || trimmed.endsWith("(") || trimmed.endsWith("[")) indent += "    ";
    return indent;
  }

  /** Names JShell has defined so far (variables, methods, types), for tests and tooling. */
  public List<String> definedNames() {
    lock.lock();
    try {
      start();
      List<String> names = new ArrayList<>();
      shell.variables().forEach(v -> names.add(v.name()));
      shell.methods().forEach(m -> names.add(m.name()));
      shell.types().forEach(t -> names.add(t.name()));
      return names;
    } finally {
      lock.unlock();
    }
  }

  private String diagnostics(Snippet snippet) {
    StringBuilder sb = new StringBuilder();
    shell.diagnostics(snippet).forEach((Diag d) -> sb.append(d.getMessage(null)).append("; "));
    return sb.toString();
  }

  @Override
  public void close() {
    lock.lock();
    try {
      if (shell != null) shell.close();
      shell = null;
    } finally {
      lock.unlock();
    }
  }
}
