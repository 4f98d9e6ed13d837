package dev.kiln.micro;

import dev.kiln.rpc.Device;
import dev.kiln.rpc.RemoteFunction;
import dev.kiln.rpc.RemoteModule;
import dev.kiln.rpc.RemoteNDArray;
import java.io.IOException;

/**
 * The on-device AoT executor, created remotely with {@code tvm.aot_executor.create(syslib,
 * Device(cpu, 0), module_name)}; inputs by index ({@code get_input(i)} + copy), which microTVM's
 * CRT accepts as well.
 */
public final class AotExecutor implements DeviceExecutor {
  private final RemoteModule module;
  private final RemoteFunction getInput;
  private final RemoteFunction getOutput;
  private final RemoteFunction run;

  private AotExecutor(RemoteModule module) throws IOException {
    this.module = module;
    this.getInput = module.getFunction("get_input");
    this.getOutput = module.getFunction("get_output");
    this.run = module.getFunction("run");
  }

  public static AotExecutor create(Session session, String moduleName) throws IOException {
    Object m = session.rpc().getGlobalFunction("tvm.aot_executor.create").call(session.systemLib(), new Device(1, 0), moduleName);
    return new AotExecutor(Session.asModule(m, "tvm.aot_executor.create"));
  }

  @Override public RemoteModule module() { return module; }

  @Override public void setInput(int index, byte[] data) throws IOException {
    try (RemoteNDArray a = Session.asArray(getInput.call((long) index), "get_input")) {
      a.copyFrom(data);
    }
  }

  @Override public void run() throws IOException { run.call(); }

  @Override public byte[] getOutput(int index) throws IOException {
    try (RemoteNDArray a = Session.asArray(getOutput.call((long) index), "get_output")) {
      return a.toByteArray();
    }
  }

  @Override public int numOutputs() throws IOException {
    return (int) module.getFunction("get_num_outputs").callLong();
  }

  /** get_num_inputs: complete metadata means this is never 0 for a Kiln build. */
  public int numInputs() throws IOException {
    return (int) module.getFunction("get_num_inputs").callLong();
  }

  @Override public String toString() { return "AoT executor " + module; }
}
