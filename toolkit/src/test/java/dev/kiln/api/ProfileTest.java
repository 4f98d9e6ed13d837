package dev.kiln.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.ir.Op;
import dev.kiln.micro.OperatorTimes;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * {@code executor.profile()} end to end on the host device: every operator of the compiled model is
 * timed by the device's own clock through its executor's {@code run_individual}, on the graph
 * executor and on every AoT form; the operators add up to at most the run, and the outputs of the
 * profiled runs are the reference's.
 */
class ProfileTest {
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

  static List<Executor> executors() { return DeviceSessionTest.ALL; }

  @ParameterizedTest(name = "{0}")
  @MethodSource("executors")
  void everyOperatorIsTimedOnTheDeviceAndTheyAddUpToAtMostTheRun(Executor executor) {
    Build build = model.build(executor);
    List<Op> ops = build.compiled().graph().ops();
    try (DeviceSession dev = build.flash(Device.host())) {
      ModelExecutor ex = dev.executor().setInput("predict_images:0", image);
      Profile p = executor.kind() == Executor.Kind.GRAPH ? ex.profile() : ex.profile(5, 2, 0);
      assertEquals(ops.size(), p.entries().size(), p.table());
      for (int i = 0; i < ops.size(); i++) {
        Profile.Entry e = p.entries().get(i);
        assertEquals(i, e.index());
        assertEquals(ops.get(i).type().name(), e.type());
        assertEquals(ops.get(i).output().name(), e.name());
        assertTrue(e.micros() >= 0 && e.share() >= 0 && e.share() <= 1, e.toString());
        assertTrue(e.instructions().isEmpty(), "the host clock counts time, not instructions");
      }
      assertTrue(p.totalMicros() > 0, p.table());
      assertTrue(p.operatorMicros() <= p.totalMicros() * (1 + 1e-9), p.table());
      assertTrue(p.operatorMicros() > 0, p.table());
      assertEquals(executor.kind() == Executor.Kind.GRAPH ? 10 : 5, p.number());
      assertEquals(executor.kind() == Executor.Kind.GRAPH ? 1 : 2, p.rounds());
      assertNull(Tolerance.mismatch(ex.getOutput(0), reference), "outputs of the profiled runs");
      for (Profile.Entry e : p.entries()) {
        // the graph executor calls a function per node; AoT with packed operators one per non-view op
        boolean called = executor.kind() == Executor.Kind.GRAPH
            || (!executor.unpackedApi() && !ops.get(e.index()).type().isView());
        assertEquals(called, e.function().startsWith("tvmgen_default_fused_"), e + " " + e.function());
        if (!called) assertEquals("inline", e.function());
      }
      String table = p.table();
      assertTrue(table.contains("CONV_2D") && table.contains("us per run"), table);
    }
  }

  @Test void profileBeforeTheInputsAreSetSaysWhichAreMissing() {
    try (DeviceSession dev = model.build(Executor.aot()).flash(Device.host())) {
      KilnException e = assertThrows(KilnException.class, () -> dev.executor().profile());
      assertTrue(e.getMessage().startsWith("profile() before every input was set; still missing: "), e.getMessage());
      assertTrue(e.getMessage().contains("predict_images:0"), e.getMessage());
    }
  }

  @Test void theDeviceReplyIsMicroTvmsDebugExecutorLayoutWithTheRunTimesAppended() throws Exception {
    ByteBuffer b = ByteBuffer.allocate(8 + 3 * 2 * 8 + 2 * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(3);
    double[] v = {0, 0, 1e-6, 2e-6, 3e-6, 5e-6};
    for (double d : v) b.putDouble(d);
    b.putDouble(9e-6).putDouble(10e-6);
    OperatorTimes t = decode(b.array(), 2);
    assertEquals(3, t.count());
    assertEquals(1.5e-6, t.meanSeconds(1), 1e-12);
    assertEquals(9.5e-6, t.meanTotalSeconds(), 1e-12);
    // TVM's own debug executor sends no run times: the total is the operators' sum
    OperatorTimes tvm = decode(java.util.Arrays.copyOf(b.array(), 8 + 3 * 2 * 8), 2);
    assertEquals((1e-6 + 3e-6 + 2e-6 + 5e-6) / 2, tvm.meanTotalSeconds(), 1e-12);
  }

  private static OperatorTimes decode(byte[] bytes, int repeat) throws Exception {
    var m = OperatorTimes.class.getDeclaredMethod("decode", byte[].class, int.class, int.class);
    m.setAccessible(true);
    return (OperatorTimes) m.invoke(null, bytes, repeat, 1);
  }
}
