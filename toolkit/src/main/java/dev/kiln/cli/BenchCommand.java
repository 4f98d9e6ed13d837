package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.api.Build;
import dev.kiln.api.Device;
import dev.kiln.api.DeviceSession;
import dev.kiln.api.Executor;
import dev.kiln.api.ModelExecutor;
import dev.kiln.api.HostModel;
import dev.kiln.api.Kiln;
import dev.kiln.api.Model;
import dev.kiln.api.Tensor;
import dev.kiln.project.FolderWriter;
import dev.kiln.project.SectionSizes;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {"Prints, per model: compile time (cold process, warm in-JVM), flash (text+data of the compiled",
        "library), arena vs its lower bound, and host inference time of Kiln's C (gcc -O2) next to TensorFlow",
        "Lite's reference and optimized kernels (.tflite) or onnxruntime (.onnx), 1 thread, measured in the same run,",
        "with ratios. Figures only: nothing is asserted."})
final class BenchCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;

  @Parameters(paramLabel = "MODEL", arity = "0..*", description = "Model files (default: every .tflite and .onnx under --models).")
  List<Path> models = new ArrayList<>();

  @Option(names = "--models", paramLabel = "DIR", description = "Folder of model folders with manifest.json (default: ../shared/models beside the Kiln checkout).")
  Path modelsDir;

  @Option(names = "--runs", defaultValue = "200", description = "Timed inference runs per engine (default: ${DEFAULT-VALUE}).")
  int runs;

  @Option(names = "--no-peers", description = "Skip the TensorFlow Lite and onnxruntime timings.")
  boolean noPeers;

  @Option(names = "--no-device", description = "Skip the on-device timing over RPC (host device process).")
  boolean noDevice;

  @Option(names = "--device", defaultValue = "host", paramLabel = "DEVICE", description = "host (the table above), or "
      + "qemu:BOARD[,tcp] (e.g. qemu:mps2-an386): per model the firmware's flash and RAM, instructions per inference "
      + "(QEMU -icount, exact), and the UART link's throughput both ways (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(names = "--link", description = "Also print the RPC link figures: stdio throughput copying 1 MiB each way and empty-call latency, each beside a raw pipe ping-pong of the same message sizes (a small C program, built with gcc) measured in the same run, with the ratio; session open time.")
  boolean link;

  @Option(names = "--link-pin", defaultValue = "none", paramLabel = "PIN", description = "Where --link runs its processes: "
      + "same (the JVM, the device program and the raw ping-pong on one CPU), split (the JVM on one CPU, the children on "
      + "another) or none (the scheduler decides; a raw pipe's figures may then be bimodal). Pinning steadies a quiet "
      + "machine; on a loaded one a pinned process waits for its CPU while the other idles. Needs taskset "
      + "(default: ${DEFAULT-VALUE}).")
  String linkPin;

  /** One line per model: the host device program's flash and RAM from its ELF, with the stack high-water. */
  private final List<String> memories = new ArrayList<>();

  @Override public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (!device.equals("host")) return boardBench(out, RunCommand.parseDevice(device));
    if (link) {
      out.flush();
      dev.kiln.rpc.RpcBench.main(new String[] {"5000", linkPin}); // each figure beside the raw pipe ping-pong, with its ratio
      System.out.flush();
    }
    List<Path> files = models.isEmpty() ? discover() : models;
    Path work = Files.createTempDirectory("kiln-bench-");
    Path script = extract("/dev/kiln/bench/tflite_timing.py", work);
    Path onnxScript = extract("/dev/kiln/bench/onnx_timing.py", work);
    try {
      out.println("Kiln bench: " + files.size() + " model(s), " + runs + " timed runs each, 1 thread; medians unless noted");
      out.printf(Locale.ROOT, "%-26s %8s %8s %9s %8s %8s %6s %8s %8s %8s %10s %8s %10s %10s %6s %6s %8s %6s%n", "model", "cold ms",
          "warm ms", "flash B", "arena B", "bound B", "x bnd", "+io B", "mf-peak", "mf-grdy", "kiln us", "dev us", "tfl-ref us",
          "tfl-opt us", "k/ref", "k/opt", "ort us", "k/ort");
      List<String> layouts = new ArrayList<>();
      List<String> folding = new ArrayList<>();
      for (Path f : files) {
        try {
          folding.add(folding(f));
          boolean onnx = f.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx");
          out.println(row(f, work.resolve(f.getFileName().toString()), onnx ? onnxScript : script, onnx));
          if (onnx) layouts.add(layout(f));
        } catch (RuntimeException | IOException e) {
          out.printf("%-26s error: %s%n", name(f), e.getMessage());
        }
        out.flush();
      }
      out.println("cold: a new JVM running `kiln compile` (load, compile, write); warm: the same in this JVM after warm-up.");
      out.println("kiln us: the AoT C interface in a gcc -O2 host program, timed around each call; dev us: the AoT executor on the host");
      out.println("device process, timed by the device itself (runtime.RPCTimeEvaluator, median of 10 rounds).");
      out.println("flash: text+data of the generated library compiled with gcc -O2 (size -B); arena: the static workspace (I/O in the caller's");
      out.println("buffers, scratch included); bound: most bytes live at one op; +io: the same planner with inputs and outputs in the arena,");
      out.println("to set beside the manifests' liveness lower bound (mf-peak) and TFLM-style greedy plan (mf-grdy), which count I/O and no scratch.");
      out.println("ort us: onnxruntime CPU, ORT_ENABLE_ALL, 1 thread (bench/onnx_timing.py), the reference engine of the .onnx models.");
      for (String line : folding) out.println(line);
      for (String line : layouts) out.println(line);
      for (String line : memories) out.println(line);
    } finally {
      FolderWriter.deleteTree(work);
    }
    return 0;
  }

  /**
   * Per model on a QEMU board: firmware flash and RAM (AoT executor), instructions per inference
   * for the AoT and graph executors (Timing.instructions(): exact, calibrated), and the link
   * measured with 16 KiB copies to and from a device array (none on the micro:bit, whose runtime
   * aligns device arrays to 16 bytes); a model whose AoT firmware does not fit the board gets one
   * line saying what it needs.
   */
  private Integer boardBench(PrintWriter out, Device board) throws IOException, InterruptedException {
    if (board.kind() != Device.Kind.QEMU) throw new dev.kiln.api.KilnException("kiln bench --device takes host or qemu:BOARD, not " + device);
    List<Path> files = models.isEmpty() ? discover() : models;
    out.println("Kiln bench on " + board + ": " + files.size() + " model(s); instructions are QEMU -icount counts per inference");
    out.printf(Locale.ROOT, "%-20s %11s %10s %13s %13s %12s %12s%n", "model", "flash B", "RAM B", "aot instr", "graph instr",
        "up KiB/s", "down KiB/s");
    List<String> notes = new ArrayList<>();
    String linkNote = null;
    for (Path f : files) {
      try {
        Model m = Kiln.load(f);
        List<Tensor> values = new ArrayList<>();
        for (Path p : sampleInputs(f, m)) values.add(Tensor.load(p));
        String[] instr = {"-", "-"};
        dev.kiln.project.ProgramMemory memory = null;
        long aot = -1;
        double[] link = {Double.NaN, Double.NaN};
        String flash = "-";
        String ram = "-";
        int k = 0;
        for (Executor ex : List.of(Executor.aot(), Executor.graph())) {
          Build b = m.build(ex);
          DeviceSession session;
          try {
            session = b.flash(board);
          } catch (dev.kiln.api.KilnException e) {
            // a firmware too large for the board: one line with what it needs (the AoT one is the smaller)
            if (!(e.getCause() instanceof dev.kiln.project.ProgramTooLargeException t)) throw e;
            if (k == 0) throw new TooLarge(t.size().shortfall());
            notes.add(name(f) + " (graph executor): " + t.size().shortfall() + "; graph instr: -");
            k++;
            continue;
          }
          try (session) {
            if (k == 0) {
              var size = session.program().size();
              flash = Long.toString(size.flash());
              ram = Long.toString(size.ram());
            }
            ModelExecutor exec = session.executor();
            for (int i = 0; i < values.size(); i++) exec.setInput(i, values.get(i));
            long n = session.timeEvaluator().instructions();
            instr[k] = String.format(Locale.ROOT, "%,d", n);
            if (k == 0) {
              aot = n;
              memory = session.memory(); // after the runs, so the stack high-water includes the deepest kernel
              try {
                link = linkKiBps(session);
              } catch (IOException | RuntimeException e) {
                // the micro:bit's runtime aligns to at most 16 bytes and DevAllocData asks 64: no link figures
                linkNote = "link figures: " + e.getMessage();
              }
            }
          }
          k++;
        }
        out.printf(Locale.ROOT, "%-20s %11s %10s %13s %13s %12s %12s%n", name(f), flash, ram, instr[0], instr[1], kibps(link[0]),
            kibps(link[1]));
        if (memory != null) kernelRows.add(kernelRow(board, name(f), aot, memory, m.build(Executor.aot()).arenaBytes()));
      } catch (TooLarge e) {
        out.printf("%-20s %s%n", name(f), e.getMessage());
      } catch (RuntimeException e) {
        out.printf("%-20s error: %s%n", name(f), e.getMessage());
      }
      out.flush();
    }
    for (String note : notes) out.println(note);
    if (linkNote != null) out.println("up/down: - (" + linkNote + ")");
    out.printf(Locale.ROOT, "%n%-20s %13s %13s %7s %13s %7s %11s %11s %9s %9s %8s%n", "model (AoT)", "aot instr", "CMSIS-NN", "ratio",
        "at start", "/start", "model code", "weights", "params", "arena", "stack");
    for (String row : kernelRows) out.println(row);
    out.println("CMSIS-NN: TFLite Micro with Arm's CMSIS-NN kernels on the same emulated Cortex-M4F (QEMU 7.2 -icount shift=0), as");
    out.println("measured for issue 12 (not built here); ratio = aot instr / CMSIS-NN. at start: Kiln's aot instr on this board at");
    out.println("97ba432, the commit before issue 12's first change, measured the same way; /start = aot instr / at start (issue 12:");
    out.println("no model slower than then on the Cortex-M0/M3, which have no DSP extension). model code: the operators, kernels and");
    out.println("system library in the linked firmware (--gc-sections); params: operator parameters (structs and requantization tables);");
    out.println("arena: the model's static workspace; stack: the firmware's stack high-water after the runs (RPC server included).");
    out.println("flash: text+data of the firmware ELF (runtime, executors, model, platform, libc); RAM: data+bss (the runtime's");
    out.println("buffers and device memory, the model's arena; the stack is extra). instr: Timing.instructions(), run() of the executor");
    out.println("as the host calls it, the same number in every boot. up/down: 16 KiB copied to/from a device array over the UART");
    out.println("(RPC framing included; the raw CMSDK UART moves 11-28 KiB/s up and 230-1050 KiB/s down: shared/docs/qemu-cortex-m.md §7).");
    try {
      out.printf(Locale.ROOT, "raw UART echo on %s: %.1f KiB/s (16 KiB sent and echoed back byte by byte by a firmware without the runtime)%n",
          board, rawEchoKiBps(board));
    } catch (IOException | RuntimeException e) {
      out.println("raw UART echo on " + board + ": error: " + e.getMessage());
    }
    return 0;
  }

  /** Instructions per inference of TFLite Micro + CMSIS-NN on mps2-an386 (issue 12's table), by model folder name. */
  private static final java.util.Map<String, Long> CMSIS_NN_M4 = java.util.Map.of(
      "mlperf_kws_int8", 7_697_440L, "mlperf_vww_int8", 24_101_960L, "mlperf_ic_int8", 29_864_320L, "mlperf_ad_int8", 583_000L);

  /**
   * Kiln's AoT instructions per inference at 97ba432 (the commit before issue 12's first change),
   * by platform and model folder name, for the shared models that fit each board: measured there with
   * the same Timing.instructions() (mps2-an386's MLPerf figures are the README's "Kiln before").
   */
  private static final java.util.Map<String, java.util.Map<String, Long>> AT_START = java.util.Map.of(
      "qemu-microbit", java.util.Map.of("digits_cnn_int8", 539_174L, "digits_cnn_float", 4_720_203L,
          "onnx_digits_cnn", 4_729_712L),
      "qemu-mps2-an385", java.util.Map.of("digits_cnn_int8", 283_315L, "digits_cnn_float", 2_209_153L,
          "onnx_digits_cnn", 2_216_366L, "mlperf_kws_int8", 25_340_012L, "mlperf_vww_int8", 74_371_505L,
          "mlperf_ic_int8", 88_695_443L, "mlperf_ad_int8", 1_844_233L),
      "qemu-mps2-an386", java.util.Map.of("digits_cnn_int8", 285_296L, "digits_cnn_float", 172_705L,
          "onnx_digits_cnn", 172_729L, "mlperf_kws_int8", 25_213_351L, "mlperf_vww_int8", 74_236_602L,
          "mlperf_ic_int8", 89_021_786L, "mlperf_ad_int8", 1_848_767L));

  private final List<String> kernelRows = new ArrayList<>();

  private String kernelRow(Device board, String model, long instructions, dev.kiln.project.ProgramMemory m, int arena) {
    Long cmsis = device.startsWith("qemu:mps2-an386") ? CMSIS_NN_M4.get(model) : null;
    Long start = AT_START.getOrDefault(board.platformName(), java.util.Map.of()).get(model);
    return String.format(Locale.ROOT, "%-20s %,13d %13s %7s %13s %7s %,11d %,11d %,9d %,9d %8s", model, instructions,
        cmsis == null ? "-" : String.format(Locale.ROOT, "%,d", cmsis),
        cmsis == null ? "-" : String.format(Locale.ROOT, "%.2f", instructions / (double) cmsis),
        start == null ? "-" : String.format(Locale.ROOT, "%,d", start),
        start == null ? "-" : String.format(Locale.ROOT, "%.2f", instructions / (double) start),
        m.modelCode(), m.weights(), m.operatorParameters(), arena,
        m.stackHighWater().isPresent() ? String.format(Locale.ROOT, "%,d", m.stackHighWater().getAsLong()) : "-");
  }

  /**
   * The UART's own rate on a QEMU board: a firmware built with KILN_MCU_RAW_ECHO (platform/mcu: every
   * byte received is sent back, no runtime, no framing) is booted like a session's, probed until it
   * echoes (the start-up race of qemu-cortex-m.md §8), then 16 KiB go out while a thread reads the echo.
   */
  private static double rawEchoKiBps(Device board) throws IOException, InterruptedException {
    dev.kiln.project.Platform platform = dev.kiln.project.Platform.named(board.platformName());
    dev.kiln.project.DeviceProgram echo = dev.kiln.project.DeviceProgram.build(List.of(), new dev.kiln.project.DeviceProgram.Sizes(
        platform.packetBytes(), 1024), platform, List.of("KILN_MCU_RAW_ECHO", "KILN_QEMU_ICOUNT_SHIFT=" + board.icountShift()),
        dev.kiln.project.DeviceProgram.defaultCache());
    try (dev.kiln.transport.Transport link = dev.kiln.transport.QemuTransport.start(DeviceSession.qemuCommand(echo, board),
        board.isTcp() ? dev.kiln.transport.QemuTransport.Link.TCP : dev.kiln.transport.QemuTransport.Link.PTY)) {
      byte[] one = new byte[1];
      link.timeout().readTimeout(java.time.Duration.ofMillis(100));
      boolean up = false;
      for (int i = 0; i < 100 && !up; i++) {
        link.write(new byte[] {0x55});
        link.flush();
        try {
          up = link.read(one, 0, 1) == 1;
        } catch (dev.kiln.transport.LinkTimeoutException e) {
          // not polling its UART yet
        }
      }
      if (!up) throw new IOException("the echo firmware did not answer within 10 s");
      Thread.sleep(200);
      drain(link);
      byte[] data = new byte[16 << 10];
      new java.util.Random(2).nextBytes(data);
      byte[] back = new byte[data.length];
      link.timeout().readTimeout(java.time.Duration.ofSeconds(10));
      long t0 = System.nanoTime();
      Thread writer = new Thread(() -> {
        try {
          for (int off = 0; off < data.length; off += 256) {
            link.write(data, off, 256);
            link.flush();
          }
        } catch (IOException e) {
          // the reader times out and says so
        }
      }, "kiln-echo-writer");
      writer.setDaemon(true);
      writer.start();
      int got = 0;
      while (got < back.length) got += link.read(back, got, back.length - got);
      long t1 = System.nanoTime();
      writer.join(1000);
      if (!Arrays.equals(back, data)) throw new IOException("the echo came back different");
      return data.length / 1024.0 / ((t1 - t0) / 1e9);
    }
  }

  private static void drain(dev.kiln.transport.Transport link) throws IOException {
    byte[] b = new byte[256];
    link.timeout().readTimeout(java.time.Duration.ofMillis(100));
    try {
      while (true) link.read(b, 0, b.length);
    } catch (dev.kiln.transport.LinkTimeoutException e) {
      // nothing more
    }
  }

  private static String kibps(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f", v);
  }

  /** A model whose AoT firmware does not fit the board: the message is the one-line shortfall. */
  private static final class TooLarge extends RuntimeException {
    TooLarge(String message) { super(message, null, false, false); }
  }

  private static double[] linkKiBps(DeviceSession session) throws IOException {
    byte[] data = new byte[16 << 10];
    new java.util.Random(1).nextBytes(data);
    var rpc = session.session().rpc();
    try (var a = rpc.empty(new long[] {data.length}, dev.kiln.rpc.DataType.UINT8)) {
      long t0 = System.nanoTime();
      a.copyFrom(data);
      long t1 = System.nanoTime();
      byte[] back = a.toByteArray();
      long t2 = System.nanoTime();
      if (!Arrays.equals(back, data)) throw new IOException("the 16 KiB copy came back different");
      return new double[] {data.length / 1024.0 / ((t1 - t0) / 1e9), data.length / 1024.0 / ((t2 - t1) / 1e9)};
    }
  }

  /** "ops <model>: N operators, K folded at compile time, M run on the device". */
  private static String folding(Path model) {
    var c = Kiln.load(model).build(CompileCommand.standaloneAot("default")).compiled();
    // family: control flow (ctrl-flow): the operators of the subgraphs WHILE/IF/CALL_ONCE run, counted apart
    int inSubgraphs = c.graph().opsWithSubgraphs().size() - c.graph().ops().size();
    return String.format(Locale.ROOT, "ops %s: %d operators, %d folded at compile time, %d run on the device", name(model),
        c.sourceOps(), c.foldedOps(), c.graph().ops().size())
        + (inSubgraphs > 0 ? String.format(Locale.ROOT, " (+%d in the subgraphs control flow runs)", inSubgraphs) : "");
  }

  /** "layout <model>: NCHW in/out, N TRANSPOSE op(s) of M ops (k bytes moved per inference)". */
  private static String layout(Path model) {
    Model m = Kiln.load(model);
    long moved = 0;
    int transposes = 0;
    for (var op : m.ops()) {
      if (op.type() == dev.kiln.ir.OpType.TRANSPOSE) {
        transposes++;
        moved += op.output().byteSize();
      }
    }
    return String.format(Locale.ROOT, "layout %s: NHWC inside, NCHW at the boundary: %d TRANSPOSE op(s) of %d ops, %d bytes moved per"
        + " inference", name(model), transposes, m.ops().size(), moved);
  }

  private String row(Path model, Path work, Path script, boolean onnx) throws Exception {
    Files.createDirectories(work);
    double cold = coldCompileMillis(model, work.resolve("cold"));
    double warm = warmCompileMillis(model, work.resolve("warm"));
    Build build = Kiln.load(model).build(CompileCommand.standaloneAot("default"));
    Path lib = build.exportTo(work.resolve("lib"));
    SectionSizes sizes = SectionSizes.measure(lib, work.resolve("size"));
    HostModel host = build.compileForHost(work.resolve("host"));
    List<Path> inputs = sampleInputs(model, build.model());
    List<Tensor> values = new ArrayList<>();
    for (Path p : inputs) values.add(Tensor.load(p));
    long[] t = host.time(values, runs);
    double kiln = median(t) / 1000.0;
    String device = "-";
    if (!noDevice) {
      try (DeviceSession session = build.model().build(Executor.aot()).flash(Device.host())) {
        ModelExecutor ex = session.executor();
        for (int i = 0; i < values.size(); i++) ex.setInput(i, values.get(i));
        device = fmt(session.timeEvaluator().number(Math.max(1, runs / 10)).repeat(10).measure().medianMicros());
        memories.add("memory " + name(model) + " (host device program, AoT): " + session.memory().summary());
      }
    }
    String ref = "-";
    String opt = "-";
    String rRef = "-";
    String rOpt = "-";
    String ort = "-";
    String rOrt = "-";
    if (!noPeers && onnx) {
      JsonNode peers = peerTimes(script, model, inputs);
      if (peers.has("onnxruntime")) {
        double o = peers.get("onnxruntime").get("median_us").asDouble();
        ort = fmt(o);
        rOrt = String.format(Locale.ROOT, "%.2f", kiln / o);
      } else {
        ort = peers.path("error").asText("n/a");
      }
    } else if (!noPeers) {
      JsonNode peers = peerTimes(script, model, inputs);
      if (peers.has("reference")) {
        double r = peers.get("reference").get("median_us").asDouble();
        double o = peers.get("optimized").get("median_us").asDouble();
        ref = fmt(r);
        opt = fmt(o);
        rRef = String.format(Locale.ROOT, "%.2f", kiln / r);
        rOpt = String.format(Locale.ROOT, "%.2f", kiln / o);
      } else {
        ref = "n/a";
        opt = peers.path("error").asText("n/a");
      }
    }
    var plan = build.memoryPlan();
    JsonNode manifest = manifest(model);
    String peak = manifest.path("tensors").path("peak_live_activation_bytes").asText("-");
    String greedy = manifest.path("tensors").path("greedy_arena_bytes").asText("-");
    return String.format(Locale.ROOT, "%-26s %8.0f %8.1f %9d %8d %8d %6.3f %8d %8s %8s %10s %8s %10s %10s %6s %6s %8s %6s", name(model),
        cold, warm, sizes.flash(), plan.arenaBytes(), plan.lowerBoundBytes(), plan.ratioToLowerBound(),
        build.compiled().memoryPlanWithIo().arenaBytes(), peak, greedy, fmt(kiln), device, ref, opt, rRef, rOpt, ort, rOrt);
  }

  private static JsonNode manifest(Path model) {
    Path m = model.toAbsolutePath().getParent().resolve("manifest.json");
    try {
      return Files.exists(m) ? JSON.readTree(m.toFile()) : JSON.createObjectNode();
    } catch (IOException e) {
      return JSON.createObjectNode();
    }
  }

  private static String fmt(double us) { return String.format(Locale.ROOT, us < 100 ? "%.2f" : "%.0f", us); }

  private static String name(Path model) {
    Path parent = model.toAbsolutePath().getParent();
    return Files.exists(parent.resolve("manifest.json")) ? parent.getFileName().toString() : model.getFileName().toString();
  }

  private static double warmCompileMillis(Path model, Path work) {
    long[] t = new long[7];
    for (int i = 0; i < t.length; i++) {
      long s = System.nanoTime();
      Kiln.load(model).build(CompileCommand.standaloneAot("default")).exportTo(work.resolve("r" + i));
      t[i] = System.nanoTime() - s;
    }
    return median(Arrays.copyOfRange(t, 2, t.length)) / 1e6;
  }

  private static double coldCompileMillis(Path model, Path work) throws IOException, InterruptedException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = List.of(java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "compile", model.toString(), "--executor", "aot", "--interface-api", "c", "--unpacked-api",
        "-o", work.toString());
    long s = System.nanoTime();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("cold compile timed out after 120 s");
    }
    if (p.exitValue() != 0) throw new IOException("cold compile exited " + p.exitValue());
    return (System.nanoTime() - s) / 1e6;
  }

  private JsonNode peerTimes(Path script, Path model, List<Path> inputs) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("python3", script.toString(), model.toString()));
    for (Path p : inputs) cmd.add(p.toString());
    cmd.addAll(List.of("--runs", Integer.toString(runs)));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    byte[] bytes = p.getInputStream().readAllBytes();
    if (!p.waitFor(600, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return JSON.createObjectNode().put("error", "timed out");
    }
    String text = new String(bytes, StandardCharsets.UTF_8).trim();
    String last = text.isEmpty() ? "{}" : text.substring(text.lastIndexOf('\n') + 1);
    try {
      return JSON.readTree(last);
    } catch (IOException e) {
      return JSON.createObjectNode().put("error", "python3 exited " + p.exitValue());
    }
  }

  private static List<Path> sampleInputs(Path model, Model m) {
    Path dir = model.toAbsolutePath().getParent();
    List<Path> in = new ArrayList<>();
    for (int i = 0; i < m.inputs().size(); i++) {
      Path p = dir.resolve("sample0_in" + i + ".npy");
      if (!Files.exists(p)) throw new dev.kiln.api.KilnException("no " + p.getFileName() + " beside " + model + " to time with");
      in.add(p);
    }
    return in;
  }

  private List<Path> discover() throws IOException {
    Path dir = modelsDir;
    if (dir == null) {
      Path jar = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().getPath()).toAbsolutePath();
      // .../<checkout>/toolkit/target/<jar or classes> -> .../shared/models
      Path checkout = jar.getParent().getParent().getParent();
      dir = checkout.resolveSibling("shared").resolve("models");
      if (!Files.isDirectory(dir)) dir = Path.of("../shared/models");
    }
    if (!Files.isDirectory(dir)) throw new dev.kiln.api.KilnException("no models folder at " + dir + "; give --models DIR or model files");
    List<Path> files = new ArrayList<>();
    try (Stream<Path> s = Files.walk(dir, 2)) {
      s.filter(p -> p.toString().endsWith(".tflite") || p.toString().endsWith(".onnx")).sorted().forEach(files::add);
    }
    return files;
  }

  private static Path extract(String resource, Path dir) throws IOException {
    Path target = dir.resolve(Path.of(resource).getFileName().toString());
    try (InputStream in = BenchCommand.class.getResourceAsStream(resource)) {
      if (in == null) throw new IOException("missing resource " + resource);
      Files.copy(in, target);
    }
    return target;
  }

  static double median(long[] values) {
    long[] v = values.clone();
    Arrays.sort(v);
    return v.length == 0 ? Double.NaN : v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2.0;
  }
}
