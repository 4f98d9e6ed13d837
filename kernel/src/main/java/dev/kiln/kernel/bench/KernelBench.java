package dev.kiln.kernel.bench;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * Prints how fast the installed kernel is, as a notebook feels it: from starting the process to
 * the kernel_info reply, to the first Kiln result ({@code Kiln.load} of a model), the round trip
 * of a warm cell, and {@code Kiln.compare} of the seed scenario (the model on the graph executor and
 * AoT C-interface unpacked, on the host device, its samples checked, 10 timed runs, table and chart
 * rendered) the first time in the kernel and again; with {@code --notebooks DIR}, the time to execute each notebook there
 * (every code cell in order, in a fresh kernel started in the notebook's folder, as nbclient does).
 * Starts the kernel exactly as its kernel.json says, and talks to it over ZeroMQ like any Jupyter
 * client (signed messages). No assertions: figures only.
 *
 * <pre>
 * java -cp kiln-kernel.jar dev.kiln.kernel.bench.KernelBench [--kernelspec DIR] [--model FILE.tflite]
 *     [--runs 3] [--cells 20] [--notebooks notebooks/]
 * </pre>
 */
public final class KernelBench {
  private static final Gson GSON = new Gson();
  private static final long TIMEOUT_MS = 60_000;

  private KernelBench() {}

  public static void main(String[] args) throws Exception {
    Path spec = Path.of(System.getProperty("user.home"), ".local/share/jupyter/kernels/kiln");
    Path model = Path.of("../shared/models/digits_cnn_int8/digits_cnn_int8.tflite");
    int runs = 3;
    int cells = 20;
    Path train = null;
    Path notebooks = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--notebooks" -> notebooks = Path.of(args[++i]);
        case "--train-cds" -> train = Path.of(args[++i]);
        case "--kernelspec" -> spec = Path.of(args[++i]);
        case "--model" -> model = Path.of(args[++i]);
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--cells" -> cells = Integer.parseInt(args[++i]);
        default -> {
          System.err.println("usage: KernelBench [--kernelspec DIR] [--model FILE] [--runs N] [--cells N] [--notebooks DIR]");
          System.exit(2);
        }
      }
    }
    JsonObject kernelJson = parseJson(Files.readString(spec.resolve("kernel.json"))).getAsJsonObject();
    List<String> argvTemplate = new ArrayList<>();
    kernelJson.getAsJsonArray("argv").forEach(e -> argvTemplate.add(e.getAsString()));
    if (train != null) {
      train(spec, argvTemplate, model.toAbsolutePath().normalize(), train);
      return;
    }
    System.out.println("kernelspec " + spec.toAbsolutePath());
    System.out.println("argv       " + String.join(" ", argvTemplate));
    System.out.println("model      " + model.toAbsolutePath().normalize());
    System.out.printf(Locale.ROOT, "%-4s %12s %14s %14s %14s %14s %12s %12s%n", "run", "info_reply_s", "first_kiln_s",
        "start+kiln_s", "warm_cell_ms", "warm_kiln_ms", "compare_s", "compare2_s");
    double[] info = new double[runs];
    double[] first = new double[runs];
    double[] warm = new double[runs];
    double[] warmKiln = new double[runs];
    double[] compare = new double[runs];
    double[] compare2 = new double[runs];
    for (int r = 0; r < runs; r++) {
      double[] f = oneRun(spec, argvTemplate, model.toAbsolutePath().normalize(), cells);
      info[r] = f[0];
      first[r] = f[1];
      warm[r] = f[2];
      warmKiln[r] = f[3];
      compare[r] = f[4];
      compare2[r] = f[5];
      System.out.printf(Locale.ROOT, "%-4d %12.3f %14.3f %14.3f %14.1f %14.1f %12.3f %12.3f%n", r + 1, f[0], f[1], f[0] + f[1], f[2], f[3],
          f[4], f[5]);
    }
    System.out.printf(Locale.ROOT, "%-4s %12.3f %14.3f %14.3f %14.1f %14.1f %12.3f %12.3f%n", "med", median(info), median(first),
        median(sum(info, first)), median(warm), median(warmKiln), median(compare), median(compare2));
    System.out.printf(Locale.ROOT, "start -> first Kiln.load result %.3f s; warm cell %.1f ms; Kiln.compare of the seed scenario %.3f s "
        + "(first in the kernel; %.3f s again)%n", median(sum(info, first)), median(warm), median(compare), median(compare2));
    System.out.println("compare_s: Kiln.compare(model).runs(10).run() as a cell (graph and aot-c-unpacked on Device.host(), the model's"
        + " samples checked, table and chart rendered); device programs come from the content-keyed cache once built.");
    if (notebooks != null) notebooks(spec, argvTemplate, notebooks, runs);
  }

  /** The notebooks Kiln ships, in the order a newcomer meets them. */
  static final List<String> NOTEBOOKS = List.of("quickstart.ipynb", "seed-graph-vs-aot.ipynb", "int8-vs-float.ipynb");

  private static void notebooks(Path spec, List<String> template, Path dir, int runs) throws Exception {
    System.out.println();
    System.out.println("notebooks  " + dir.toAbsolutePath().normalize() + " (kernel start to the last cell's idle; median of " + runs + ")");
    System.out.printf(Locale.ROOT, "%-26s %6s %12s %12s %12s%n", "notebook", "cells", "info_reply_s", "cells_s", "total_s");
    for (String name : NOTEBOOKS) {
      Path nb = dir.resolve(name);
      if (!Files.exists(nb)) continue;
      List<String[]> cells = codeCells(nb);
      double[] info = new double[runs];
      double[] work = new double[runs];
      for (int r = 0; r < runs; r++) {
        double[] f = oneNotebook(spec, template, nb, cells);
        info[r] = f[0];
        work[r] = f[1];
      }
      System.out.printf(Locale.ROOT, "%-26s %6d %12.3f %12.3f %12.3f%n", name, cells.size(), median(info), median(work),
          median(sum(info, work)));
    }
  }

  /** Each code cell's source and whether it is meant to raise ("raises-exception" tag): {source, "raises"|""}. */
  private static List<String[]> codeCells(Path notebook) throws IOException {
    List<String[]> out = new ArrayList<>();
    for (JsonElement e : parseJson(Files.readString(notebook)).getAsJsonObject().getAsJsonArray("cells")) {
      JsonObject c = e.getAsJsonObject();
      if (!c.get("cell_type").getAsString().equals("code")) continue;
      JsonElement src = c.get("source");
      StringBuilder sb = new StringBuilder();
      if (src.isJsonArray()) src.getAsJsonArray().forEach(l -> sb.append(l.getAsString()));
      else sb.append(src.getAsString());
      boolean raises = false;
      JsonObject meta = c.has("metadata") ? c.getAsJsonObject("metadata") : new JsonObject();
      if (meta.has("tags")) for (JsonElement t : meta.getAsJsonArray("tags")) raises |= t.getAsString().equals("raises-exception");
      out.add(new String[] {sb.toString(), raises ? "raises" : ""});
    }
    return out;
  }

  /** {seconds to kernel_info_reply, seconds from then to the last cell's idle}. */
  private static double[] oneNotebook(Path spec, List<String> template, Path notebook, List<String[]> cells) throws Exception {
    Path dir = Files.createTempDirectory("kiln-bench-nb");
    Path connection = dir.resolve("connection.json");
    String key = UUID.randomUUID().toString();
    Files.writeString(connection, connectionJson(freePorts(5), key));
    int[] ports = readPorts(connection);
    List<String> argv = new ArrayList<>();
    for (String a : template) {
      argv.add(a.replace("{connection_file}", connection.toString()).replace("{resource_dir}", spec.toAbsolutePath().toString()));
    }
    try (ZContext ctx = new ZContext(); Client c = new Client(ctx, ports, key)) {
      long t0 = System.nanoTime();
      Process kernel = new ProcessBuilder(argv).directory(notebook.toAbsolutePath().getParent().toFile()).redirectErrorStream(true)
          .redirectOutput(dir.resolve("kernel.log").toFile()).start();
      try {
        c.awaitReply(c.send("kernel_info_request", new JsonObject()));
        long tInfo = System.nanoTime();
        for (String[] cell : cells) c.execute(cell[0], cell[1].isEmpty());
        long tDone = System.nanoTime();
        c.awaitControlReply(c.sendControl("shutdown_request", json("restart", false)));
        return new double[] {(tInfo - t0) / 1e9, (tDone - tInfo) / 1e9};
      } finally {
        if (!kernel.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) kernel.destroyForcibly();
        deleteTree(dir);
      }
    }
  }

  private static String connectionJson(int[] ports, String key) {
    JsonObject conn = new JsonObject();
    conn.addProperty("transport", "tcp");
    conn.addProperty("ip", "127.0.0.1");
    conn.addProperty("shell_port", ports[0]);
    conn.addProperty("iopub_port", ports[1]);
    conn.addProperty("stdin_port", ports[2]);
    conn.addProperty("control_port", ports[3]);
    conn.addProperty("hb_port", ports[4]);
    conn.addProperty("signature_scheme", "hmac-sha256");
    conn.addProperty("key", key);
    return GSON.toJson(conn);
  }

  private static int[] readPorts(Path connection) throws IOException {
    JsonObject o = parseJson(Files.readString(connection)).getAsJsonObject();
    return new int[] {o.get("shell_port").getAsInt(), o.get("iopub_port").getAsInt(), o.get("stdin_port").getAsInt(),
        o.get("control_port").getAsInt(), o.get("hb_port").getAsInt()};
  }

  /**
   * {seconds to kernel_info_reply, seconds from then to the first Kiln result, warm cell ms (median), warm Kiln.load ms,
   * seconds of the first Kiln.compare cell, seconds of a second one}.
   */
  private static double[] oneRun(Path spec, List<String> template, Path model, int cells) throws Exception {
    Path dir = Files.createTempDirectory("kiln-bench");
    Path connection = dir.resolve("connection.json");
    String key = UUID.randomUUID().toString();
    int[] ports = freePorts(5);
    JsonObject conn = new JsonObject();
    conn.addProperty("transport", "tcp");
    conn.addProperty("ip", "127.0.0.1");
    conn.addProperty("shell_port", ports[0]);
    conn.addProperty("iopub_port", ports[1]);
    conn.addProperty("stdin_port", ports[2]);
    conn.addProperty("control_port", ports[3]);
    conn.addProperty("hb_port", ports[4]);
    conn.addProperty("signature_scheme", "hmac-sha256");
    conn.addProperty("key", key);
    Files.writeString(connection, GSON.toJson(conn));
    List<String> argv = new ArrayList<>();
    for (String a : template) {
      argv.add(a.replace("{connection_file}", connection.toString()).replace("{resource_dir}", spec.toAbsolutePath().toString()));
    }
    try (ZContext ctx = new ZContext(); Client c = new Client(ctx, ports, key)) {
      long t0 = System.nanoTime();
      Process kernel = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(dir.resolve("kernel.log").toFile()).start();
      try {
        String infoId = c.send("kernel_info_request", new JsonObject());
        c.awaitReply(infoId);
        long tInfo = System.nanoTime();
        String loadCell = "var model = Kiln.load(\"" + model + "\");";
        c.execute(loadCell, true);
        long tFirst = System.nanoTime();
        double[] round = new double[cells];
        for (int i = 0; i < cells; i++) {
          long s = System.nanoTime();
          c.execute("1 + " + i, true);
          round[i] = (System.nanoTime() - s) / 1e6;
        }
        long s = System.nanoTime();
        c.execute(loadCell, true);
        double warmKiln = (System.nanoTime() - s) / 1e6;
        String compareCell = "Kiln.compare(model).runs(10).run()";
        s = System.nanoTime();
        c.execute(compareCell, true);
        double compare = (System.nanoTime() - s) / 1e9;
        s = System.nanoTime();
        c.execute(compareCell, true);
        double compare2 = (System.nanoTime() - s) / 1e9;
        String shutdown = c.sendControl("shutdown_request", json("restart", false));
        c.awaitControlReply(shutdown);
        return new double[] {(tInfo - t0) / 1e9, (tFirst - tInfo) / 1e9, median(round), warmKiln, compare, compare2};
      } finally {
        if (!kernel.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) kernel.destroyForcibly();
        deleteTree(dir);
      }
    }
  }

  private static void deleteTree(Path dir) {
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a leftover temporary folder is harmless
    }
  }

  /**
   * Runs the kernel once with {@code -XX:ArchiveClassesAtExit=archive} (instead of any
   * SharedArchiveFile flag) through a typical session, so the archive holds the classes a
   * session loads: JShell and javac, ZeroMQ, the Kiln API. Used by install-kernelspec.sh.
   */
  private static void train(Path spec, List<String> template, Path model, Path archive) throws Exception {
    List<String> argv = new ArrayList<>();
    for (String a : template) {
      if (a.startsWith("-XX:SharedArchiveFile=") || a.startsWith("-Xshare:")) continue;
      argv.add(a);
      if (argv.size() == 1) argv.add("-XX:ArchiveClassesAtExit=" + archive.toAbsolutePath());
    }
    Files.deleteIfExists(archive);
    Path dir = Files.createTempDirectory("kiln-cds");
    Path connection = dir.resolve("connection.json");
    String key = UUID.randomUUID().toString();
    int[] ports = freePorts(5);
    JsonObject conn = new JsonObject();
    conn.addProperty("transport", "tcp");
    conn.addProperty("ip", "127.0.0.1");
    conn.addProperty("shell_port", ports[0]);
    conn.addProperty("iopub_port", ports[1]);
    conn.addProperty("stdin_port", ports[2]);
    conn.addProperty("control_port", ports[3]);
    conn.addProperty("hb_port", ports[4]);
    conn.addProperty("signature_scheme", "hmac-sha256");
    conn.addProperty("key", key);
    Files.writeString(connection, GSON.toJson(conn));
    List<String> cmd = new ArrayList<>();
    for (String a : argv) cmd.add(a.replace("{connection_file}", connection.toString()).replace("{resource_dir}", spec.toAbsolutePath().toString()));
    try (ZContext ctx = new ZContext(); Client c = new Client(ctx, ports, key)) {
      Process kernel = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("kernel.log").toFile()).start();
      try {
        c.awaitReply(c.send("kernel_info_request", new JsonObject()));
        c.execute("1 + 1", true);
        if (Files.exists(model)) {
          c.execute("var model = Kiln.load(\"" + model + "\");", true);
          c.execute("model.inputs()", true);
        }
        c.execute("System.out.println(List.of(1, 2));", true);
        c.execute("int wrong = \"text\";", false);
        c.execute("throw new IllegalStateException(\"training\");", false);
        c.execute("%lsmagic", true);
        JsonObject complete = new JsonObject();
        complete.addProperty("code", "Kiln.lo");
        complete.addProperty("cursor_pos", 7);
        c.awaitReply(c.send("complete_request", complete));
        JsonObject inspect = new JsonObject();
        inspect.addProperty("code", "Kiln.load");
        inspect.addProperty("cursor_pos", 7);
        inspect.addProperty("detail_level", 0);
        c.awaitReply(c.send("inspect_request", inspect));
        c.awaitControlReply(c.sendControl("shutdown_request", json("restart", false)));
      } finally {
        if (!kernel.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) kernel.destroyForcibly();
      }
      if (Files.exists(archive)) {
        System.out.println("class archive " + archive + " written, " + Files.size(archive) / 1024 + " KiB");
        deleteTree(dir);
      } else {
        System.out.println("class archive " + archive + " NOT written; see " + dir.resolve("kernel.log"));
      }
    }
  }

  @SuppressWarnings("deprecation") // gson 2.8.5, basekernel's, has no static JsonParser.parseString
  private static JsonElement parseJson(String s) {
    return new JsonParser().parse(s);
  }

  private static JsonObject json(String k, boolean v) {
    JsonObject o = new JsonObject();
    o.addProperty(k, v);
    return o;
  }

  private static int[] freePorts(int n) throws IOException {
    int[] ports = new int[n];
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket(0);
        held.add(s);
        ports[i] = s.getLocalPort();
      }
    } finally {
      for (ServerSocket s : held) s.close();
    }
    return ports;
  }

  private static double[] sum(double[] a, double[] b) {
    double[] s = new double[a.length];
    for (int i = 0; i < a.length; i++) s[i] = a[i] + b[i];
    return s;
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  /** The smallest Jupyter client: signed messages on shell and control, iopub read to idle. */
  private static final class Client implements AutoCloseable {
    private final ZMQ.Socket shell;
    private final ZMQ.Socket control;
    private final ZMQ.Socket iopub;
    private final Mac mac;
    private final String session = UUID.randomUUID().toString();

    Client(ZContext ctx, int[] ports, String key) throws Exception {
      shell = ctx.createSocket(SocketType.DEALER);
      shell.connect("tcp://127.0.0.1:" + ports[0]);
      iopub = ctx.createSocket(SocketType.SUB);
      iopub.subscribe(new byte[0]);
      iopub.connect("tcp://127.0.0.1:" + ports[1]);
      control = ctx.createSocket(SocketType.DEALER);
      control.connect("tcp://127.0.0.1:" + ports[3]);
      mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    }

    String send(String type, JsonObject content) { return send(shell, type, content); }

    String sendControl(String type, JsonObject content) { return send(control, type, content); }

    private String send(ZMQ.Socket socket, String type, JsonObject content) {
      String id = UUID.randomUUID().toString();
      JsonObject header = new JsonObject();
      header.addProperty("msg_id", id);
      header.addProperty("username", "bench");
      header.addProperty("session", session);
      header.addProperty("date", Instant.now().toString());
      header.addProperty("msg_type", type);
      header.addProperty("version", "5.3");
      String[] parts = {GSON.toJson(header), "{}", "{}", GSON.toJson(content)};
      byte[][] frames = new byte[parts.length][];
      for (int i = 0; i < parts.length; i++) frames[i] = parts[i].getBytes(StandardCharsets.UTF_8);
      String sig;
      synchronized (mac) {
        for (byte[] f : frames) mac.update(f);
        sig = HexFormat.of().formatHex(mac.doFinal());
      }
      socket.sendMore("<IDS|MSG>");
      socket.sendMore(sig);
      for (int i = 0; i < frames.length; i++) {
        if (i < frames.length - 1) socket.sendMore(frames[i]);
        else socket.send(frames[i]);
      }
      return id;
    }

    /** The parent msg_id, msg_type and content of the next message on {@code socket}, or null on timeout. */
    private static JsonObject[] read(ZMQ.Socket socket, long deadline) {
      int left = (int) Math.max(1, deadline - System.currentTimeMillis());
      socket.setReceiveTimeOut(left);
      List<byte[]> frames = new ArrayList<>();
      byte[] f = socket.recv();
      if (f == null) return null;
      frames.add(f);
      while (socket.hasReceiveMore()) frames.add(socket.recv());
      int delim = 0;
      while (!new String(frames.get(delim), StandardCharsets.UTF_8).equals("<IDS|MSG>")) delim++;
      JsonObject header = parseJson(new String(frames.get(delim + 2), StandardCharsets.UTF_8)).getAsJsonObject();
      JsonElement parent = parseJson(new String(frames.get(delim + 3), StandardCharsets.UTF_8));
      JsonObject content = parseJson(new String(frames.get(delim + 5), StandardCharsets.UTF_8)).getAsJsonObject();
      return new JsonObject[] {header, parent.isJsonObject() ? parent.getAsJsonObject() : new JsonObject(), content};
    }

    JsonObject awaitReply(String id) { return await(shell, id); }

    JsonObject awaitControlReply(String id) { return await(control, id); }

    private static JsonObject await(ZMQ.Socket socket, String id) {
      long deadline = System.currentTimeMillis() + TIMEOUT_MS;
      while (true) {
        JsonObject[] m = read(socket, deadline);
        if (m == null) throw new IllegalStateException("no reply to " + id + " within " + TIMEOUT_MS + " ms");
        if (m[1].has("msg_id") && m[1].get("msg_id").getAsString().equals(id)) return m[2];
      }
    }

    /** Runs a cell; returns when its reply and its idle status have both arrived. */
    void execute(String code, boolean mustSucceed) {
      JsonObject content = new JsonObject();
      content.addProperty("code", code);
      content.addProperty("silent", false);
      content.addProperty("store_history", true);
      content.add("user_expressions", new JsonObject());
      content.addProperty("allow_stdin", false);
      content.addProperty("stop_on_error", true);
      String id = send("execute_request", content);
      JsonObject reply = awaitReply(id);
      if (mustSucceed && !"ok".equals(reply.get("status").getAsString())) {
        JsonArray tb = reply.has("traceback") ? reply.getAsJsonArray("traceback") : new JsonArray();
        throw new IllegalStateException("cell failed: " + code + "\n" + tb);
      }
      long deadline = System.currentTimeMillis() + TIMEOUT_MS;
      while (true) {
        JsonObject[] m = read(iopub, deadline);
        if (m == null) throw new IllegalStateException("no idle for " + id);
        boolean mine = m[1].has("msg_id") && m[1].get("msg_id").getAsString().equals(id);
        if (mine && m[0].get("msg_type").getAsString().equals("status")
            && m[2].get("execution_state").getAsString().equals("idle")) return;
      }
    }

    @Override public void close() {
      shell.close();
      control.close();
      iopub.close();
    }
  }
}
