package dev.kiln.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a host (the Jupyter kernel) needs to stop user code that loops on a device: to hear of every
 * session that opens, and to close one from another thread so that a call blocked on the link ends
 * at once with the session closed (not failed), while a new session works.
 */
class DeviceSessionListenerTest {
  static Model model;
  static Tensor image;
  static Tensor reference;

  @BeforeAll static void load() {
    Case seed = ReferenceModels.shared("tflite", "digits_cnn_int8");
    model = Kiln.load(seed.modelFile());
    image = Tensor.load(seed.input(0, 0));
    reference = Tensor.load(seed.output(0, 0));
  }

  @Test void onOpenListenersHearOfEverySessionUntilTheirRegistrationIsClosed() {
    List<DeviceSession> seen = new CopyOnWriteArrayList<>();
    Build build = model.build(Executor.aot());
    try (DeviceSession.Registration r = DeviceSession.onOpen(seen::add)) {
      try (DeviceSession dev = build.flash(Device.host())) {
        assertEquals(1, seen.size());
        assertSame(dev, seen.get(0));
      }
    }
    try (DeviceSession dev = build.flash(Device.host())) {
      assertEquals(1, seen.size(), "a closed registration hears nothing more");
    }
  }

  @Test void aFailingListenerDoesNotKeepTheSessionFromOpening() {
    try (DeviceSession.Registration r = DeviceSession.onOpen(s -> { throw new IllegalStateException("listener bug"); });
         DeviceSession dev = model.build(Executor.graph()).flash(Device.host())) {
      assertEquals(DeviceSession.State.OPEN, dev.state());
    }
  }

  @Test void closingFromAnotherThreadEndsALoopOfRunsAndLeavesTheSessionClosed() throws Exception {
    Build build = model.build(Executor.aot());
    DeviceSession dev = build.flash(Device.host());
    AtomicLong runs = new AtomicLong();
    AtomicReference<Throwable> ended = new AtomicReference<>();
    Thread loop = new Thread(() -> {
      try {
        ModelExecutor ex = dev.executor().setInput("predict_images:0", image);
        while (true) {
          ex.run();
          runs.incrementAndGet();
        }
      } catch (Throwable t) {
        ended.set(t);
      }
    });
    loop.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (runs.get() < 3 && System.nanoTime() < deadline) Thread.sleep(10);
    assertTrue(runs.get() >= 3, "the loop never ran");
    dev.close();
    loop.join(5000);
    assertTrue(!loop.isAlive(), "the loop still runs 5 s after close()");
    assertTrue(ended.get() instanceof KilnDeviceException, String.valueOf(ended.get()));
    assertEquals(DeviceSession.State.CLOSED, dev.state());
    assertNull(dev.failure());
    try (DeviceSession again = build.flash(Device.host())) {
      again.executor().setInput("predict_images:0", image).run();
      assertNull(Tolerance.mismatch(again.executor().getOutput(0), reference));
    }
  }
}
