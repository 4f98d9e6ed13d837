package dev.kiln.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.api.Build;
import dev.kiln.api.Device;
import dev.kiln.api.DeviceSession;
import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnException;
import dev.kiln.api.Model;
import dev.kiln.api.Tensor;
import dev.kiln.testing.FaultyTransport;
import dev.kiln.testing.FaultyTransport.Direction;
import dev.kiln.testing.FaultyTransport.Fault;
import dev.kiln.testing.FaultyTransport.Kind;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * UART bytes dropped between the host and an emulated board (QEMU's pseudo-terminal wrapped by
 * FaultyTransport): a clear error within the timeout, never a wrong result, and a new session with
 * a new QEMU works.
 */
class QemuLinkFaultsTest {
  static final Duration TIMEOUT = Duration.ofSeconds(2);
  static Build build;
  static Tensor image;
  static Tensor reference;

  @BeforeAll static void load() {
    assumeTrue(QemuDeviceTest.onPath("qemu-system-arm") && QemuDeviceTest.onPath("arm-none-eabi-gcc"),
        "qemu-system-arm or arm-none-eabi-gcc is not installed (./install adds them)");
    Case c = ReferenceModels.shared("tflite", "digits_cnn_int8");
    Model model = Kiln.load(c.modelFile());
    build = model.build(Executor.aot());
    image = Tensor.load(c.input(0, 0));
    reference = Tensor.load(c.output(0, 0));
    // one clean session first: builds the firmware, so the faulty sessions' time is the fault's alone
    assertEquals(reference, session(null, new AtomicReference<>()), "a clean session before any fault");
  }

  static Tensor session(Fault fault, AtomicReference<FaultyTransport> link) {
    Device device = Device.qemu("mps2-an386").timeout(TIMEOUT).wrapLink(t -> {
      FaultyTransport f = FaultyTransport.wrap(t, fault);
      link.set(f);
      return f;
    });
    try (DeviceSession dev = build.flash(device)) {
      return dev.executor().setInput(0, image).run().getOutput(0);
    }
  }

  @ParameterizedTest(name = "bytes dropped {0}")
  @EnumSource(Direction.class)
  void droppedUartBytesEndInAClearErrorWithinTheTimeoutAndTheNextSessionWorks(Direction direction) {
    // past the handshake (which QEMU sessions retry), inside setting the 64-byte input or the output
    long at = direction == Direction.TO_DEVICE ? 600 : 300;
    AtomicReference<FaultyTransport> link = new AtomicReference<>();
    long start = System.nanoTime();
    KilnException e = assertThrows(KilnException.class, () -> session(new Fault(Kind.DROP, direction, at, Duration.ZERO), link),
        "a session that lost bytes " + direction + " must fail, not return a result");
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    assertTrue(link.get().fired(), "the fault was not reached: " + link.get().bytesToDevice() + " bytes to the device, "
        + link.get().bytesFromDevice() + " from it");
    String m = e.getMessage();
    // a lost byte either stalls the frame it was in (the reply timeout) or damages it (seen at once): both name the call
    boolean timedOut = m.contains("no reply after") && m.contains("(reply timeout 2 s)");
    boolean damaged = m.contains(": no reply; a frame from the device was damaged: ") || m.contains(": no reply; the device reported: kiln link: dropped ");
    assertTrue((timedOut || damaged) && m.contains("open a new one with build.flash(device)"),
        "the error says what was waited for, how long or what was damaged, and what to do: " + m);
    assertFalse(m.contains("most likely a second or late reply"), "a damaged frame is not a stray reply: " + m);
    // boot + build are cached; the session waits one reply timeout, closing QEMU a few more seconds at most
    assertTrue(took.compareTo(TIMEOUT.multipliedBy(3).plusSeconds(5)) < 0, "took " + took + ": " + m);
    System.out.println("dropped " + direction + " @" + at + " on mps2-an386: " + took.toMillis() + " ms: " + m);
    assertEquals(reference, session(null, new AtomicReference<>()), "the session after the dropped bytes");
  }
}
