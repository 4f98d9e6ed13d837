package dev.kiln.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.api.Build;
import dev.kiln.api.Device;
import dev.kiln.api.DeviceSession;
import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.api.Model;
import dev.kiln.api.ModelExecutor;
import dev.kiln.api.Profile;
import dev.kiln.api.Tensor;
import dev.kiln.api.Tolerance;
import dev.kiln.ir.Op;
import dev.kiln.project.ProgramMemory;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Device figures on an emulated board: the per-operator profile counts instructions (QEMU's -icount
 * clock) on the graph executor and AoT, and the memory figures of the firmware's ELF come with the
 * stack high-water the board itself measured (its platform paints the stack).
 */
class QemuMeasurementsTest {
  static final Device AN386 = Device.qemu("mps2-an386");
  static Model model;
  static Tensor image;
  static Tensor reference;

  @BeforeAll static void load() {
    assumeTrue(QemuDeviceTest.onPath("qemu-system-arm") && QemuDeviceTest.onPath("arm-none-eabi-gcc"),
        "qemu-system-arm or arm-none-eabi-gcc is not installed (./install adds them)");
    Case c = ReferenceModels.shared("tflite", "digits_cnn_int8");
    model = Kiln.load(c.modelFile());
    image = Tensor.load(c.input(0, 0));
    reference = Tensor.load(c.output(0, 0));
  }

  @Test void everyOperatorIsProfiledInInstructionsOnTheBoardWithGraphAndAot() {
    for (Executor executor : List.of(Executor.graph(), Executor.aot())) {
      Build build = model.build(executor);
      List<Op> ops = build.compiled().graph().ops();
      try (DeviceSession dev = build.flash(AN386)) {
        ModelExecutor ex = dev.executor().setInput(0, image);
        Profile p = ex.profile(2, 1, 0);
        Profile again = ex.profile(2, 1, 0);
        assertEquals(1000.0 / (1 << Device.DEFAULT_ICOUNT_SHIFT), p.instructionsPerMicrosecond().orElseThrow(), 0);
        assertEquals(ops.size(), p.entries().size(), p.table());
        long sum = 0;
        long drift = 0;
        for (int i = 0; i < ops.size(); i++) {
          Profile.Entry e = p.entries().get(i);
          assertEquals(ops.get(i).type().name(), e.type(), p.table());
          long n = e.instructions().orElseThrow();
          // the -icount clock makes each operator's count exact: the same in a second profile (the
          // executors book each operator's time outside the timed intervals: soft-float adds vary)
          drift += Math.abs(n - again.entries().get(i).instructions().orElseThrow());
          boolean view = ops.get(i).type().isView();
          assertTrue(view ? n >= 0 : n > 0, executor + " " + e);
          sum += n;
        }
        assertEquals(0, drift, executor + ": two profiles differ by " + drift + " instructions\n" + p.table() + again.table());
        assertTrue(p.table().contains("instructions"), p.table());
        // the operators are part of the profiled run, and close to the run timeEvaluator counts (the
        // profile adds a clock read per operator, the run adds the executor's own work)
        long profiled = Math.round(p.totalMicros() * p.instructionsPerMicrosecond().getAsDouble());
        long run = dev.timeEvaluator().instructions();
        assertTrue(sum <= profiled, executor + ": operators " + sum + " of a profiled run's " + profiled + "\n" + p.table());
        assertTrue(Math.abs(sum - run) < run / 100, executor + ": operators " + sum + ", a run " + run + "\n" + p.table());
        assertNull(Tolerance.mismatch(ex.getOutput(0), reference), "outputs of the profiled runs");
        System.out.println("profile on mps2-an386, " + executor + ": operators " + sum + " instructions, run " + run + "\n" + p.table());
      }
    }
  }

  @Test void theFirmwaresMemoryIsSplitAndTheBoardMeasuresItsStackHighWater() {
    Build build = model.build(Executor.aot());
    try (DeviceSession dev = build.flash(AN386)) {
      long before = dev.stackHighWater().orElseThrow();
      dev.executor().setInput(0, image).run();
      ProgramMemory m = dev.memory();
      long after = m.stackHighWater().orElseThrow();
      assertEquals(32, m.bits(), m.toString());
      long constants = build.compiled().graph().weightBytes(); // what the compiled graph keeps as device weights
      assertTrue(m.weights() >= constants && m.weights() < constants + 4096, constants + " bytes of constants: " + m);
      assertTrue(m.modelCode() > 0 && m.runtimeCode() > 0 && m.operatorParameters() > 0, m.toString());
      assertTrue(m.arena() >= build.arenaBytes() && m.bss() >= m.arena(), build.arenaBytes() + " arena: " + m);
      assertTrue(m.flash() >= m.code() + m.weights() && m.staticRam() == m.data() + m.bss(), m.toString());
      // a run goes deeper than serving the handshake, and stays within the 16 KiB the board reserves
      assertTrue(before > 0 && after >= before && after < 16384 * 3 / 4, before + " then " + after + "\n" + m);
      System.out.println("memory on mps2-an386: " + m);
    }
  }
}
