package dev.kiln.kernel.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.api.Model;
import dev.kiln.kernel.magic.ClasspathMagics;
import dev.kiln.kernel.magic.Magics;
import dev.kiln.kernel.magic.TimeMagic;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The evaluator as a notebook uses it, without the Jupyter protocol: one JShell for all tests. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JShellEvaluatorTest {
  private static final long GRACE_MS = 1500;
  private final AtomicInteger count = new AtomicInteger(1);
  private JShellEvaluator evaluator;
  @TempDir Path temp;

  @BeforeAll
  void startJShell() {
    Magics magics = new Magics();
    evaluator = new JShellEvaluator(magics, GRACE_MS);
    new ClasspathMagics(p -> evaluator.addToClasspath(p), Path.of("").toAbsolutePath()).register(magics);
    TimeMagic.register(magics);
    evaluator.start();
  }

  @AfterAll
  void stop() { evaluator.close(); }

  private Object value(String code) throws CellException {
    JShellEvaluator.Result r = evaluator.eval(code, count.getAndIncrement());
    assertTrue(r.present(), "no value for: " + code);
    return r.value();
  }

  private CellException failure(String code, int executionCount) {
    return assertThrows(CellException.class, () -> evaluator.eval(code, executionCount));
  }

  @Test
  void anExpressionGivesTheRealObjectNotItsString() throws Exception {
    Object v = value("new StringBuilder(\"ab\").append(1)");
    assertInstanceOf(StringBuilder.class, v);
    assertEquals("ab1", v.toString());
  }

  @Test
  void aVariableWithAnInitializerShowsItsValue() throws Exception {
    assertEquals(List.of(1, 2), value("var twoNumbers = List.of(1, 2);"));
  }

  @Test
  void statementsAndDeclarationsWithoutValueShowNothing() throws Exception {
    assertFalse(evaluator.eval("int declaredOnly;", 1).present());
    assertFalse(evaluator.eval("System.out.print(\"\");", 1).present());
    assertFalse(evaluator.eval("void helper() {}", 1).present());
  }

  @Test
  void theKilnApiAndJavaUtilAndNioFileAreImported() throws Exception {
    assertEquals("dev.kiln.api.Kiln", ((Class<?>) value("Kiln.class")).getName());
    assertEquals(Path.of("a", "b"), value("Path.of(\"a\", \"b\")"));
    assertInstanceOf(java.util.ArrayList.class, value("new ArrayList<String>()"));
  }

  @Test
  void kilnLoadReturnsAModelObject() throws Exception {
    Path model = Path.of(System.getProperty("kiln.shared", "../../shared"), "models/digits_cnn_int8/digits_cnn_int8.tflite");
    assumeTrue(Files.exists(model), "shared model not found: " + model);
    Object m = value("var model = Kiln.load(\"" + model.toAbsolutePath() + "\");");
    assertInstanceOf(Model.class, m);
  }

  @Test
  void aCellRunsItsSnippetsInOrderAndShowsTheLastValue() throws Exception {
    assertEquals(6, value("int a1 = 1;\nint a2 = a1 + 2;\n\n// the sum\na1 + a2 + 2"));
  }

  @Test
  void aCompileErrorNamesTheCellLineAndUnderlinesTheCode() {
    CellException e = failure("int okay = 1;\nint wrong = \"text\";", 7);
    assertEquals("CompileError", e.ename());
    assertEquals("incompatible types: java.lang.String cannot be converted to int", e.evalue());
    String tb = String.join("\n", e.traceback());
    assertTrue(tb.contains("In [7] line 2: incompatible types"), tb);
    assertTrue(tb.contains("    int wrong = \"text\";\n                ^^^^^^"), tb);
  }

  @Test
  void anUnknownNameSaysWhichSymbolAndNotJShellsWrapperClass() {
    CellException e = failure("int n = notDeclaredAnywhere + 1;", 4);
    String tb = String.join("\n", e.traceback());
    assertTrue(tb.contains("symbol:   variable notDeclaredAnywhere"), tb);
    assertFalse(tb.contains("location:"), tb);
  }

  @Test
  void anExceptionShowsItsRealClassMessageAndCellLineWithoutJShellFrames() {
    CellException e = failure("int before = 1;\nthrow new IllegalStateException(\"boom\");", 3);
    assertEquals("IllegalStateException", e.ename());
    assertEquals("boom", e.evalue());
    List<String> tb = e.traceback();
    assertEquals("\u001b[31mIllegalStateException\u001b[0m: boom", tb.get(0));
    assertEquals("  at In [3] line 2: throw new IllegalStateException(\"boom\");", tb.get(1));
    assertEquals(2, tb.size(), String.join("\n", tb));
  }

  @Test
  void framesInMethodsFromEarlierCellsPointAtThoseCells() throws Exception {
    evaluator.eval("void explode(String why) {\n  throw new IllegalArgumentException(why);\n}", 10);
    CellException e = failure("explode(\"bad input\");", 11);
    assertEquals(List.of("\u001b[31mIllegalArgumentException\u001b[0m: bad input",
        "  at explode(), In [10] line 2: throw new IllegalArgumentException(why);",
        "  at In [11] line 1: explode(\"bad input\");"), e.traceback());
  }

  @Test
  void aKilnUsageErrorIsItsMessageAndTheCellLineOnly() {
    CellException e = failure("Kiln.load(\"no-such-model.tflite\")", 2);
    assertEquals("KilnException", e.ename());
    assertEquals("no-such-model.tflite: no such file", e.evalue());
    assertEquals(List.of("\u001b[31mKilnException\u001b[0m: no-such-model.tflite: no such file",
        "  at In [2] line 1: Kiln.load(\"no-such-model.tflite\")"), e.traceback());
  }

  @Test
  void unfinishedCodeIsACompileError() {
    CellException e = failure("int unfinished = (1 + ", 5);
    assertEquals("CompileError", e.ename());
  }

  // ---------------------------------------------------------------- interrupts

  private CompletableFuture<Object> runAsync(String code) {
    CompletableFuture<Object> f = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        f.complete(evaluator.eval(code, 99));
      } catch (Throwable e) {
        f.completeExceptionally(e);
      }
    });
    t.start();
    return f;
  }

  private void interruptOnceRunning() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!CellInterrupts.instance().cellRunning() && System.nanoTime() < deadline) Thread.sleep(5);
    Thread.sleep(150); // let the snippet start
    evaluator.interrupt();
  }

  private CellException interrupted(CompletableFuture<Object> f, Duration within) throws Exception {
    try {
      Object r = f.get(within.toMillis(), TimeUnit.MILLISECONDS);
      throw new AssertionError("cell was not interrupted, returned " + r);
    } catch (ExecutionException e) {
      return assertInstanceOf(CellException.class, e.getCause());
    }
  }

  @Test
  void anInterruptStopsASleepingCellAndTheNextCellWorks() throws Exception {
    // One line, so the reported line does not depend on how far a loaded machine got before the interrupt.
    CompletableFuture<Object> f = runAsync("Thread.sleep(60_000);");
    interruptOnceRunning();
    CellException e = interrupted(f, Duration.ofMillis(GRACE_MS - 500));
    assertEquals("Interrupted", e.ename());
    assertTrue(e.traceback().get(0).contains("stopped in In [99] line 1"), e.traceback().toString());
    assertEquals(2, value("1 + 1"));
  }

  @Test
  void anInterruptEndsALoopThatChecksThreadInterrupted() throws Exception {
    CompletableFuture<Object> f = runAsync("long spins = 0;\nwhile (!Thread.interrupted()) spins++;\nspins");
    interruptOnceRunning();
    assertEquals("Interrupted", interrupted(f, Duration.ofMillis(GRACE_MS - 500)).ename());
    assertEquals(3, value("1 + 2"));
  }

  @Test
  void aLoopThatIgnoresInterruptsIsStoppedByForceAfterTheGracePeriod() throws Exception {
    CompletableFuture<Object> f = runAsync("long spin = 0;\nwhile (true) { spin++; }");
    interruptOnceRunning();
    assertEquals("Interrupted", interrupted(f, Duration.ofMillis(GRACE_MS + 3000)).ename());
    assertEquals(4, value("2 + 2"));
  }

  @Test
  void interruptHooksUnblockAReadThatIgnoresThreadInterrupt() throws Exception {
    // A device link is a blocking read: Thread.interrupt() does not end it, closing the link does.
    evaluator.eval("var device = new ProcessBuilder(\"sleep\", \"60\").start();\n"
        + "var closeOnInterrupt = KernelInterrupts.onInterrupt(device::destroy);", 20);
    long start = System.nanoTime();
    CompletableFuture<Object> f = runAsync("int b = device.getInputStream().read();");
    interruptOnceRunning();
    CellException e = interrupted(f, Duration.ofMillis(GRACE_MS - 300));
    assertEquals("Interrupted", e.ename());
    assertTrue(System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(GRACE_MS + 150), "hook did not unblock the read");
    evaluator.eval("closeOnInterrupt.close();", 21);
    assertEquals(0, CellInterrupts.instance().hookCount());
  }

  @Test
  void anInterruptWhenNoCellRunsDoesNothing() throws Exception {
    evaluator.interrupt();
    assertEquals(5, value("2 + 3"));
  }

  // ---------------------------------------------------------------- analysis

  @Test
  void completionOffersKilnMembers() {
    JShellEvaluator.Completion c = evaluator.complete("var m = Kiln.lo", 15);
    assertTrue(c.matches().contains("load("), c.matches().toString());
    assertEquals(13, c.start());
    assertEquals(15, c.end());
    assertEquals(c.matches().size(), c.matches().stream().distinct().count(), "duplicates: " + c.matches());
  }

  @Test
  void completionWorksInTheSecondSnippetOfACell() throws Exception {
    evaluator.eval("var buffer = new StringBuilder();", 30);
    String cell = "int unrelated = 1;\nbuffer.app";
    JShellEvaluator.Completion c = evaluator.complete(cell, cell.length());
    assertTrue(c.matches().contains("append("), c.matches().toString());
    assertEquals(cell.length() - 3, c.start());
  }

  @Test
  void completionOfAPercentLineOffersMagics() {
    JShellEvaluator.Completion c = evaluator.complete("%cla", 4);
    assertEquals(List.of("%classpath"), c.matches());
    assertEquals(0, c.start());
  }

  @Test
  void inspectShowsKilnSignaturesWithTheirJavadocFirstSentence() {
    String text = evaluator.inspect("Kiln.load(\"x\")", 7, false).orElseThrow();
    assertTrue(text.contains("Model Kiln.load(String path)"), text);
    assertTrue(text.contains("Model Kiln.load(Path path)\n    Reads a model file;"), text);
  }

  @Test
  void inspectOfAKilnClassListsItsPublicMethods() {
    String text = evaluator.inspect("Kiln", 2, false).orElseThrow();
    assertTrue(text.startsWith("dev.kiln.api.Kiln\n    Where notebooks and the command line start"), text);
    assertTrue(text.contains("Public members:\n  static Model load(String path)"), text);
  }

  @Test
  void inspectOfAVariableShowsItsType() throws Exception {
    evaluator.eval("var inspected = new StringBuilder();", 40);
    String text = evaluator.inspect("inspected", 4, false).orElseThrow();
    assertTrue(text.startsWith("inspected : java.lang.StringBuilder"), text);
  }

  @Test
  void completionLeavesOutObjectMethodsUnlessTheClassOverridesThem() throws Exception {
    evaluator.eval("var sb2 = new StringBuilder();", 41);
    List<String> sb = evaluator.complete("sb2.", 4).matches();
    assertTrue(sb.contains("append(") && sb.contains("toString()"), "StringBuilder overrides toString: " + sb);
    for (String gone : List.of("wait(", "notify()", "notifyAll()", "getClass()", "hashCode()", "equals(")) {
      assertFalse(sb.contains(gone), gone + " is Object's: " + sb);
    }
    evaluator.eval("var probe = dev.kiln.api.Tensor.ofFloats(new int[] {1}, 1f);", 42);
    List<String> t = evaluator.complete("probe.", 6).matches();
    assertTrue(t.contains("equals(") && t.contains("argmax()"), "Tensor declares equals: " + t);
    assertFalse(t.contains("wait(") || t.contains("getClass()"), t.toString());
  }

  @Test
  void completionGivesKindsAndSignatures() {
    JShellEvaluator.Completion c = evaluator.complete("Kiln.lo", 7);
    JShellEvaluator.Match load = c.details().stream().filter(m -> m.text().equals("load(")).findFirst().orElseThrow();
    assertEquals("method", load.type());
    assertTrue(load.signature().contains("Kiln.load(java.lang.String)") || load.signature().contains("load(String"), load.signature());
    assertEquals(c.matches().size(), c.details().size());
  }

  @Test
  void completionOffersNothingInsideStringLiteralsAndComments() {
    assertEquals(List.of(), evaluator.complete("var s = \"Kiln.lo", 16).matches());
    assertEquals(List.of(), evaluator.complete("// Kiln.lo", 10).matches());
    assertEquals(List.of(), evaluator.complete("char c = 'K", 11).matches());
    String after = "var s = \"a\\\"b\"; Kiln.lo";
    assertTrue(evaluator.complete(after, after.length()).matches().contains("load("), "after a closed string (with an escaped quote)");
    assertTrue(JShellEvaluator.insideLiteralOrComment("x = \"\"\"\n  Kiln", 14));
    assertFalse(JShellEvaluator.insideLiteralOrComment("/* c */ Kiln", 12));
  }

  @Test
  void inspectWorksOnABareMethodNameAndOnJdkClasses() {
    String load = evaluator.inspect("Kiln.load", 9, false).orElseThrow();
    assertTrue(load.contains("Model Kiln.load(String path)"), load);
    String mid = evaluator.inspect("var m = Kiln.lo", 14, false).orElse("");
    assertEquals("", mid, "a partial name documents nothing");
    String list = evaluator.inspect("ArrayList", 9, false).orElseThrow();
    assertTrue(list.contains("java.util.ArrayList"), list);
    String max = evaluator.inspect("Math.max", 8, false).orElseThrow();
    assertTrue(max.contains("Math.max(int"), max);
  }

  @Test
  void isCompleteTellsCompleteIncompleteAndInvalid() {
    assertEquals("complete", evaluator.isComplete("int x = 1;").status());
    assertEquals("complete", evaluator.isComplete("%lsmagic").status());
    JShellEvaluator.IsComplete open = evaluator.isComplete("for (int i = 0; i < 3; i++) {");
    assertEquals("incomplete", open.status());
    assertEquals("    ", open.indent());
    assertEquals("invalid", evaluator.isComplete("int x = );").status());
  }

  // ---------------------------------------------------------------- magics

  @Test
  void classpathMagicAddsAFolderThatLaterSnippetsCompileAgainst() throws Exception {
    Path src = temp.resolve("src/demo/Hello.java");
    Files.createDirectories(src.getParent());
    Files.writeString(src, "package demo; public class Hello { public static String hi() { return \"hi from a jar\"; } }");
    Path classes = temp.resolve("classes");
    assertEquals(0, ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(), src.toString()));
    PrintStream old = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true));
    try {
      assertEquals("hi from a jar", value("%classpath " + classes + "\ndemo.Hello.hi()"));
    } finally {
      System.setOut(old);
    }
    assertTrue(out.toString().contains("class path + " + classes), out.toString());
  }

  @Test
  void anUnknownMagicListsTheKnownOnes() {
    CellException e = failure("%nosuchmagic 1 2", 8);
    assertEquals("UnknownMagicException", e.ename());
    assertTrue(e.evalue().startsWith("no line magic %nosuchmagic; line magics: %classpath, %jars, %load, %lsmagic, %time"), e.evalue());
    assertEquals("  at In [8] line 1: %nosuchmagic", e.traceback().get(1));
  }

  @Test
  void timeCellMagicRunsTheBodyAndKeepsItsValue() throws Exception {
    PrintStream old = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true));
    try {
      assertEquals(42, value("%%time\nint base = 40;\nbase + 2"));
    } finally {
      System.setOut(old);
    }
    assertTrue(out.toString().startsWith("Wall time: "), out.toString());
  }

  @Test
  void timeLineMagicRunsTheRestOfItsLineAndKeepsItsValue() throws Exception {
    PrintStream old = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true));
    try {
      assertEquals(42, value("int base2 = 40;\n%time base2 + 2"));
      assertEquals(7, value("%time int seven = 7;\nseven"), "a declaration on the %time line stays in the session");
    } finally {
      System.setOut(old);
    }
    assertEquals(2, out.toString().split("Wall time: ", -1).length - 1, out.toString());
    CellException e = assertThrows(CellException.class, () -> evaluator.eval("%time", count.getAndIncrement()));
    assertTrue(e.evalue().contains("%time needs Java after it"), e.evalue());
  }

  @Test
  void loadRunsAFilesJavaInTheSession() throws Exception {
    Path file = temp.resolve("setup.jsh");
    java.nio.file.Files.writeString(file, "int loadedA = 20;\nint twice(int x) { return 2 * x; }\ntwice(loadedA) + 2\n");
    assertEquals(42, value("%load " + file));
    assertEquals(40, value("twice(loadedA)"), "its declarations stay");
    CellException e = assertThrows(CellException.class, () -> evaluator.eval("%load " + temp.resolve("nope.jsh"), count.getAndIncrement()));
    assertTrue(e.evalue().contains("no such file") && e.evalue().contains("nope.jsh"), e.evalue());
    assertTrue(evaluator.complete("%lo", 3).matches().contains("%load"));
  }

  @Test
  void aPercentSignInsideATextBlockStaysJava() throws Exception {
    assertEquals("%notamagic\n", value("String s = \"\"\"\n%notamagic\n\"\"\";\ns"));
  }
}
