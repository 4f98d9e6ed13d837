package dev.kiln.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.api.Device;
import dev.kiln.api.DeviceSession;
import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnDeviceException;
import dev.kiln.api.KilnException;
import dev.kiln.api.Model;
import dev.kiln.api.ModelExecutor;
import dev.kiln.api.Tensor;
import dev.kiln.api.TensorInfo;
import dev.kiln.api.Timing;
import dev.kiln.rpc.RemoteModule;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Models run on emulated boards through the public API, exactly as on {@code Device.host()}: the
 * firmware (runtime + executors + the model's device library + platform/qemu-*) is built with the
 * board's cross compiler, QEMU boots it, and the host drives it over the UART — QEMU's
 * pseudo-terminal opened with jSerialComm, or a TCP socket. Outputs are compared with TFLite's
 * reference kernels / onnxruntime: int8 bit-exact, float32 within 1e-5 * (|ref| + max|ref|).
 */
class QemuDeviceTest {
  static final Device AN386 = Device.qemu("mps2-an386");
  static final List<Executor> EXECUTORS = List.of(Executor.graph(), Executor.aot(), Executor.aot().interfaceApi("c").unpackedApi(true));
  private static final Map<Path, Model> MODELS = new ConcurrentHashMap<>();

  @BeforeAll static void needsQemu() {
    assumeTrue(onPath("qemu-system-arm") && onPath("arm-none-eabi-gcc"),
        "qemu-system-arm or arm-none-eabi-gcc is not installed (./install adds qemu-system-arm and gcc-arm-none-eabi)");
  }

  static Model model(Case c) {
    return MODELS.computeIfAbsent(c.modelFile(), f -> Kiln.load(f, c.loadOptions()));
  }

  /** Every shared model x graph / AoT packed / AoT C unpacked; the link and the input names alternate. */
  static Stream<Arguments> sharedModels() {
    List<Arguments> out = new ArrayList<>();
    List<Case> cases = new ArrayList<>(ReferenceModels.shared("tflite"));
    cases.addAll(ReferenceModels.shared("onnx"));
    int k = 0;
    for (Case c : cases) {
      for (int e = 0; e < EXECUTORS.size(); e++) out.add(Arguments.of(c, EXECUTORS.get(e), (k++ % 2 == 0) ? "pty" : "tcp", e));
    }
    return out.stream();
  }

  /**
   * The graph executor runs every sample; each AoT form one of them (the UART moves 11-28 KiB/s
   * upstream, and a float VWW input is 108 KiB), so that across the three both names are used.
   */
  @ParameterizedTest(name = "{0} on mps2-an386, {1}, over {2}")
  @MethodSource("sharedModels")
  void everySharedModelRunsOnMps2An386AndMatchesTheReference(Case c, Executor executor, String link, int k) {
    Device device = link.equals("tcp") ? AN386.overTcp() : AN386;
    List<Integer> samples = k == 0 ? c.samples() : List.of(c.samples().get(k % c.samples().size()));
    assertRunsOnBoard(c, executor, device, samples);
  }

  /**
   * Every shared model on each other board that can hold it (all of them do: 4 MiB of flash and
   * RAM, or more), one sample each; the executor (graph, AoT packed, AoT C unpacked), the link (pty,
   * TCP) and the input names rotate, so each board meets every form.
   */
  static Stream<Arguments> otherBoards() {
    List<Arguments> out = new ArrayList<>();
    List<Case> cases = new ArrayList<>(ReferenceModels.shared("tflite"));
    cases.addAll(ReferenceModels.shared("onnx"));
    int k = 0;
    for (String board : List.of("mps2-an385", "mps2-an505", "riscv32-virt")) {
      for (Case c : cases) {
        out.add(Arguments.of(c, board, EXECUTORS.get(k % EXECUTORS.size()), (k / EXECUTORS.size()) % 2 == 0 ? "pty" : "tcp", k));
        k++;
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} on {1}, {2}, over {3}")
  @MethodSource("otherBoards")
  void everySharedModelRunsOnTheOtherBoards(Case c, String board, Executor executor, String link, int k) {
    assumeTrue(!board.equals("riscv32-virt") || (onPath("qemu-system-riscv32") && onPath("riscv64-unknown-elf-gcc")),
        "qemu-system-riscv32 / riscv64-unknown-elf-gcc not installed");
    Device device = link.equals("tcp") ? Device.qemu(board).overTcp() : Device.qemu(board);
    assertRunsOnBoard(c, executor, device, List.of(c.samples().get(k % c.samples().size())));
  }

  @Test void floatModelsRunOnTheCortexM33AndRiscV() {
    assumeTrue(onPath("qemu-system-riscv32") && onPath("riscv64-unknown-elf-gcc"), "RISC-V tools not installed");
    Case c = ReferenceModels.shared("tflite", "mlperf_kws_float");
    assertRunsOnBoard(c, Executor.graph(), Device.qemu("mps2-an505").overTcp());
    assertRunsOnBoard(c, Executor.aot().interfaceApi("c").unpackedApi(true), Device.qemu("riscv32-virt"));
  }

  /** The models whose firmware fits 256 KiB of flash and 16 KiB of RAM run; the others are refused when built. */
  @ParameterizedTest(name = "{0} on the micro:bit")
  @ValueSource(strings = {"digits_cnn_int8", "digits_cnn_float", "onnx_digits_cnn", "mlperf_kws_int8", "mlperf_kws_float",
      "mlperf_vww_int8", "mlperf_vww_float", "mlperf_ic_int8", "mlperf_ic_float", "mlperf_ad_int8", "mlperf_ad_float"})
  void theMicrobitRunsTheModelsThatFitAndRefusesTheOthersAtBuildTimeWithTheSizes(String name) {
    Case c = ReferenceModels.shared(name.startsWith("onnx") ? "onnx" : "tflite", name);
    Device microbit = Device.qemu("microbit");
    if (name.contains("digits")) {
      assertRunsOnBoard(c, name.equals("digits_cnn_float") ? Executor.aot().interfaceApi("c").unpackedApi(true) : Executor.aot(), microbit);
      return;
    }
    KilnException e = assertThrows(KilnException.class, () -> model(c).build(Executor.aot()).flash(microbit));
    String m = e.getMessage();
    assertTrue(m.contains("does not fit qemu-microbit") && m.contains("of 262,144") && m.contains("of 16,384")
        && m.matches("(?s).*flash [\\d,]+ bytes \\(code and constants [\\d,]+.*RAM [\\d,]+ bytes \\(data [\\d,]+ \\+ bss [\\d,]+.*"), m);
  }

  static void assertRunsOnBoard(Case c, Executor executor, Device device) {
    assertRunsOnBoard(c, executor, device, c.samples());
  }

  /** Sets each input by its model name or its C name (alternating with sample and input), runs, compares every output. */
  static void assertRunsOnBoard(Case c, Executor executor, Device device, List<Integer> samples) {
    Model model = model(c);
    List<String> problems = new ArrayList<>();
    try (DeviceSession dev = model.build(executor).flash(device)) {
      ModelExecutor ex = dev.executor();
      for (int s : samples) {
        for (int i = 0; i < model.inputs().size(); i++) {
          TensorInfo in = model.inputs().get(i);
          // inputs by the model's own name and by the C name, alternately
          ex.setInput((s + i) % 2 == 0 ? in.name() : in.cName(), Tensor.load(c.input(s, i)));
        }
        ex.run();
        for (int j = 0; j < model.outputs().size(); j++) {
          String why = c.mismatch(j, ex.getOutput(j), Tensor.load(c.output(s, j)));
          if (why != null) problems.add("sample " + s + " output " + j + ": " + why);
        }
      }
      if (!problems.isEmpty()) fail(c.name() + " (" + executor + ") on " + dev + ":\n  " + String.join("\n  ", problems));
    }
  }

  @Test void theBoardsExecutorsReportCompleteMetadataUnderBothNames() throws Exception {
    Case c = ReferenceModels.shared("tflite", "digits_cnn_int8");
    Model digits = model(c);
    for (Executor executor : List.of(Executor.graph(), Executor.aot().interfaceApi("c").unpackedApi(true))) {
      try (DeviceSession dev = digits.build(executor).flash(AN386)) {
        RemoteModule m = dev.executor().device().module();
        TensorInfo in = digits.inputs().get(0);
        TensorInfo out = digits.outputs().get(0);
        assertEquals(1L, m.getFunction("get_num_inputs").callLong());
        assertEquals(1L, m.getFunction("get_num_outputs").callLong());
        assertEquals(in.name(), m.getFunction("get_input_name").call(0L, 1L), executor.toString());
        assertEquals(in.cName(), m.getFunction("get_input_name").call(0L, 0L), executor.toString());
        assertEquals(0L, m.getFunction("get_input_index").call(in.name()));
        assertEquals(0L, m.getFunction("get_input_index").call(in.cName()));
        assertEquals(out.name(), m.getFunction("get_output_name").call(0L));
        assertEquals(out.cName(), m.getFunction("get_output_name").call(0L, 0L));
        assertEquals(digits.build(executor).metadata(), dev.metadata());
      }
    }
  }

  @Test void instructionCountsAreExactAndTheSameInEveryBoot() {
    Model digits = model(ReferenceModels.shared("tflite", "digits_cnn_int8"));
    long[] counts = new long[2];
    for (int boot = 0; boot < 2; boot++) {
      try (DeviceSession dev = digits.build(Executor.aot()).flash(AN386.overTcp())) {
        dev.executor().setInput(0, Tensor.load(ReferenceModels.shared("tflite", "digits_cnn_int8").input(0, 0))).run();
        counts[boot] = dev.timeEvaluator().instructions();
        Timing.Result r = dev.timeEvaluator().number(3).repeat(3).measure();
        long[] rounds = r.instructionsPerRound();
        assertEquals(rounds[0], rounds[1], r.toString());
        assertEquals(rounds[0], rounds[2], r.toString());
        // three calls and the evaluator's fixed cost: the calibrated count times three plus that cost
        long overhead = rounds[0] - 3 * counts[boot];
        assertTrue(overhead >= 0 && overhead < 200, "evaluator cost " + overhead + " instructions: " + r);
      }
    }
    assertEquals(counts[0], counts[1], "instructions per inference in two boots");
    assertTrue(counts[0] > 100_000 && counts[0] < 1_000_000, "digits_cnn_int8: " + counts[0] + " instructions");
  }

  @Test void hostSideErrorsAreTheSameAsOnTheHostDevice() {
    Case c = ReferenceModels.shared("tflite", "digits_cnn_int8");
    Model digits = model(c);
    String onHost;
    try (DeviceSession dev = digits.build(Executor.graph()).flash(Device.host())) {
      onHost = assertThrows(KilnException.class, () -> dev.executor().setInput("predict_image", Tensor.load(c.input(0, 0)))).getMessage();
      assertTrue(assertThrows(KilnException.class, () -> dev.timeEvaluator().instructions()).getMessage()
          .startsWith("instruction counts need a QEMU board (its -icount clock)"));
    }
    try (DeviceSession dev = digits.build(Executor.graph()).flash(AN386)) {
      assertEquals(onHost, assertThrows(KilnException.class, () -> dev.executor().setInput("predict_image", Tensor.load(c.input(0, 0))))
          .getMessage());
      // compact, the digits graph JSON (1.9 KB) fits one 2 KiB packet; bigger ones (kws, ic, ad) are linked, and the firmware project test checks that path
      assertTrue(dev.toString().contains("graph JSON sent in the create call"), dev.toString());
      // still usable afterwards
      dev.executor().setInput("predict_images:0", Tensor.load(c.input(0, 0))).run();
      assertNull(c.mismatch(0, dev.executor().getOutput(0), Tensor.load(c.output(0, 0))));
    }
  }

  @Test void aBoardKilledMidTransferIsAClearErrorWithinTheTimeoutAndANewSessionWorks() throws Exception {
    Case c = ReferenceModels.shared("tflite", "mlperf_vww_float"); // 110 KiB input: seconds over the UART
    Model vww = model(c);
    Device device = AN386.timeout(Duration.ofSeconds(20));
    Tensor input = Tensor.load(c.input(0, 0));
    try (DeviceSession dev = vww.build(Executor.aot()).flash(device)) {
      long pid = dev.devicePid().orElseThrow();
      ModelExecutor ex = dev.executor();
      Thread killer = new Thread(() -> {
        try {
          Thread.sleep(700);
          ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      killer.start();
      long t0 = System.nanoTime();
      KilnDeviceException e = assertThrows(KilnDeviceException.class, () -> ex.setInput(0, input));
      double seconds = (System.nanoTime() - t0) / 1e9;
      killer.join();
      assertTrue(seconds < 20, "failed after " + seconds + " s");
      assertTrue(e.getMessage().contains("QEMU (pid " + pid + ") exited with status"), e.getMessage());
      assertEquals(DeviceSession.State.FAILED, dev.state());
    }
    Case digits = ReferenceModels.shared("tflite", "digits_cnn_int8");
    assertRunsOnBoard(digits, Executor.aot(), device);
  }

  static boolean onPath(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) if (Files.isExecutable(Path.of(d, tool))) return true;
    return false;
  }
}
