package dev.kiln.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

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
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Faults on the link of every executor on {@link Device#host()}: a bit flip, a dropped chunk, a
 * duplicated chunk, a stall (shorter and longer than the timeout), a truncated chunk and a killed
 * device, each way, at a random byte of a whole session (handshake, executor creation, set input,
 * run, get output). Each must end in the correct result or a KilnException within its time bound,
 * never a wrong result, and the next session must work.
 *
 * <p>{@code -Dkiln.faults.perKind=N} (default 1) places N faults per kind and direction; the long
 * campaign: {@code mvn -o test -pl toolkit -Dtest=FaultInjectionTest -Dkiln.faults.perKind=20}.
 * {@code -Dkiln.faults.seed} picks other positions (the default is fixed, so CI is repeatable).
 */
class FaultInjectionTest {
  static final int PER_KIND = Integer.getInteger("kiln.faults.perKind", 1);
  static final long SEED = Long.getLong("kiln.faults.seed", 20261207L);
  static final Duration TIMEOUT = Duration.ofMillis(1000);
  static Model model;
  static Tensor image;
  static Tensor reference;

  @BeforeAll
  static void load() {
    var c = ReferenceModels.shared("tflite", "digits_cnn_int8");
    model = Kiln.load(c.modelFile());
    image = Tensor.load(c.input(1, 0));
    reference = Tensor.load(c.output(1, 0));
  }

  enum Outcome { CORRECT, ERROR, NOT_REACHED }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"graph", "aot-packed", "aot-c-unpacked"})
  void everyFaultEndsInTheRightResultOrAClearErrorAndTheNextSessionWorks(String kind) throws Exception {
    Build build = model.build(switch (kind) {
      case "graph" -> Executor.graph();
      case "aot-packed" -> Executor.aot();
      default -> Executor.aot().interfaceApi("c").unpackedApi(true);
    });
    // the bytes of a fault-free session, each way, to place faults inside it
    AtomicReference<FaultyTransport> link = new AtomicReference<>();
    assertEquals(reference, session(build, null, link));
    long toDevice = link.get().bytesToDevice();
    long fromDevice = link.get().bytesFromDevice();

    Random random = new Random(SEED ^ kind.hashCode());
    Map<String, Integer> outcomes = new TreeMap<>();
    for (Kind k : Kind.values()) {
      for (Direction d : Direction.values()) {
        for (int i = 0; i < PER_KIND; i++) {
          long at = (long) (random.nextDouble() * (d == Direction.TO_DEVICE ? toDevice : fromDevice));
          boolean longStall = (i + d.ordinal()) % 2 == 1;
          Duration stall = k != Kind.DELAY ? Duration.ZERO : longStall ? TIMEOUT.plusMillis(500) : Duration.ofMillis(250);
          Fault fault = new Fault(k, d, at, stall);
          long start = System.nanoTime();
          Outcome outcome;
          String detail = "";
          try {
            Tensor got = session(build, fault, link);
            if (!got.equals(reference)) fail(kind + ", " + fault + ": a WRONG result without an error");
            outcome = link.get().fired() ? Outcome.CORRECT : Outcome.NOT_REACHED;
          } catch (KilnException e) {
            outcome = Outcome.ERROR;
            detail = e.getMessage();
            assertTrue(!detail.isBlank() && !detail.startsWith("null"), kind + ", " + fault + ": an error without a message");
          }
          Duration took = Duration.ofNanos(System.nanoTime() - start);
          // every wait is bounded: a handshake, a few reply timeouts and the stall at most
          Duration bound = TIMEOUT.multipliedBy(6).plus(stall).plusSeconds(2);
          assertTrue(took.compareTo(bound) < 0, kind + ", " + fault + " took " + took + " (bound " + bound + "): " + detail);
          outcomes.merge(k + " " + (d == Direction.TO_DEVICE ? "to-device" : "from-device") + " " + outcome, 1, Integer::sum);
          // and the next session works
          assertEquals(reference, session(build, null, new AtomicReference<>()), kind + ": the session after " + fault);
        }
      }
    }
    System.out.println("faults on " + kind + ": " + outcomes);
    assertTrue(outcomes.keySet().stream().anyMatch(o -> o.endsWith("ERROR")), "no fault was noticed at all: " + outcomes);
  }

  /** One session: create the executor, set the input, run, read the output. */
  static Tensor session(Build build, Fault fault, AtomicReference<FaultyTransport> link) {
    Device device = Device.host().timeout(TIMEOUT).wrapLink(t -> {
      FaultyTransport f = FaultyTransport.wrap(t, fault);
      link.set(f);
      return f;
    });
    try (DeviceSession dev = build.flash(device)) {
      return dev.executor().setInput(0, image).run().getOutput(0);
    }
  }

  static List<Kind> kinds() { return List.of(Kind.values()); }
}
