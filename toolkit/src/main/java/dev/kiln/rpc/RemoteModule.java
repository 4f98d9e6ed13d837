package dev.kiln.rpc;

import java.io.IOException;
import java.util.List;

/** A module on the device (the system library, an executor), whose functions are found by name. */
public final class RemoteModule {
  private final RpcClient client;
  private final long handle;
  private final String name;

  RemoteModule(RpcClient client, long handle, String name) {
    this.client = client;
    this.handle = handle;
    this.name = name;
  }

  public long handle() { return handle; }

  /**
   * The function {@code functionName} of this module (ModuleGetFunction).
   *
   * @throws NoSuchFunctionException if the module lacks it, listing what it has
   */
  public RemoteFunction getFunction(String functionName) throws IOException {
    return client.moduleFunction(this, functionName);
  }

  /** The module's function names, from kiln.rpc.ListFunctions; empty if the device cannot list them. */
  public List<String> functionNames() throws IOException {
    return client.listFunctions(this);
  }

  @Override public String toString() { return "RemoteModule(" + name + ", 0x" + Long.toHexString(handle) + ")"; }
}
