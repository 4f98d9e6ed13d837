package dev.kiln.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Build;
import dev.kiln.api.Device;
import dev.kiln.api.DeviceSession;
import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnDeviceException;
import dev.kiln.api.Model;
import dev.kiln.api.ModelExecutor;
import dev.kiln.api.Tensor;
import dev.kiln.testing.FaultyTransport;
import dev.kiln.testing.FaultyTransport.Direction;
import dev.kiln.testing.FaultyTransport.Fault;
import dev.kiln.testing.FaultyTransport.Kind;
import dev.kiln.testing.ReferenceModels;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What a session says after it failed, after it was closed, and after the link duplicated a frame. */
class SessionMessagesTest {
  static Model model;
  static Tensor image;
  static Tensor reference;

  @BeforeAll
  static void load() {
    var c = ReferenceModels.shared("tflite", "digits_cnn_int8");
    model = Kiln.load(c.modelFile());
    image = Tensor.load(c.input(0, 0));
    reference = Tensor.load(c.output(0, 0));
  }

  @Test
  void afterAFailedAotSessionGetOutputSaysTheSessionFailed() throws Exception {
    Build aot = model.build(Executor.aot());
    try (DeviceSession dev = aot.flash(Device.host())) {
      ModelExecutor ex = dev.executor();
      ex.setInput(0, image).run();
      ProcessHandle device = ProcessHandle.of(dev.devicePid().orElseThrow()).orElseThrow();
      device.destroyForcibly();
      device.onExit().get();
      assertThrows(KilnDeviceException.class, ex::run);
      KilnDeviceException e = assertThrows(KilnDeviceException.class, () -> ex.getOutput(0));
      assertTrue(e.getMessage().startsWith("getOutput(StatefulPartitionedCall:0): the session failed ("), e.getMessage());
      assertTrue(e.getMessage().endsWith("open a new one with build.flash(device)"), e.getMessage());
      KilnDeviceException again = assertThrows(KilnDeviceException.class, dev::executor);
      assertTrue(again.getMessage().startsWith("executor(): the session failed ("), again.getMessage());
    }
  }

  @Test
  void executorAndTimeEvaluatorOnAClosedSessionThrow() {
    DeviceSession dev = model.build(Executor.graph()).flash(Device.host());
    dev.executor();
    dev.close();
    KilnDeviceException ex = assertThrows(KilnDeviceException.class, dev::executor);
    assertEquals("executor(): the session with host (local process) is closed; open a new one with build.flash(device)", ex.getMessage());
    KilnDeviceException timing = assertThrows(KilnDeviceException.class, dev::timeEvaluator);
    assertEquals("timeEvaluator(): the session with host (local process) is closed; open a new one with build.flash(device)",
        timing.getMessage());
  }

  /**
   * The device's reply to run() arrives twice: the error comes at the next call, which received
   * it, and names run() as the request that reply answers.
   */
  @Test
  void afterADuplicatedReplyTheErrorNamesTheCallItAnswers() throws Exception {
    Build graph = model.build(Executor.graph());
    // where run()'s reply lies in the bytes from the device, from a fault-free session
    AtomicReference<FaultyTransport> link = new AtomicReference<>();
    long before;
    long after;
    try (DeviceSession dev = graph.flash(Device.host().wrapLink(t -> record(link, FaultyTransport.wrap(t, null))))) {
      dev.executor().setInput(0, image);
      before = link.get().bytesFromDevice();
      dev.executor().run();
      after = link.get().bytesFromDevice();
    }
    Fault dup = new Fault(Kind.DUPLICATE, Direction.FROM_DEVICE, (before + after) / 2, Duration.ZERO);
    try (DeviceSession dev = graph.flash(Device.host().timeout(Duration.ofSeconds(3)).wrapLink(t -> record(link, FaultyTransport.wrap(t, dup))))) {
      dev.executor().setInput(0, image).run();
      assertTrue(link.get().fired(), "the duplicate was injected in run()'s reply");
      KilnDeviceException e = assertThrows(KilnDeviceException.class, () -> dev.executor().getOutput(0));
      assertTrue(e.getMessage().startsWith("getOutput(StatefulPartitionedCall:0) failed: "), e.getMessage());
      assertTrue(e.getMessage().contains("it is most likely a second or late reply to the previous request, CallFunc(run)"
          + " (the link duplicated or delayed a frame)"), e.getMessage());
    }
    try (DeviceSession dev = graph.flash(Device.host())) {
      assertEquals(reference, dev.executor().setInput(0, image).run().getOutput(0), "the next session works");
    }
  }

  private static FaultyTransport record(AtomicReference<FaultyTransport> into, FaultyTransport t) {
    into.set(t);
    return t;
  }
}
