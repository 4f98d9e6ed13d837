package dev.kiln.kernel;

import dev.kiln.kernel.eval.CellInterrupts;

/**
 * The notebook's stop button, as seen by code running in a cell.
 *
 * <p>When an {@code interrupt_request} arrives while a cell runs, the kernel, in this order:
 * <ol>
 *   <li>runs every hook registered here, each on its own (a failing hook is logged and skipped; the
 *       reply to the frontend does not wait for slow hooks);</li>
 *   <li>interrupts the cell's thread, which ends {@code Thread.sleep}, {@code Object.wait},
 *       interruptible channels and loops that check {@link Thread#interrupted()};</li>
 *   <li>if the cell still runs one second later, stops its thread by force ({@code Thread.stop},
 *       available on JDK 17; a second interrupt forces at once).</li>
 * </ol>
 * The cell then ends with an {@code Interrupted} error and the next cell runs normally.
 *
 * <p>A blocking device read ignores {@link Thread#interrupt()}; so Kiln code that talks to a device
 * registers a hook that closes the link, which makes the blocked read fail at once:
 * <pre>{@code
 * var registration = KernelInterrupts.onInterrupt(session::close);
 * try { ... device calls ... } finally { registration.close(); }
 * }</pre>
 * Outside a kernel (the {@code kiln} command, tests) registering is harmless and nothing ever fires.
 */
public final class KernelInterrupts {
  private KernelInterrupts() {}

  /** Undoes one {@link #onInterrupt} registration; closing twice is harmless. */
  public interface Registration extends AutoCloseable {
    @Override void close();
  }

  /**
   * Runs {@code hook} on every interrupt of a running cell until the returned registration is
   * closed. Hooks run on a kernel thread, not the cell's, in registration order.
   */
  public static Registration onInterrupt(Runnable hook) {
    return CellInterrupts.instance().register(hook)::close;
  }

  /** True once the cell running on this kernel has been interrupted (until the next cell starts). */
  public static boolean interruptRequested() {
    return CellInterrupts.instance().requested();
  }
}
