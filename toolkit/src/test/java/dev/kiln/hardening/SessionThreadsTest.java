package dev.kiln.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Build;
import dev.kiln.api.Device;
import dev.kiln.api.DeviceSession;
import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnException;
import dev.kiln.api.Model;
import dev.kiln.api.ModelExecutor;
import dev.kiln.api.Tensor;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One session used from many threads at once. Each thread owns one of the three samples and checks
 * that it only ever gets that sample's reference output: calls are serialized (no link errors),
 * infer() always succeeds, and the step-by-step calls either succeed or refuse with an error that
 * says another thread is using the executor. Never another thread's result.
 */
class SessionThreadsTest {
  static final int THREADS = 8;
  static final int ROUNDS = 12;

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"graph", "aot-packed", "aot-c-unpacked"})
  void manyThreadsOnOneSessionEachGetTheirOwnResultOrAClearRefusal(String kind) throws Exception {
    Case c = ReferenceModels.shared("tflite", "digits_cnn_int8");
    Model model = Kiln.load(c.modelFile());
    Build build = model.build(switch (kind) {
      case "graph" -> Executor.graph();
      case "aot-packed" -> Executor.aot();
      default -> Executor.aot().interfaceApi("c").unpackedApi(true);
    });
    List<Tensor> inputs = new ArrayList<>();
    List<Tensor> refs = new ArrayList<>();
    for (int s : c.samples()) {
      inputs.add(Tensor.load(c.input(s, 0)));
      refs.add(Tensor.load(c.output(s, 0)));
    }
    AtomicInteger stepOk = new AtomicInteger();
    AtomicInteger inferOk = new AtomicInteger();
    Map<String, Integer> refusals = new ConcurrentHashMap<>();
    try (DeviceSession dev = build.flash(Device.host())) {
      ModelExecutor ex = dev.executor();
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        int mine = t % inputs.size();
        futures.add(pool.submit(() -> {
          start.await();
          for (int r = 0; r < ROUNDS; r++) {
            if (r % 2 == 0) {
              assertEquals(refs.get(mine), ex.infer(List.of(inputs.get(mine))).get(0), "infer() gave another caller's result");
              inferOk.incrementAndGet();
              continue;
            }
            try {
              Tensor out = ex.setInput(0, inputs.get(mine)).run().getOutput(0);
              assertEquals(refs.get(mine), out, "the step-by-step calls gave another caller's result");
              stepOk.incrementAndGet();
            } catch (KilnException e) {
              String m = e.getMessage();
              assertTrue(m.contains("which is still running; one executor serves one caller at a time")
                  || m.contains("which is still running, so these outputs are its results, not yours")
                  || m.contains("(still running) set an input, so the device no longer holds your results"), m);
              refusals.merge(m.startsWith("run()") ? "run" : "getOutput", 1, Integer::sum);
            }
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : futures) f.get(5, TimeUnit.MINUTES);
      pool.shutdown();
      assertEquals(DeviceSession.State.OPEN, dev.state(), "no call broke the link: " + dev.failure());
      // and the session still works for a single caller afterwards
      assertEquals(refs.get(1), ex.setInput(0, inputs.get(1)).run().getOutput(0));
    }
    System.out.printf("%s: %d threads x %d rounds: infer ok %d, step-by-step ok %d, refused %s%n", kind, THREADS, ROUNDS,
        inferOk.get(), stepOk.get(), refusals);
    assertEquals(THREADS * ROUNDS / 2, inferOk.get());
  }
}
