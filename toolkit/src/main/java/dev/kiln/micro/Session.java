package dev.kiln.micro;

import dev.kiln.transport.LinkCorruptedException;
import dev.kiln.rpc.RemoteModule;
import dev.kiln.rpc.RemoteNDArray;
import dev.kiln.rpc.RpcClient;
import dev.kiln.rpc.RpcOptions;
import dev.kiln.transport.Transport;
import java.io.IOException;

/**
 * A microTVM session with one device: the RPC client over its transport, the system library, and
 * executors created on the device. Closing sends the RPC shutdown (no reply is awaited: a real
 * microTVM device never answers it) and closes the link; closing twice is safe.
 */
public final class Session implements AutoCloseable {
  private final RpcClient rpc;
  private RemoteModule systemLib;
  private boolean closed;

  private Session(RpcClient rpc) {
    this.rpc = rpc;
  }

  /** Handshakes over {@code transport}; the transport is closed if that fails. */
  public static Session open(Transport transport, RpcOptions options) throws IOException {
    return new Session(RpcClient.open(transport, options));
  }

  public RpcClient rpc() { return rpc; }

  public boolean isOpen() { return !closed && rpc.isOpen(); }

  public RemoteModule systemLib() throws IOException {
    if (systemLib == null) systemLib = rpc.systemLib();
    return systemLib;
  }

  public TimeEvaluator timeEvaluator(RemoteModule module, String function) {
    return new TimeEvaluator(rpc, module, function);
  }

  @Override public void close() throws IOException {
    if (closed) return;
    closed = true;
    try {
      if (rpc.isOpen()) rpc.shutdown();
    } catch (IOException ignored) {
      // The device may already be gone; closing the link below is what matters.
    } finally {
      rpc.close();
    }
  }

  static RemoteModule asModule(Object o, String call) throws IOException {
    if (o instanceof RemoteModule m) return m;
    throw new LinkCorruptedException(call + " returned " + o + ", not a module");
  }

  static RemoteNDArray asArray(Object o, String call) throws IOException {
    if (o instanceof RemoteNDArray a) return a;
    throw new LinkCorruptedException(call + " returned " + o + ", not an array");
  }

  @Override public String toString() { return "Session(" + rpc + ")"; }
}
