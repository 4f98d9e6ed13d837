package dev.kiln.kernel;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.kiln.kernel.display.Display;
import dev.kiln.kernel.display.MimeBundle;
import dev.kiln.kernel.display.Renderers;
import dev.kiln.kernel.eval.CellException;
import dev.kiln.kernel.eval.JShellEvaluator;
import dev.kiln.kernel.magic.ClasspathMagics;
import dev.kiln.kernel.magic.Magics;
import dev.kiln.kernel.magic.MavenMagics;
import dev.kiln.kernel.magic.MavenResolver;
import dev.kiln.kernel.magic.TimeMagic;
import dev.kiln.kernel.protocol.History;
import io.github.spencerpark.jupyter.channels.JupyterConnection;
import io.github.spencerpark.jupyter.channels.ShellReplyEnvironment;
import io.github.spencerpark.jupyter.kernel.BaseKernel;
import io.github.spencerpark.jupyter.kernel.JupyterIO;
import io.github.spencerpark.jupyter.kernel.LanguageInfo;
import io.github.spencerpark.jupyter.kernel.ReplacementOptions;
import io.github.spencerpark.jupyter.kernel.comm.Comm;
import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import io.github.spencerpark.jupyter.messages.Message;
import io.github.spencerpark.jupyter.messages.MessageType;
import io.github.spencerpark.jupyter.messages.publish.PublishClearOutput;
import io.github.spencerpark.jupyter.messages.publish.PublishDisplayData;
import io.github.spencerpark.jupyter.messages.publish.PublishError;
import io.github.spencerpark.jupyter.messages.publish.PublishExecuteInput;
import io.github.spencerpark.jupyter.messages.publish.PublishExecuteResult;
import io.github.spencerpark.jupyter.messages.publish.PublishUpdateDisplayData;
import io.github.spencerpark.jupyter.messages.request.CommInfoRequest;
import io.github.spencerpark.jupyter.messages.request.ExecuteRequest;
import io.github.spencerpark.jupyter.messages.request.HistoryRequest;
import io.github.spencerpark.jupyter.messages.request.InterruptRequest;
import io.github.spencerpark.jupyter.messages.request.KernelInfoRequest;
import io.github.spencerpark.jupyter.messages.request.ShutdownRequest;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The Kiln Jupyter kernel: Java cells through JShell in this JVM, with the Kiln API imported.
 * A thin shell in the manner of IJava: it wires an evaluator, magics and renderers to
 * jupyter-jvm-basekernel, and replaces the basekernel handlers whose replies miss fields Jupyter
 * clients check ({@code status} on kernel_info, interrupt, shutdown, comm_info and history
 * replies; history answered at all; {@code silent}, {@code store_history} and
 * {@code user_expressions} honoured).
 */
public final class KilnKernel extends BaseKernel {
  private static final Logger LOG = Logger.getLogger(KilnKernel.class.getName());
  public static final String IMPLEMENTATION = "kiln";
  public static final String PROTOCOL_VERSION = "5.3";

  private final JShellEvaluator evaluator;
  private final Magics magics = new Magics();
  private final History history = new History();
  private final KilnIO kio = new KilnIO();
  private volatile ShellReplyEnvironment currentEnv;

  /** Settings, each with a default; the launcher reads them from the environment. */
  public record Options(long interruptGraceMillis, Path workingDir, Path mavenLocalRepository) {
    public static Options fromEnvironment() {
      long grace = parseLong(System.getenv("KILN_KERNEL_INTERRUPT_GRACE_MS"), 1000);
      return new Options(grace, Path.of("").toAbsolutePath(), MavenResolver.defaultLocalRepository());
    }

    private static long parseLong(String s, long fallback) {
      try {
        return s == null || s.isBlank() ? fallback : Long.parseLong(s.strip());
      } catch (NumberFormatException e) {
        return fallback;
      }
    }
  }

  public KilnKernel(Options options) {
    super(StandardCharsets.UTF_8);
    this.evaluator = new JShellEvaluator(magics, options.interruptGraceMillis());
    new ClasspathMagics(evaluator::addToClasspath, options.workingDir()).register(magics);
    new MavenMagics(new MavenResolver(options.mavenLocalRepository()), evaluator::addToClasspath,
        MavenMagics.providedArtifacts(System.getProperty("java.class.path"))).register(magics);
    TimeMagic.register(magics);
    Display.install(new IopubDisplay());
    SessionInterrupts.install();
  }

  public JShellEvaluator evaluator() { return evaluator; }

  /**
   * Builds JShell and warms it up on a background thread; the first request waits for it. The
   * renderers (and the table library they use) load at the same time on another thread, so the
   * first Kiln value shown does not pay for them.
   */
  public void startInBackground() {
    Thread renderers = new Thread(() -> {
      try {
        Renderers.registry();
      } catch (RuntimeException | LinkageError e) {
        LOG.log(Level.WARNING, "loading renderers failed; values will show as text", e);
      }
    }, "kiln-renderers-start");
    renderers.setDaemon(true);
    renderers.start();
    Thread t = new Thread(() -> {
      try {
        evaluator.start();
        Renderers.registry();
      } catch (RuntimeException | LinkageError e) {
        // Reported by the first cell, which calls start() again.
        LOG.log(Level.WARNING, "kernel start-up failed; the first cell will report it", e);
      }
    }, "kiln-jshell-start");
    t.setDaemon(true);
    t.start();
  }

  // ---------------------------------------------------------------- BaseKernel's hooks

  @Override
  public LanguageInfo getLanguageInfo() {
    return new LanguageInfo.Builder("java")
        .version(Runtime.version().toString())
        .mimetype("text/x-java-source")
        .fileExtension(".jshell")
        .pygments("java")
        .codemirror("text/x-java")
        .build();
  }

  @Override
  public String getBanner() {
    return "Kiln (Java " + Runtime.version() + ", JShell in this JVM)\n"
        + "Imported: dev.kiln.api.*, java.util.*, java.nio.file.*; try Kiln.load(\"model.tflite\").\n"
        + "Magics: %lsmagic";
  }

  @Override
  public List<LanguageInfo.Help> getHelpLinks() {
    return List.of(new LanguageInfo.Help("Java 17 API", "https://docs.oracle.com/en/java/javase/17/docs/api/"));
  }

  @Override
  public DisplayData eval(String code) throws Exception {
    JShellEvaluator.Result r = evaluator.eval(code, executionCount.get());
    return r.present() ? toDisplayData(r.value()) : null;
  }

  @Override
  public ReplacementOptions complete(String code, int at) {
    JShellEvaluator.Completion c = evaluator.complete(code, at);
    return new ReplacementOptions(c.matches(), c.start(), c.end());
  }

  @Override
  public DisplayData inspect(String code, int at, boolean extraDetail) {
    Optional<String> text = evaluator.inspect(code, at, extraDetail);
    return text.map(DisplayData::new).orElse(null);
  }

  @Override
  public String isComplete(String code) {
    JShellEvaluator.IsComplete c = evaluator.isComplete(code);
    return switch (c.status()) {
      case "complete" -> IS_COMPLETE_YES;
      case "invalid" -> IS_COMPLETE_BAD;
      default -> c.indent();
    };
  }

  @Override
  public void interrupt() { evaluator.interrupt(); }

  @Override
  public void onShutdown(boolean restarting) { evaluator.close(); }

  @Override
  public void display(DisplayData data) { kio.display.display(data); }

  @Override
  public List<String> formatError(Exception e) {
    if (e instanceof CellException ce) return ce.traceback();
    StringWriter w = new StringWriter();
    e.printStackTrace(new PrintWriter(w));
    return List.of(w.toString().split("\n"));
  }

  // ---------------------------------------------------------------- handlers

  @Override
  public void becomeHandlerForConnection(JupyterConnection connection) {
    super.becomeHandlerForConnection(connection);
    connection.setHandler(MessageType.EXECUTE_REQUEST, this::handleExecute);
    connection.setHandler(MessageType.KERNEL_INFO_REQUEST, this::handleKernelInfo);
    connection.setHandler(MessageType.HISTORY_REQUEST, this::handleHistory);
    connection.setHandler(MessageType.INTERRUPT_REQUEST, this::handleInterrupt);
    connection.setHandler(MessageType.SHUTDOWN_REQUEST, this::handleShutdown);
    connection.setHandler(MessageType.COMM_INFO_REQUEST, this::handleCommInfo);
    connection.setHandler(MessageType.COMPLETE_REQUEST, this::handleComplete);
    // usage_request, debug_request...: nothing to say; answer nothing, quietly.
    connection.setHandler(MessageType.UNKNOWN, (env, msg) -> LOG.fine("ignored a message of an unknown type"));
  }

  private void handleKernelInfo(ShellReplyEnvironment env, Message<KernelInfoRequest> msg) {
    env.setBusyDeferIdle();
    JsonObject language = new JsonObject();
    LanguageInfo info = getLanguageInfo();
    language.addProperty("name", info.getName());
    language.addProperty("version", info.getVersion());
    language.addProperty("mimetype", info.getMimetype());
    language.addProperty("file_extension", info.getFileExtension());
    language.addProperty("pygments_lexer", info.getPygmentsLexer());
    language.addProperty("codemirror_mode", String.valueOf(info.getCodemirrorMode()));
    JsonArray help = new JsonArray();
    for (LanguageInfo.Help h : getHelpLinks()) {
      JsonObject link = new JsonObject();
      link.addProperty("text", h.getText());
      link.addProperty("url", h.getUrl());
      help.add(link);
    }
    JsonObject content = ok();
    content.addProperty("protocol_version", PROTOCOL_VERSION);
    content.addProperty("implementation", IMPLEMENTATION);
    content.addProperty("implementation_version", version());
    content.add("language_info", language);
    content.addProperty("banner", getBanner());
    content.add("help_links", help);
    content.addProperty("debugger", false);
    reply(env, MessageType.KERNEL_INFO_REPLY, content);
  }

  /**
   * complete_reply with each match's kind and signature in {@code metadata._jupyter_types_experimental}
   * (JupyterLab shows them beside the matches), which basekernel's own handler cannot send.
   */
  private void handleComplete(ShellReplyEnvironment env, Message<io.github.spencerpark.jupyter.messages.request.CompleteRequest> msg) {
    env.setBusyDeferIdle();
    var request = msg.getContent();
    JShellEvaluator.Completion c = evaluator.complete(request.getCode(), request.getCursorPos());
    JsonArray matches = new JsonArray();
    JsonArray types = new JsonArray();
    for (JShellEvaluator.Match m : c.details()) {
      matches.add(m.text());
      JsonObject t = new JsonObject();
      t.addProperty("start", c.start());
      t.addProperty("end", c.end());
      t.addProperty("text", m.text());
      t.addProperty("type", m.type());
      t.addProperty("signature", m.signature());
      types.add(t);
    }
    JsonObject metadata = new JsonObject();
    metadata.add("_jupyter_types_experimental", types);
    JsonObject content = ok();
    content.add("matches", matches);
    content.addProperty("cursor_start", c.start());
    content.addProperty("cursor_end", c.end());
    content.add("metadata", metadata);
    reply(env, MessageType.COMPLETE_REPLY, content);
  }

  private void handleInterrupt(ShellReplyEnvironment env, Message<InterruptRequest> msg) {
    env.setBusyDeferIdle();
    reply(env, MessageType.INTERRUPT_REPLY, ok());
    interrupt();
  }

  private void handleShutdown(ShellReplyEnvironment env, Message<ShutdownRequest> msg) {
    boolean restart = msg.getContent() != null && msg.getContent().isRestart();
    env.setBusyDeferIdle();
    JsonObject content = ok();
    content.addProperty("restart", restart);
    reply(env, MessageType.SHUTDOWN_REPLY, content);
    interrupt();
    onShutdown(restart);
    env.resolveDeferrals();
    env.markForShutdown();
  }

  private void handleCommInfo(ShellReplyEnvironment env, Message<CommInfoRequest> msg) {
    env.setBusyDeferIdle();
    String target = msg.getContent() == null ? null : msg.getContent().getTargetName();
    JsonObject comms = new JsonObject();
    for (Comm comm : commManager) {
      if (target != null && !target.equals(comm.getTargetName())) continue;
      JsonObject c = new JsonObject();
      c.addProperty("target_name", comm.getTargetName());
      comms.add(comm.getID(), c);
    }
    JsonObject content = ok();
    content.add("comms", comms);
    reply(env, MessageType.COMM_INFO_REPLY, content);
  }

  private void handleHistory(ShellReplyEnvironment env, Message<HistoryRequest> msg) {
    env.setBusyDeferIdle();
    HistoryRequest request = msg.getContent();
    List<History.Entry> entries;
    if (request instanceof HistoryRequest.Tail t) {
      entries = history.tail(t.getMaxReturnLength());
    } else if (request instanceof HistoryRequest.Search s) {
      entries = history.search(s.getPattern(), s.getMaxReturnLength(), s.filterUnique());
    } else if (request instanceof HistoryRequest.Range r) {
      entries = history.range(r.getSessionIndex(), r.getStart(), r.getStop());
    } else {
      entries = List.of();
    }
    boolean withOutput = request != null && request.includeOutput();
    JsonArray items = new JsonArray();
    for (History.Entry e : entries) {
      JsonArray item = new JsonArray();
      item.add(History.SESSION);
      item.add(e.line());
      if (withOutput) {
        JsonArray io = new JsonArray();
        io.add(e.input());
        io.add(e.output() == null ? com.google.gson.JsonNull.INSTANCE : new JsonPrimitive(e.output()));
        item.add(io);
      } else {
        item.add(e.input());
      }
      items.add(item);
    }
    JsonObject content = ok();
    content.add("history", items);
    reply(env, MessageType.HISTORY_REPLY, content);
  }

  private void handleExecute(ShellReplyEnvironment env, Message<ExecuteRequest> msg) {
    ExecuteRequest request = msg.getContent();
    commManager.setMessageContext(msg);
    String code = request.getCode() == null ? "" : request.getCode();
    boolean silent = request.isSilent();
    boolean store = request.shouldStoreHistory() && !silent;
    int count = store ? executionCount.getAndIncrement() : executionCount.get() - 1;

    env.setBusyDeferIdle();
    if (!silent) env.publish(new PublishExecuteInput(code, count));

    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    InputStream oldIn = System.in;
    System.setOut(kio.out);
    System.setErr(kio.err);
    System.setIn(kio.in);
    env.defer(() -> {
      System.setOut(oldOut);
      System.setErr(oldErr);
      System.setIn(oldIn);
    });
    kio.attach(env, request.isStdinEnabled());
    env.defer(() -> kio.detach(env));
    currentEnv = env;
    env.defer(() -> currentEnv = null);

    JsonObject content;
    try {
      JShellEvaluator.Result result = evaluator.eval(code, count);
      flushStreams();
      String plain = null;
      if (result.present()) {
        DisplayData data = toDisplayData(result.value());
        Object text = data.getData(io.github.spencerpark.jupyter.kernel.display.mime.MIMEType.TEXT_PLAIN);
        plain = text == null ? null : text.toString();
        if (!silent) env.publish(new PublishExecuteResult(count, data));
      }
      if (store) history.add(count, code, plain);
      content = ok();
      content.addProperty("execution_count", count);
      content.add("user_expressions", userExpressions(request.getUserExpr(), count));
      content.add("payload", new JsonArray());
    } catch (CellException e) {
      flushStreams();
      // A Kiln error is the user's to fix: its display (problem, valid choices, fix) comes first.
      // The error output then carries one line pointing at it, not the same text again in red
      // (frontends show the traceback; the reply keeps the full one for clients that read it).
      boolean panel = e.userThrowable() instanceof dev.kiln.api.KilnException && !e.ename().equals("Interrupted");
      if (!silent && panel) env.publish(new PublishDisplayData(toDisplayData(e.userThrowable())));
      if (!silent) {
        env.publish(new PublishError(e.ename(), e.evalue(), panel ? kilnErrorLine(e) : e.traceback()));
      }
      if (store) history.add(count, code, null);
      content = error(e.ename(), e.evalue(), e.traceback());
      content.addProperty("execution_count", count);
      content.add("user_expressions", new JsonObject());
      content.add("payload", new JsonArray());
    } catch (RuntimeException | LinkageError | StackOverflowError e) {
      // A kernel bug (or a JShell one): say so plainly, with the trace, and keep the kernel up.
      flushStreams();
      LOG.log(Level.SEVERE, "kernel failure evaluating a cell", e);
      List<String> trace = formatError(e instanceof Exception ex ? ex : new RuntimeException(e));
      String ename = e.getClass().getSimpleName();
      String evalue = "kernel error: " + e.getMessage();
      if (!silent) env.publish(new PublishError(ename, evalue, trace));
      content = error(ename, evalue, trace);
      content.addProperty("execution_count", count);
      content.add("user_expressions", new JsonObject());
      content.add("payload", new JsonArray());
    }
    reply(env, MessageType.EXECUTE_REPLY, content);
  }

  /** The one traceback line under a Kiln error's panel: its kind, and where the details are. */
  static List<String> kilnErrorLine(CellException e) {
    return List.of("\u001b[1;31m" + e.userThrowable().getClass().getSimpleName() + "\u001b[0m (details above)");
  }

  private JsonObject userExpressions(Map<String, String> expressions, int count) {
    JsonObject out = new JsonObject();
    if (expressions == null) return out;
    for (Map.Entry<String, String> e : expressions.entrySet()) {
      JsonObject value;
      try {
        JShellEvaluator.Result r = evaluator.eval(e.getValue(), count);
        value = ok();
        JsonObject data = new JsonObject();
        MimeBundle bundle = Renderers.render(r.present() ? r.value() : null);
        bundle.data().forEach((mime, v) -> data.add(mime, toJson(v)));
        value.add("data", data);
        value.add("metadata", new JsonObject());
      } catch (CellException ce) {
        value = error(ce.ename(), ce.evalue(), ce.traceback());
      }
      out.add(e.getKey(), value);
    }
    return out;
  }

  private static JsonElement toJson(Object v) {
    return v instanceof String s ? new JsonPrimitive(s) : new com.google.gson.Gson().toJsonTree(v);
  }

  private static void flushStreams() {
    System.out.flush();
    System.err.flush();
  }

  private static JsonObject ok() {
    JsonObject o = new JsonObject();
    o.addProperty("status", "ok");
    return o;
  }

  private static JsonObject error(String ename, String evalue, List<String> traceback) {
    JsonObject o = new JsonObject();
    o.addProperty("status", "error");
    o.addProperty("ename", ename);
    o.addProperty("evalue", evalue);
    JsonArray tb = new JsonArray();
    traceback.forEach(tb::add);
    o.add("traceback", tb);
    return o;
  }

  @SuppressWarnings({"rawtypes", "unchecked"})
  private static void reply(ShellReplyEnvironment env, MessageType<?> type, JsonObject content) {
    env.reply(new Message(env.getContext(), (MessageType) type, content));
  }

  static DisplayData toDisplayData(Object value) {
    if (value instanceof DisplayData d) return d;
    MimeBundle bundle = Renderers.render(value);
    DisplayData data = new DisplayData();
    bundle.data().forEach(data::putData);
    bundle.metadata().forEach(data::putMetaData);
    return data;
  }

  static String version() {
    String v = KilnKernel.class.getPackage().getImplementationVersion();
    return v != null ? v : "dev";
  }

  /** Publishes what {@link Display} is asked to show, under the execute request that is running. */
  private final class IopubDisplay implements Display.Sink {
    @Override public void display(MimeBundle bundle, String displayId) {
      ShellReplyEnvironment env = currentEnv;
      if (env == null) return;
      DisplayData data = toDisplayData(bundle);
      data.setDisplayId(displayId);
      env.publish(new PublishDisplayData(data));
    }

    @Override public void update(MimeBundle bundle, String displayId) {
      ShellReplyEnvironment env = currentEnv;
      if (env == null) return;
      DisplayData data = toDisplayData(bundle);
      data.setDisplayId(displayId);
      env.publish(new PublishUpdateDisplayData(data));
    }

    @Override public void clearOutput(boolean wait) {
      ShellReplyEnvironment env = currentEnv;
      if (env != null) env.publish(wait ? PublishClearOutput.BEFORE_NEXT_OUTPUT : PublishClearOutput.NOW);
    }
  }

  /** basekernel's streams, with their attach/detach made reachable. */
  private static final class KilnIO extends JupyterIO {
    KilnIO() { super(StandardCharsets.UTF_8); }

    void attach(ShellReplyEnvironment env, boolean stdin) {
      setEnv(env);
      setJupyterInEnabled(stdin);
    }

    void detach(ShellReplyEnvironment env) { retractEnv(env); }
  }
}
