package dev.kiln.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.cli.Main;
import dev.kiln.rpc.DeviceAbortedException;
import dev.kiln.rpc.RemoteException;
import dev.kiln.rpc.RpcClient;
import dev.kiln.rpc.RpcCode;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code Device.host().strictMicroTvm()}: the device answers as microTVM v0.18's CRT where the CRT is
 * stricter (microtvm-facts.md 3.7, 4.4, 5.2, 8 #1): the seed model's failure reproduced on purpose
 * (an AoT input set by its model name aborts the device, after the CRT's "Check failed" log), the
 * C name working, device syscalls raising; and the default device unchanged.
 */
class StrictMicroTvmTest {
  private static final Case SEED = ReferenceModels.shared("tflite", "digits_cnn_int8");

  @TempDir Path work;

  private static Build aot() {
    return Kiln.load(SEED.modelFile()).build(Executor.aot().interfaceApi("packed").unpackedApi(false));
  }

  @Test void anAotInputSetByItsModelNameAbortsAStrictDeviceAsMicroTvmDoes() {
    Build b = aot();
    DeviceSession dev = b.flash(Device.host().strictMicroTvm());
    try (dev) {
      KilnDeviceException e = assertThrows(KilnDeviceException.class,
          () -> dev.executor().setInput("predict_images:0", Tensor.load(SEED.input(0, 0))));
      DeviceAbortedException abort = assertInstanceOf(DeviceAbortedException.class, e.getCause());
      assertEquals(0x0500, abort.code());
      assertTrue(abort.getMessage().contains("cannot find 'predict_images:0' among input: microTVM's CRT aborts (0x500)"),
          abort.getMessage());
      assertTrue(dev.deviceLogs().contains(
          "src/runtime/crt/aot_executor/aot_executor.c: Check failed: rv >= 0: cannot find 'predict_images:0' among input."),
          dev.deviceLogs().toString());
      assertEquals(DeviceSession.State.FAILED, dev.state());
    }
  }

  @Test void theCNameWorksOnAStrictDeviceAndTheDefaultDeviceTakesBoth() {
    Build b = aot();
    byte[] want = Tensor.load(SEED.output(0, 0)).bytes();
    try (DeviceSession dev = b.flash(Device.host().strictMicroTvm())) {
      ModelExecutor ex = dev.executor();
      ex.setInput("predict_images_0", Tensor.load(SEED.input(0, 0))).run();
      assertArrayEquals(want, ex.getOutput(0).bytes());
    }
    try (DeviceSession dev = b.flash(Device.host())) {
      ModelExecutor ex = dev.executor();
      ex.setInput("predict_images:0", Tensor.load(SEED.input(0, 0))).run();
      assertArrayEquals(want, ex.getOutput(0).bytes());
      assertEquals(-1L, call(dev, "get_input_index", "images"), "Kiln's device answers an unknown name with -1");
      assertEquals(0L, call(dev, "get_input_index", "predict_images:0"), "and knows the model name");
    }
  }

  @Test void graphNamesAreTheGraphsOnAStrictDevice() {
    Build b = Kiln.load(SEED.modelFile()).build(Executor.graph());
    try (DeviceSession dev = b.flash(Device.host().strictMicroTvm())) {
      ModelExecutor ex = dev.executor();
      ex.setInput("predict_images:0", Tensor.load(SEED.input(1, 0))).run();
      assertArrayEquals(Tensor.load(SEED.output(1, 0)).bytes(), ex.getOutput(0).bytes());
      KilnDeviceException e = assertThrows(KilnDeviceException.class, () -> ex.setInput("predict_images_0", Tensor.load(SEED.input(1, 0))));
      assertTrue(e.getMessage().contains("cannot find 'predict_images_0' among input"), e.getMessage());
      assertTrue(dev.deviceLogs().contains(
          "src/runtime/crt/graph_executor/graph_executor.c: Check failed: index >= 0: cannot find 'predict_images_0' among input."),
          dev.deviceLogs().toString());
    }
  }

  @Test void deviceSyscallsRaiseOnAStrictDeviceAndAnswerOnKilns() throws Exception {
    Build b = aot();
    try (DeviceSession dev = b.flash(Device.host().strictMicroTvm())) {
      RpcClient rpc = dev.session().rpc();
      assertEquals("SetDevice not supported", deviceError(rpc, RpcCode.DEV_SET_DEVICE));
      assertEquals("GetAttr not supported", deviceError(rpc, RpcCode.DEV_GET_ATTR, 0));
      assertEquals("GetAttr not supported", deviceError(rpc, RpcCode.DEV_GET_ATTR, 14));
      assertEquals("Syscall not recognized", deviceError(rpc, RpcCode.DEV_GET_CURRENT_STREAM));
      // Kiln's host copes: attributes it cannot read are empty, and inference still works
      assertTrue(rpc.attributes().totalMemoryBytes().isEmpty());
      dev.executor().setInput(0, Tensor.load(SEED.input(2, 0))).run();
      assertArrayEquals(Tensor.load(SEED.output(2, 0)).bytes(), dev.executor().getOutput(0).bytes());
    }
    try (DeviceSession dev = b.flash(Device.host())) {
      RpcClient rpc = dev.session().rpc();
      assertEquals(null, rpc.deviceSyscall(RpcCode.DEV_SET_DEVICE));
      assertEquals(1L, rpc.deviceSyscall(RpcCode.DEV_GET_ATTR, 0));
      rpc.deviceSyscall(RpcCode.DEV_GET_CURRENT_STREAM);
    }
  }

  @Test void kilnRunStrictMicroTvmReproducesTheSeedFailure() {
    Path m = SEED.modelFile();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new String[] {"run", m.toString(), "--executor", "aot", "--strict-microtvm", "--input",
        "predict_images:0=" + SEED.input(0, 0), "-o", work.resolve("a").toString()}, new PrintWriter(out, true), new PrintWriter(err, true));
    assertEquals(1, code);
    assertTrue(err.toString().contains("cannot find 'predict_images:0' among input"), err.toString());
    code = Main.run(new String[] {"run", m.toString(), "--executor", "aot", "--strict-microtvm", "--input",
        "predict_images_0=" + SEED.input(0, 0), "-o", work.resolve("b").toString()}, new PrintWriter(out, true), new PrintWriter(err, true));
    assertEquals(0, code, err.toString());
    KilnException e = assertThrows(KilnException.class, () -> Device.qemu("mps2-an385").strictMicroTvm());
    assertEquals("strictMicroTvm() applies to Device.host() only, not to qemu:mps2-an385 (pty, icount shift 7)", e.getMessage());
  }

  private static Object call(DeviceSession dev, String function, Object... args) {
    try {
      return dev.executor().device().module().getFunction(function).call(args);
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  private static String deviceError(RpcClient rpc, int code, long... ints) {
    return assertThrows(RemoteException.class, () -> rpc.deviceSyscall(code, ints)).deviceMessage();
  }
}
