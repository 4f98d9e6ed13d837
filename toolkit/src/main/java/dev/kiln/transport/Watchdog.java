package dev.kiln.transport;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One daemon thread, "Kiln Watchdog", that ends operations the OS cannot time out (blocking pipe
 * and serial reads): each watched transport publishes the expiry of its current operation; when it
 * passes, the watchdog calls {@link Watched#timedOut()}, which closes the port or destroys the
 * process so the blocked call returns. Arming costs one volatile write; the thread polls every
 * {@link #TICK_MILLIS} ms while any transport is registered and sleeps otherwise.
 */
final class Watchdog {
  static final long TICK_MILLIS = 5;

  interface Watched {
    /** System.nanoTime() at which the current operation expires; 0 when none runs. */
    long expiresAtNanos();

    /** Called once per expiry, on the watchdog thread. */
    void timedOut();
  }

  private static final Watchdog INSTANCE = new Watchdog();

  private final Set<Watched> watched = ConcurrentHashMap.newKeySet();
  private final Object lock = new Object();

  private Watchdog() {
    Thread t = new Thread(this::loop, "Kiln Watchdog");
    t.setDaemon(true);
    t.start();
  }

  static void register(Watched w) {
    INSTANCE.watched.add(w);
    synchronized (INSTANCE.lock) {
      INSTANCE.lock.notifyAll();
    }
  }

  static void unregister(Watched w) {
    INSTANCE.watched.remove(w);
  }

  private void loop() {
    while (true) {
      try {
        synchronized (lock) {
          if (watched.isEmpty()) {
            lock.wait();
            continue;
          }
        }
        Thread.sleep(TICK_MILLIS);
        long now = System.nanoTime();
        for (Watched w : watched) {
          long at = w.expiresAtNanos();
          if (at != 0 && now - at >= 0) {
            try {
              w.timedOut();
            } catch (RuntimeException e) {
              // a failing hook must not stop the watchdog
            }
          }
        }
      } catch (InterruptedException e) {
        // daemon: keep running
      }
    }
  }
}
