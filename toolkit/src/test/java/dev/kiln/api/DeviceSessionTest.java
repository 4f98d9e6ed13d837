package dev.kiln.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.micro.AotExecutor;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The seed scenario as a notebook runs it: the digits model with input {@code predict_images:0},
 * the same calls on every executor, and every mistake caught on the host with a message that says
 * what to do. Runs the real device program over pipes.
 */
class DeviceSessionTest {
  static final List<Executor> ALL = List.of(
      Executor.graph(),
      Executor.aot(),
      Executor.aot().unpackedApi(true),
      Executor.aot().interfaceApi("c").unpackedApi(true),
      Executor.aot().interfaceApi("c"));

  static Case seed;
  static Model model;
  static Tensor image;
  static Tensor reference;

  @BeforeAll static void load() {
    seed = ReferenceModels.shared("tflite", "digits_cnn_int8");
    model = Kiln.load(seed.modelFile());
    image = Tensor.load(seed.input(0, 0));
    reference = Tensor.load(seed.output(0, 0));
  }

  @Test void theSameSetInputCallWorksOnEveryExecutorWithEitherName() {
    for (Executor executor : ALL) {
      try (DeviceSession dev = model.build(executor).flash(Device.host())) {
        ModelExecutor ex = dev.executor();
        for (Object name : List.of("predict_images:0", "predict_images_0", 0)) {
          if (name instanceof String s) ex.setInput(s, image);
          else ex.setInput((Integer) name, image);
          ex.run();
          assertNull(Tolerance.mismatch(ex.getOutput(0), reference), executor + " via " + name);
          assertNull(Tolerance.mismatch(ex.getOutput("StatefulPartitionedCall:0"), reference), executor.toString());
          assertNull(Tolerance.mismatch(ex.getOutput("StatefulPartitionedCall_0"), reference), executor.toString());
        }
      }
    }
  }

  @Test void metadataIsCompleteOnTheHostAndOnTheDeviceForEveryAotCombination() throws Exception {
    for (Executor executor : ALL.subList(1, ALL.size())) {
      Build build = model.build(executor);
      var meta = build.metadata();
      assertEquals("predict_images:0", meta.get("inputs").get(0).get("name").asText());
      assertEquals("predict_images_0", meta.get("inputs").get(0).get("c_name").asText());
      assertEquals(-128, meta.get("inputs").get(0).get("quantization").get("zero_point").asInt());
      assertEquals(64, meta.get("inputs").get(0).get("bytes").asInt());
      assertEquals(1, meta.get("outputs").size());
      assertTrue(meta.get("memory").get("arena_bytes").asInt() > 0);
      try (DeviceSession dev = build.flash(Device.host())) {
        AotExecutor aot = (AotExecutor) dev.executor().device();
        assertEquals(1, aot.numInputs(), executor + ": the device's own metadata");
        assertEquals(1, aot.numOutputs(), executor.toString());
      }
    }
  }

  @Test void theDeviceTimesItsOwnRuns() {
    try (DeviceSession dev = model.build(Executor.aot()).flash(Device.host())) {
      dev.executor().setInput("predict_images:0", image);
      Timing.Result r = dev.timeEvaluator().repeat(3).number(20).measure();
      assertEquals(3, r.secondsPerCall().length);
      assertTrue(r.medianMicros() > 0 && r.medianMicros() < 100_000, r.toString());
    }
  }

  @Test void anUnknownNameListsEveryInputWithBothNamesShapesAndDtypes() {
    try (DeviceSession dev = model.build(Executor.aot()).flash(Device.host())) {
      KilnException e = assertThrows(KilnException.class, () -> dev.executor().setInput("pixels", image));
      assertEquals("no input named 'pixels'; the model's inputs are:\n"
          + "  0: predict_images:0 (C: predict_images_0) [1,8,8,1] int8 scale=0.003921569 zero_point=-128", e.getMessage());
      dev.executor().setInput("images", image).run();
      assertNull(Tolerance.mismatch(dev.executor().getOutput(0), reference), "the signature key works too; the session is unharmed");
    }
  }

  @Test void aFloatImageForAnInt8InputSaysHowToQuantizeIt() {
    Tensor floats = image.dequantize(0.003921569f, -128);
    try (DeviceSession dev = model.build(Executor.graph()).flash(Device.host())) {
      KilnException e = assertThrows(KilnException.class, () -> dev.executor().setInput("predict_images:0", floats));
      assertTrue(e.getMessage().startsWith("input 0 predict_images:0 (C: predict_images_0) takes int8 [1,8,8,1], but the tensor given is float32 [1,8,8,1]."), e.getMessage());
      assertTrue(e.getMessage().contains("tensor.quantize(executor.inputs().get(0))"), e.getMessage());
      assertTrue(e.getMessage().contains("scale=0.003921569, zero_point=-128"), e.getMessage());
      Tensor q = floats.quantize(dev.executor().inputs().get(0));
      assertEquals(image, q, "quantizing with the input's own parameters gives the original codes back");
      dev.executor().setInput("predict_images:0", q).run();
      assertNull(Tolerance.mismatch(dev.executor().getOutput(0), reference));
    }
  }

  @Test void wrongShapesIndicesAndEarlyReadsAreCaughtOnTheHost() {
    try (DeviceSession dev = model.build(Executor.graph()).flash(Device.host())) {
      ModelExecutor ex = dev.executor();
      KilnException shape = assertThrows(KilnException.class, () -> ex.setInput(0, image.reshape(1, 64)));
      assertEquals("input 0 predict_images:0 (C: predict_images_0) has shape [1,8,8,1], but the tensor given has shape [1,64]"
          + " (same number of elements: tensor.reshape(1,8,8,1) fixes it)", shape.getMessage());
      KilnException index = assertThrows(KilnException.class, () -> ex.setInput(1, image));
      assertTrue(index.getMessage().startsWith("input index 1 is out of range: the model has 1 input(s):"), index.getMessage());
      KilnException early = assertThrows(KilnException.class, () -> ex.getOutput(0));
      assertEquals("output StatefulPartitionedCall:0 (C: StatefulPartitionedCall_0) read before run(): set the inputs, call run(), then getOutput",
          early.getMessage());
      KilnException noInput = assertThrows(KilnException.class, ex::run);
      assertTrue(noInput.getMessage().startsWith("run() before every input was set"), noInput.getMessage());
      KilnException out = assertThrows(KilnException.class, () -> ex.setInput(0, image).run().getOutput(3));
      assertTrue(out.getMessage().startsWith("output index 3 is out of range"), out.getMessage());
      assertEquals(DeviceSession.State.OPEN, dev.state());
    }
  }

  @Test void aDeviceKilledMidSessionGivesItsExitAndANewSessionWorks() throws Exception {
    Build build = model.build(Executor.aot());
    try (DeviceSession dev = build.flash(Device.host())) {
      dev.executor().setInput(0, image);
      ProcessHandle.of(dev.devicePid().orElseThrow()).orElseThrow().destroyForcibly();
      KilnDeviceException e = assertThrows(KilnDeviceException.class, () -> dev.executor().run());
      assertTrue(e.getMessage().startsWith("run() failed: "), e.getMessage());
      assertTrue(e.getMessage().contains("SIGKILL") || e.getMessage().contains("exit"), e.getMessage());
      assertTrue(e.getMessage().contains("open a new one with build.flash(device)"), e.getMessage());
      assertEquals(DeviceSession.State.FAILED, dev.state());
      KilnDeviceException after = assertThrows(KilnDeviceException.class, () -> dev.executor().run());
      assertTrue(after.getMessage().contains("the session failed"), after.getMessage());
    }
    assertNewSessionWorks(build);
  }

  @Test void aStalledDeviceTimesOutNamingTheCallAndANewSessionWorks() throws Exception {
    Build build = model.build(Executor.graph());
    try (DeviceSession dev = build.flash(Device.host().timeout(Duration.ofMillis(500)))) {
      dev.executor().setInput(0, image);
      long pid = dev.devicePid().orElseThrow();
      Process stop = new ProcessBuilder("kill", "-STOP", Long.toString(pid)).start();
      assertTrue(stop.waitFor(5, TimeUnit.SECONDS));
      long start = System.nanoTime();
      KilnDeviceException e = assertThrows(KilnDeviceException.class, () -> dev.executor().run());
      long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(e.getMessage().startsWith("run() failed: "), e.getMessage());
      assertTrue(e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("timed out") || e.getMessage().contains("no reply"), e.getMessage());
      assertTrue(waited < 5000, "gave up after " + waited + " ms");
    }
    assertNewSessionWorks(build);
  }

  static void assertNewSessionWorks(Build build) {
    try (DeviceSession again = build.flash(Device.host())) {
      again.executor().setInput("predict_images:0", image).run();
      assertNull(Tolerance.mismatch(again.executor().getOutput(0), reference));
    }
  }
}
