package dev.kiln.api;

import dev.kiln.micro.AotExecutor;
import dev.kiln.micro.DeviceExecutor;
import dev.kiln.micro.GraphExecutor;
import dev.kiln.micro.Session;
import dev.kiln.rpc.RemoteException;
import dev.kiln.rpc.RpcOptions;
import dev.kiln.project.DeviceProgram;
import dev.kiln.transport.QemuTransport;
import dev.kiln.transport.Transport;
import java.time.Duration;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * An open session with a device running a build: {@link #executor()} drives the model,
 * {@link #timeEvaluator()} times it on the device. AutoCloseable; closing twice is safe. After a
 * link failure (device exited, crashed, stalled past its timeout, garbled the link) the session is
 * closed and says why; the host stays healthy and {@code build.flash(device)} opens a new one.
 */
public final class DeviceSession implements AutoCloseable {
  /** What a session is doing, for displays. */
  public enum State { OPEN, CLOSED, FAILED }

  /** Undoes one {@link #onOpen} registration; closing twice is harmless. */
  public interface Registration extends AutoCloseable {
    @Override void close();
  }

  /** The handshake waits at most this long (or the device's timeout, if shorter). */
  private static final Duration HANDSHAKE = Duration.ofSeconds(5);
  private static final List<Consumer<DeviceSession>> OPEN_LISTENERS = new CopyOnWriteArrayList<>();

  /** One device call; IOExceptions become KilnDeviceException. */
  interface Call<T> {
    T run() throws IOException;
  }

  private final Build build;
  private final Device device;
  private final DeviceProgram program;
  private final Session session;
  private final String link;
  private final long pid;
  private final List<String> logs;
  private ModelExecutor executor;
  /** Serializes device calls: one request and its reply at a time, whatever the number of threads. */
  private final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
  private volatile State state = State.OPEN;
  private volatile String failure;

  private DeviceSession(Build build, Device device, DeviceProgram program, Session session, String link, long pid,
                        List<String> logs) {
    this.logs = logs;
    this.program = program;
    this.build = build;
    this.device = device;
    this.session = session;
    this.link = link;
    this.pid = pid;
  }

  static DeviceSession open(Build build, Device device, DeviceProgram program) {
    List<String> logs = Collections.synchronizedList(new ArrayList<>());
    Duration handshake = device.timeout().compareTo(HANDSHAKE) < 0 ? device.timeout() : HANDSHAKE;
    RpcOptions.Builder ob = RpcOptions.builder().replyTimeout(device.timeout()).handshakeTimeout(handshake).logListener(logs::add);
    if (device.kind() == Device.Kind.QEMU) {
      // qemu-cortex-m.md §8: no boot banner to wait for; ping until the firmware answers
      ob.handshakeTimeout(Duration.ofSeconds(15)).handshakeRetry(Duration.ofMillis(100));
    }
    RpcOptions options = ob.build();
    try {
      Transport t = device.wrap(switch (device.kind()) {
        case HOST -> Transport.process(device.isStrictMicroTvm()
            ? List.of(program.executable().toString(), "--strict-microtvm") : List.of(program.executable().toString()));
        case SERIAL -> Transport.serialLink(device.address(), device.port(), device.timeout());
        case TCP -> Transport.tcp(device.address(), device.port(), device.timeout());
        case QEMU -> QemuTransport.start(qemuCommand(program, device), device.isTcp() ? QemuTransport.Link.TCP : QemuTransport.Link.PTY);
      });
      String link = t.toString();
      long pid = t instanceof dev.kiln.transport.ProcessTransport p ? p.pid() : t instanceof QemuTransport q ? q.pid() : -1;
      DeviceSession opened = new DeviceSession(build, device, program, Session.open(t, options), link, pid, logs);
      for (Consumer<DeviceSession> listener : OPEN_LISTENERS) {
        try {
          listener.accept(opened);
        } catch (RuntimeException e) {
          // A listener (e.g. a notebook's interrupt hook) must not keep the session from opening.
          System.err.println("DeviceSession.onOpen listener " + listener + " failed: " + e);
        }
      }
      return opened;
    } catch (IOException e) {
      throw new KilnDeviceException("could not open a session with " + device + ": " + e.getMessage(), e);
    }
  }

  /** The QEMU command line for a firmware: the board's machine, the ELF, semihosting (for exits) and -icount. */
  public static List<String> qemuCommand(DeviceProgram program, Device device) throws IOException {
    dev.kiln.project.Platform platform = program != null ? program.platform() : dev.kiln.project.Platform.named(device.platformName());
    List<String> cmd = new ArrayList<>(platform.qemu());
    cmd.addAll(List.of("-kernel", (program != null ? program.executable() : device.firmware()).toString()));
    if (platform.architecture().equals("cortex-m")) cmd.addAll(List.of("-semihosting-config", "enable=on,target=native"));
    cmd.addAll(List.of("-icount", "shift=" + device.icountShift() + ",sleep=off"));
    return cmd;
  }

  /**
   * Calls {@code listener} with every session opened from now on (by {@code build.flash}), on the
   * opening thread, until the returned registration is closed. For hosts that must be able to close
   * what user code opened: the Jupyter kernel closes a cell's sessions when the cell is interrupted.
   */
  public static Registration onOpen(Consumer<DeviceSession> listener) {
    Args.notNull(listener, "listener", "DeviceSession.onOpen(listener)", "a Consumer<DeviceSession>, e.g. s -> sessions.add(s)");
    OPEN_LISTENERS.add(listener);
    return () -> OPEN_LISTENERS.remove(listener);
  }

  public Build build() { return build; }

  public Device device() { return device; }

  /** The link, e.g. {@code process(kiln-device, pid 1234)}. */
  public String transport() { return link; }

  public State state() { return state; }

  /** The device process's id for {@link Device#host()} sessions, else empty. */
  public java.util.OptionalLong devicePid() { return pid > 0 ? java.util.OptionalLong.of(pid) : java.util.OptionalLong.empty(); }

  /** Log lines the device sent during this session. */
  public List<String> deviceLogs() { return List.copyOf(logs); }

  /** Why the session failed, or null. */
  public String failure() { return failure; }

  /** The device program this session runs (built by Kiln), or null for a board flashed beforehand. */
  public DeviceProgram program() { return program; }

  /**
   * True when the graph JSON is linked into the device program (it does not fit one packet of the
   * board). For a program Kiln did not build (a flashed board, a given firmware) the same rule is
   * applied to the device's packet size, as {@code kiln project} applied it when it wrote the program.
   */
  public boolean graphJsonLinked() {
    if (program != null) return program.graphJsonLinked();
    if (build.executor().kind() != Executor.Kind.GRAPH) return false;
    if (linkedByRule == null) {
      long packet = call("GetCRTMaxPacketSize", () -> session.rpc().getGlobalFunction(dev.kiln.rpc.RpcClient.MAX_PACKET_FUNCTION)
          .callLong()) + 11;
      linkedByRule = DeviceProgram.linksGraphJson(build.graphJson(), (int) packet);
    }
    return linkedByRule;
  }

  private Boolean linkedByRule;

  /** The low-level session (RPC client, system library). */
  public Session session() { return session; }

  /**
   * When this session last talked to its device (the start of its last RPC exchange, opening
   * included), in {@link System#nanoTime} units: a notebook's stop button closes only the sessions
   * the interrupted cell used.
   */
  public long lastUsedNanos() { return session.rpc().lastExchangeNanos(); }

  /** The build's complete metadata (executor options, both names of every input and output, memory). */
  public com.fasterxml.jackson.databind.node.ObjectNode metadata() { return build.metadata(); }

  /** The model's executor on the device, created on first use. */
  public ModelExecutor executor() {
    return locked(() -> {
      ensureOpen("executor()");
      if (executor == null) {
        DeviceExecutor device = call("create " + build.executor(), () -> switch (build.executor().kind()) {
          case GRAPH -> GraphExecutor.create(session, graphJsonLinked() ? "" : build.graphJson(),
              build.model().inputs().stream().map(TensorInfo::name).toList());
          case AOT -> AotExecutor.create(session, build.executor().moduleName());
        });
        executor = new ModelExecutor(this, build, device);
      }
      return executor;
    });
  }

  /**
   * The device clock's instructions per microsecond where the platform counts instructions rather
   * than time: QEMU with {@code -icount shift=N} runs one instruction per 2^N virtual nanoseconds;
   * empty for every wall clock.
   */
  java.util.OptionalDouble instructionsPerMicrosecond() {
    // as Timing.instructions(): from shift 7 up an instruction lasts two timer ticks, so times round to exact counts
    return device.kind() == Device.Kind.QEMU && device.icountShift() >= 7
        ? java.util.OptionalDouble.of(1000.0 / (1L << device.icountShift())) : java.util.OptionalDouble.empty();
  }

  /**
   * The deepest the device's stack has reached since it started, in bytes, measured by the device
   * (its platform paints the stack; {@code kiln.runtime.StackHighWater}); empty if its platform does not.
   */
  public java.util.OptionalLong stackHighWater() {
    return call("stack high-water", () -> {
      try {
        return java.util.OptionalLong.of(session.rpc().getGlobalFunction("kiln.runtime.StackHighWater").callLong());
      } catch (dev.kiln.rpc.NoSuchFunctionException e) {
        return java.util.OptionalLong.empty();
      }
    });
  }

  /**
   * Flash and RAM of the program this session runs, read from its ELF without a device call (no
   * stack figure: {@link #memory()} asks the device); empty for a board flashed outside Kiln.
   */
  public java.util.Optional<dev.kiln.project.ProgramMemory> programMemory() {
    return program == null ? java.util.Optional.empty() : java.util.Optional.of(build.memoryOf(program));
  }

  /**
   * Flash and RAM of the program this session runs, from its ELF, with the stack high-water the
   * device measured so far (run the model first to include its deepest call).
   */
  public dev.kiln.project.ProgramMemory memory() {
    if (program == null) {
      throw new KilnException("the firmware on " + device + " was built outside Kiln, so its ELF is unknown; "
          + "build.deviceMemory() gives the host device program's figures, session.stackHighWater() the board's stack");
    }
    dev.kiln.project.ProgramMemory m = build.memoryOf(program);
    java.util.OptionalLong stack = stackHighWater();
    return stack.isPresent() ? m.withStackHighWater(stack.getAsLong()) : m;
  }

  /** Times {@code run} on the device with its own clock. */
  public Timing timeEvaluator() {
    ensureOpen("timeEvaluator()");
    ModelExecutor ex = executor();
    return new Timing(this, session.timeEvaluator(ex.device().module(), "run"));
  }

  /** Throws unless the session is open, saying why it is not (closed by the user, or failed and why). */
  void ensureOpen(String what) {
    if (state == State.OPEN) return;
    if (state == State.FAILED) {
      throw new KilnDeviceException(what + ": the session failed (" + failure + "), so it has nothing to give;"
          + " open a new one with build.flash(device)");
    }
    throw new KilnDeviceException(what + ": the session with " + device + " is closed; open a new one with build.flash(device)");
  }

  /**
   * Runs {@code body} holding this session's lock, so the device calls inside it are not interleaved
   * with another thread's; waits at most ten device timeouts for the lock.
   */
  <T> T locked(java.util.function.Supplier<T> body) {
    boolean got;
    try {
      got = lock.tryLock(device.timeout().toMillis() * 10, java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KilnDeviceException("interrupted while waiting for another thread's call on this session", e);
    }
    if (!got) {
      throw new KilnDeviceException("the session with " + device + " is busy: another thread's calls held it for over "
          + dev.kiln.transport.Timeout.format(device.timeout().multipliedBy(10)) + "; use one session per thread");
    }
    try {
      return body.get();
    } finally {
      lock.unlock();
    }
  }

  <T> T call(String what, Call<T> call) {
    return locked(() -> callLocked(what, call));
  }

  private <T> T callLocked(String what, Call<T> call) {
    ensureOpen(what);
    try {
      return call.run();
    } catch (RemoteException e) {
      throw new KilnDeviceException("the device refused " + what + ": " + e.deviceMessage(), e);
    } catch (IOException e) {
      if (state == State.CLOSED) {
        // close() from another thread (an interrupt hook) ended the call: the session is closed, not failed.
        throw new KilnDeviceException(what + " stopped: the session was closed while it ran.\n"
            + "Open a new one with build.flash(device).", e);
      }
      String message = e.getMessage();
      // (not for "no reply; ...": a damaged or dropped frame is not a reply that fits no request)
      if (e instanceof dev.kiln.transport.LinkCorruptedException && !message.contains("reply to the previous request")
          && !message.contains(": no reply; ")) {
        message += session.rpc().strayHint(); // a reply that fits no request: name the request it most likely answers
      }
      state = State.FAILED;
      failure = message;
      closeQuietly();
      throw new KilnDeviceException(what + " failed: " + message + "\nThe session is closed; the host is fine: open a new one with build.flash(device).", e);
    }
  }

  private void closeQuietly() {
    try {
      session.close();
    } catch (IOException ignored) {
      // already failed; nothing more to report
    }
  }

  /** Closes the link (and ends a host device's process); safe from any thread, and twice. */
  @Override public void close() {
    if (state == State.OPEN) state = State.CLOSED;
    closeQuietly();
  }

  @Override public String toString() {
    String graph = build.executor().kind() != Executor.Kind.GRAPH ? ""
        : state == State.OPEN && graphJsonLinked() ? "; graph JSON linked into the program (it does not fit one "
            + (program != null ? program.sizes().packetBytes() + "-byte " : "") + "packet)"
        : "; graph JSON sent in the create call";
    return build.model().name() + " (" + build.executor() + ") on " + device + " over " + link + graph + ": "
        + state.name().toLowerCase(java.util.Locale.ROOT);
  }
}
