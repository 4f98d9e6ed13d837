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

  @Test void firmwareCanTimeOperatorsThroughTheCInterfacesHook(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
      throws Exception {
    // the standalone C interface carries the same hook: firmware installs it and gets every operator, in order
    Build build = model.build(Executor.aot().interfaceApi("c").unpackedApi(true));
    java.nio.file.Path lib = build.exportTo(tmp.resolve("lib"));
    String app = String.join("\n",
        "#include <stdio.h>",
        "#include \"tvmgen_default.h\"",
        "static int seen[64];",
        "static int count;",
        "static void op_done(void *context, int32_t op_index) { (void)context; if (count < 64) seen[count++] = op_index; }",
        "int main(void) {",
        "  static signed char in[64], out[10];",
        "  struct tvmgen_default_inputs i = {in};",
        "  struct tvmgen_default_outputs o = {out};",
        "  int k;",
        "  tvmgen_default_set_op_hook(op_done, NULL);",
        "  if (tvmgen_default_run(&i, &o) != 0) return 1;",
        "  tvmgen_default_set_op_hook(NULL, NULL);",
        "  if (tvmgen_default_run(&i, &o) != 0) return 1;",
        "  for (k = 0; k < count; ++k) printf(\"%d \", seen[k]);",
        "  return 0;",
        "}", "");
    java.nio.file.Files.writeString(tmp.resolve("app.c"), app);
    List<String> cmd = new java.util.ArrayList<>(List.of("gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic",
        "-I", lib.resolve("codegen/host/include").toString(), tmp.resolve("app.c").toString()));
    try (var srcs = java.nio.file.Files.list(lib.resolve("codegen/host/src"))) {
      srcs.filter(f -> f.toString().endsWith(".c")).sorted().forEach(f -> cmd.add(f.toString()));
    }
    cmd.addAll(List.of("-lm", "-o", tmp.resolve("app").toString()));
    assertEquals("", run(cmd));
    StringBuilder want = new StringBuilder();
    for (int i = 0; i < build.compiled().graph().ops().size(); i++) want.append(i).append(' ');
    assertEquals(want.toString(), run(List.of(tmp.resolve("app").toString())), "one call per operator, once, in order");
  }

  private static String run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "timed out: " + cmd);
    assertEquals(0, p.exitValue(), cmd + "\n" + out);
    return out;
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
