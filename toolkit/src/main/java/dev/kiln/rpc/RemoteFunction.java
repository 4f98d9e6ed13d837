package dev.kiln.rpc;

import java.io.IOException;

/**
 * A packed function on the device, called with CallFunc. Arguments map from Java: Integer/Long
 * (Int), Double/Float (Float), Boolean (Bool), String (Str), byte[] (Bytes), null (Nullptr),
 * DataType, Device, TensorRecord or RemoteNDArray (DLTensor), RemoteFunction, RemoteModule,
 * RemoteHandle. Results map back the same way; an NDArray result is a {@link RemoteNDArray} to close.
 */
public final class RemoteFunction {
  private final RpcClient client;
  private final long handle;
  private final String name;
  /** "CallFunc(name)": names every call in errors, made once. */
  final String callName;

  RemoteFunction(RpcClient client, long handle, String name) {
    this.client = client;
    this.handle = handle;
    this.name = name;
    this.callName = "CallFunc(" + name + ")";
  }

  public long handle() { return handle; }

  public String name() { return name; }

  /**
   * Calls the function and waits for its result.
   *
   * @throws RemoteException if the device reports an error (the session goes on)
   * @throws IOException if the link fails (the session is over)
   */
  public Object call(Object... args) throws IOException {
    return client.call(this, args);
  }

  /** {@link #call} for a function returning an integer. */
  public long callLong(Object... args) throws IOException {
    Object r = call(args);
    if (r instanceof Long l) return l;
    throw new IllegalStateException(name + " returned " + (r == null ? "nothing" : r.getClass().getSimpleName() + " " + r)
        + ", not an integer");
  }

  @Override public String toString() { return "RemoteFunction(" + name + ", 0x" + Long.toHexString(handle) + ")"; }
}
