package dev.kiln.api;

import dev.kiln.ir.Shape;
import dev.kiln.micro.DeviceExecutor;


import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A model's executor on a device, the same for every executor kind: {@code setInput} by model name,
 * C name, alias or index; {@code run}; {@code getOutput} by index or name. Every name, shape and
 * dtype is checked here on the host, against the build's metadata, before a byte is sent; the
 * device only ever receives indices it can trust.
 */
public final class ModelExecutor {
  private final DeviceSession session;
  private final Build build;
  private final DeviceExecutor device;
  private final boolean[] inputSet;
  private boolean ran;

  ModelExecutor(DeviceSession session, Build build, DeviceExecutor device) {
    this.session = session;
    this.build = build;
    this.device = device;
    this.inputSet = new boolean[build.model().inputs().size()];
  }

  public List<TensorInfo> inputs() { return build.model().inputs(); }

  public List<TensorInfo> outputs() { return build.model().outputs(); }

  /** The executor and options this session runs. */
  public Executor kind() { return build.executor(); }

  /** The device-level executor (for direct remote calls and time_evaluator). */
  public DeviceExecutor device() { return device; }

  /** Sets input {@code name} (model name, C name or alias). */
  public ModelExecutor setInput(String name, Tensor value) {
    return setInput(build.model().input(name), value);
  }

  public ModelExecutor setInput(int index, Tensor value) {
    List<TensorInfo> ins = inputs();
    if (index < 0 || index >= ins.size()) {
      throw new KilnException("input index " + index + " is out of range: the model has " + ins.size() + " input(s):" + list(ins));
    }
    return setInput(ins.get(index), value);
  }

  private ModelExecutor setInput(TensorInfo info, Tensor value) {
    check(info, value);
    session.call("setInput(" + info.name() + ")", () -> {
      device.setInput(info.index(), value.bytes());
      return null;
    });
    inputSet[info.index()] = true;
    ran = false;
    return this;
  }

  /** Runs the model once on the device; every input must have been set. */
  public ModelExecutor run() {
    requireInputs("run()");
    session.call("run()", () -> {
      device.run();
      return null;
    });
    ran = true;
    return this;
  }

  private void requireInputs(String what) {
    List<String> missing = new ArrayList<>();
    for (int i = 0; i < inputSet.length; i++) if (!inputSet[i]) missing.add(inputs().get(i).describe());
    if (!missing.isEmpty()) {
      throw new KilnException(what + " before every input was set; still missing: " + String.join("; ", missing)
          + ". Call setInput(name, tensor) for each first.");
    }
  }

  /**
   * Each operator's time, measured on the device by its own clock with the inputs set: one warm-up
   * run, then at least 10 runs and at least 100 ms of them (a microsecond clock needs many runs of a
   * small model). The outputs of those runs can be read after.
   */
  public Profile profile() { return profile(10, 1, 100); }

  /**
   * Each operator's time over {@code rounds} rounds of {@code number} runs (grown until a round lasts
   * {@code minRoundMillis}), measured on the device by its executor's {@code run_individual}, as
   * microTVM's debug executor does.
   */
  public Profile profile(int number, int rounds, int minRoundMillis) {
    if (number < 1) throw new KilnException("profile: number must be at least 1, not " + number);
    if (rounds < 1) throw new KilnException("profile: rounds must be at least 1, not " + rounds);
    if (minRoundMillis < 0) throw new KilnException("profile: minRoundMillis must be at least 0, not " + minRoundMillis);
    requireInputs("profile()");
    dev.kiln.micro.OperatorTimes times = session.call("profile()", () -> {
      try {
        return dev.kiln.micro.OperatorTimes.measure(device.module(), number, rounds, minRoundMillis);
      } catch (dev.kiln.rpc.NoSuchFunctionException e) {
        throw new KilnDeviceException("profile() needs the executor's run_individual, which this device's " + build.executor()
            + " does not have (a microTVM CRT device, or firmware built by an older Kiln): " + e.getMessage()
            + ". Flash a program built by this Kiln, or time the whole run with session.timeEvaluator().", e);
      }
    });
    ran = true;
    return build.profileOf(times, session.device().toString(), session.instructionsPerMicrosecond());
  }

  public Tensor getOutput(int index) {
    List<TensorInfo> outs = outputs();
    if (index < 0 || index >= outs.size()) {
      throw new KilnException("output index " + index + " is out of range: the model has " + outs.size() + " output(s):" + list(outs));
    }
    return getOutput(outs.get(index));
  }

  public Tensor getOutput(String name) { return getOutput(build.model().output(name)); }

  private Tensor getOutput(TensorInfo info) {
    if (!ran) throw new KilnException("output " + info.names() + " read before run(): set the inputs, call run(), then getOutput");
    byte[] bytes = session.call("getOutput(" + info.index() + ")", () -> device.getOutput(info.index()));
    return Tensor.of(HostModel.dtype(info.dtype()), info.shape(), bytes);
  }

  /** All outputs in the model's order. */
  public List<Tensor> getOutputs() {
    List<Tensor> out = new ArrayList<>();
    for (int j = 0; j < outputs().size(); j++) out.add(getOutput(j));
    return out;
  }

  static void check(TensorInfo info, Tensor value) {
    if (!value.dtype().numpyName().equals(info.dtype())) {
      StringBuilder sb = new StringBuilder("input " + info.index() + " " + info.names() + " takes " + info.dtype() + " " + Shape.toString(info.shape())
          + ", but the tensor given is " + value.dtype() + " " + Shape.toString(value.shape()) + ".");
      if (info.isQuantized() && value.dtype().isFloat()) {
        sb.append(String.format(Locale.ROOT, " Quantize it with this input's parameters (scale=%s, zero_point=%d): "
            + "tensor.quantize(executor.inputs().get(%d)), i.e. q = clamp(round(x / %s) + %d, -128, 127).",
            info.scale(), info.zeroPoint(), info.index(), info.scale(), info.zeroPoint()));
      } else if (info.dtype().equals("float32") && value.dtype().numpyName().equals("int8")) {
        sb.append(" Dequantize it first: tensor.dequantize(scale, zeroPoint).");
      }
      throw new KilnException(sb.toString());
    }
    if (!Arrays.equals(value.shape(), info.shape())) {
      String hint = value.elements() == Shape.elements(info.shape()) ? " (same number of elements: tensor.reshape("
          + Shape.toString(info.shape()).replace("[", "").replace("]", "") + ") fixes it)" : "";
      throw new KilnException("input " + info.index() + " " + info.names() + " has shape " + Shape.toString(info.shape())
          + ", but the tensor given has shape " + Shape.toString(value.shape()) + hint);
    }
  }

  private static String list(List<TensorInfo> infos) {
    StringBuilder sb = new StringBuilder();
    for (TensorInfo t : infos) sb.append("\n  ").append(t.index()).append(": ").append(t.describe());
    return sb.toString();
  }

  @Override public String toString() { return build.executor() + " on " + session.device(); }

}
