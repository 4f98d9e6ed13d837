package dev.kiln.kernel;

import dev.kiln.api.DeviceSession;
import dev.kiln.kernel.eval.CellInterrupts;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes the stop button end device calls: every {@link DeviceSession} a cell opens registers
 * {@code session::close} with {@link KernelInterrupts}, so an interrupt closes the link and a call
 * blocked on it (a read the device never answers, a loop of {@code run()}) fails at once instead of
 * waiting for a forced thread stop that could leave the link half-way through a packet.
 *
 * <p>An interrupt closes the sessions the interrupted cell used (opened, or talked to over RPC
 * since it began: {@link DeviceSession#lastUsedNanos}), since a device call cannot be abandoned
 * half-way; sessions the cell did not touch stay open, so a cell that opened nothing leaves every
 * session alive. The cell ends with an {@code Interrupted} error; {@code build.flash(device)}
 * opens a new session.
 * Registrations of sessions closed by the notebook itself are dropped when the next one opens.
 */
public final class SessionInterrupts {
  private static final Map<DeviceSession, KernelInterrupts.Registration> OPEN = new ConcurrentHashMap<>();
  private static DeviceSession.Registration listener;

  private SessionInterrupts() {}

  /** Starts listening for sessions; idempotent. */
  public static synchronized void install() {
    if (listener != null) return;
    listener = DeviceSession.onOpen(SessionInterrupts::opened);
  }

  /** Stops listening and forgets every registration (kernel shutdown, tests). */
  public static synchronized void uninstall() {
    if (listener != null) listener.close();
    listener = null;
    OPEN.values().forEach(KernelInterrupts.Registration::close);
    OPEN.clear();
  }

  /** Sessions whose interrupt hook is registered (open ones, and closed ones not yet dropped). */
  public static int tracked() { return OPEN.size(); }

  /** True when {@code session} talked to its device since the running cell began. */
  static boolean usedByRunningCell(DeviceSession session) {
    try {
      return session.lastUsedNanos() - CellInterrupts.instance().cellStartNanos() >= 0;
    } catch (RuntimeException e) {
      return true; // a session that cannot say: closing it is the safe side
    }
  }

  private static void opened(DeviceSession session) {
    OPEN.entrySet().removeIf(e -> {
      boolean gone = e.getKey().state() != DeviceSession.State.OPEN;
      if (gone) e.getValue().close();
      return gone;
    });
    OPEN.put(session, KernelInterrupts.onInterrupt(() -> {
      if (!usedByRunningCell(session)) return;
      session.close();
      KernelInterrupts.Registration r = OPEN.remove(session);
      if (r != null) r.close();
    }));
  }
}
