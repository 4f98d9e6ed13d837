package dev.kiln.kernel.eval;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.jshell.execution.DirectExecutionControl;
import jdk.jshell.spi.ExecutionControl;
import jdk.jshell.spi.ExecutionControlProvider;
import jdk.jshell.spi.ExecutionEnv;

/**
 * JShell's execution engine for the kernel: snippets run in this JVM (so a cell's value is the
 * real object, not its string), each invocation on a fresh thread the kernel can interrupt and,
 * as a last resort, stop.
 *
 * <p>JShell calls {@link #invoke(Method)} on the thread that called {@code JShell.eval}; the value
 * of the last invocation and the exception it threw are kept for the evaluator to pick up.
 */
final class InProcessExecutionControl extends DirectExecutionControl {
  private static final AtomicInteger THREADS = new AtomicInteger();
  private static final ScheduledExecutorService ESCALATOR = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "kiln-interrupt-escalation");
    t.setDaemon(true);
    return t;
  });

  private final long graceMillis;
  private volatile Thread cellThread;
  private volatile boolean stopRequested;
  private Object lastValue;
  private Throwable lastThrowable;

  InProcessExecutionControl(long graceMillis) {
    this.graceMillis = graceMillis;
  }

  /** The provider JShell asks for an engine; it hands out the one instance given. */
  static ExecutionControlProvider providerFor(InProcessExecutionControl control) {
    return new ExecutionControlProvider() {
      @Override public String name() { return "kiln-in-process"; }

      @Override public ExecutionControl generate(ExecutionEnv env, Map<String, String> parameters) {
        return control;
      }
    };
  }

  /** Clears what the previous snippet left; called before each {@code JShell.eval}. */
  void resetSnippet() {
    lastValue = null;
    lastThrowable = null;
  }

  /** Called at the start of each cell. */
  void resetCell() {
    stopRequested = false;
  }

  Object lastValue() { return lastValue; }

  Throwable lastThrowable() { return lastThrowable; }

  boolean stopRequested() { return stopRequested; }

  @Override
  protected String invoke(Method doitMethod) throws Exception {
    if (stopRequested || CellInterrupts.instance().requested()) throw new ExecutionControl.StoppedException();
    Object[] result = new Object[1];
    Throwable[] failure = new Throwable[1];
    Thread thread = new Thread(() -> {
      try {
        result[0] = doitMethod.invoke(null);
      } catch (InvocationTargetException e) {
        failure[0] = e;
      } catch (Throwable t) {
        failure[0] = t;
      }
    }, "kiln-cell-" + THREADS.incrementAndGet());
    thread.setContextClassLoader(doitMethod.getDeclaringClass().getClassLoader());
    cellThread = thread;
    try {
      thread.start();
      thread.join();
    } finally {
      cellThread = null;
    }
    if (failure[0] != null) {
      Throwable cause = failure[0] instanceof InvocationTargetException ite ? ite.getCause() : failure[0];
      if (stopRequested && cause instanceof ThreadDeath) throw new ExecutionControl.StoppedException();
      lastThrowable = cause;
      throw failure[0] instanceof InvocationTargetException ite ? ite : new InvocationTargetException(cause);
    }
    lastValue = result[0];
    // JShell's own string of the value is unused (the kernel renders the object), and calling
    // toString() here could be slow or throw: a fixed placeholder is enough.
    return result[0] == null ? "null" : result[0].getClass().getName();
  }

  /**
   * Interrupts the running snippet: {@link Thread#interrupt()} now, {@link #stop()} after the grace
   * period if it is still the same thread. Returns at once; safe from any thread.
   */
  void interruptRunning() {
    Thread thread = cellThread;
    if (thread == null) return;
    thread.interrupt();
    ESCALATOR.schedule(() -> {
      if (cellThread == thread && thread.isAlive()) forceStop(thread);
    }, graceMillis, TimeUnit.MILLISECONDS);
  }

  /** JShell.stop(): stop the running snippet by force. */
  @Override
  public void stop() {
    Thread thread = cellThread;
    if (thread != null) forceStop(thread);
  }

  @SuppressWarnings({"deprecation", "removal"})
  private void forceStop(Thread thread) {
    stopRequested = true;
    try {
      thread.stop();
    } catch (UnsupportedOperationException e) {
      // JDK 20+: only cooperative interrupts remain.
      thread.interrupt();
    }
  }
}
