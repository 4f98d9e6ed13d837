package dev.kiln.micro;

import dev.kiln.rpc.RemoteFunction;
import dev.kiln.rpc.RemoteModule;
import dev.kiln.rpc.RemoteNDArray;
import java.io.IOException;
import java.util.List;

/**
 * The on-device graph executor, created remotely with {@code tvm.graph_executor.create(json,
 * syslib, 1, 0)}. Inputs are set the way that works on microTVM too (its CRT {@code set_input} is
 * broken): {@code get_input(name)} then a chunked copy into the returned array.
 */
public final class GraphExecutor implements DeviceExecutor {
  private final RemoteModule module;
  private final List<String> inputNames;
  private final RemoteFunction getInput;
  private final RemoteFunction getOutput;
  private final RemoteFunction run;

  private GraphExecutor(RemoteModule module, List<String> inputNames) throws IOException {
    this.module = module;
    this.inputNames = List.copyOf(inputNames);
    this.getInput = module.getFunction("get_input");
    this.getOutput = module.getFunction("get_output");
    this.run = module.getFunction("run");
  }

  /** Creates the executor on the device from the graph JSON; {@code inputNames} are the JSON's input node names in order. */
  public static GraphExecutor create(Session session, String graphJson, List<String> inputNames) throws IOException {
    Object m = session.rpc().getGlobalFunction("tvm.graph_executor.create").call(graphJson, session.systemLib(), 1L, 0L);
    return new GraphExecutor(Session.asModule(m, "tvm.graph_executor.create"), inputNames);
  }

  @Override public RemoteModule module() { return module; }

  @Override public void setInput(int index, byte[] data) throws IOException {
    try (RemoteNDArray a = Session.asArray(getInput.call(inputNames.get(index)), "get_input")) {
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

  @Override public String toString() { return "graph executor " + module; }
}
