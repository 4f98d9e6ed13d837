package dev.kiln.kernel.eval;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The interrupt hooks and the "this cell was interrupted" flag behind
 * {@link dev.kiln.kernel.KernelInterrupts}. One per JVM, because cells reach it through static
 * calls; the kernel is the only caller of {@link #beginCell}, {@link #endCell} and {@link #fire}.
 */
public final class CellInterrupts {
  private static final Logger LOG = Logger.getLogger(CellInterrupts.class.getName());
  private static final CellInterrupts INSTANCE = new CellInterrupts();

  private final List<Hook> hooks = new CopyOnWriteArrayList<>();
  private final ExecutorService hookRunner = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "kiln-interrupt-hooks");
    t.setDaemon(true);
    return t;
  });
  private volatile boolean cellRunning;
  private volatile boolean requested;
  private volatile long cellStartNanos = Long.MAX_VALUE;

  public static CellInterrupts instance() { return INSTANCE; }

  /** A registered hook; {@link #close()} removes it. */
  public final class Hook {
    private final Runnable action;

    private Hook(Runnable action) { this.action = action; }

    public void close() { hooks.remove(this); }
  }

  public Hook register(Runnable action) {
    if (action == null) throw new NullPointerException("hook == null");
    Hook hook = new Hook(action);
    hooks.add(hook);
    return hook;
  }

  public int hookCount() { return hooks.size(); }

  public boolean requested() { return requested; }

  public boolean cellRunning() { return cellRunning; }

  /** When the running (or last) cell began, in {@link System#nanoTime} units; MAX_VALUE before any cell. */
  public long cellStartNanos() { return cellStartNanos; }

  public void beginCell() {
    cellStartNanos = System.nanoTime();
    requested = false;
    cellRunning = true;
  }

  public void endCell() { cellRunning = false; }

  /**
   * Marks the running cell interrupted and starts its hooks on the hook thread; returns at once.
   * Returns false when no cell runs (the interrupt is then ignored, as IPython does).
   */
  public boolean fire() {
    if (!cellRunning) return false;
    requested = true;
    for (Hook hook : hooks) {
      hookRunner.execute(() -> {
        try {
          hook.action.run();
        } catch (Throwable t) {
          LOG.log(Level.WARNING, "interrupt hook " + hook.action + " failed", t);
        }
      });
    }
    return true;
  }
}
