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
  /** Who set each input (null: not set); guarded by the session's lock. */
  private final Thread[] inputSetBy;
  /** Who made the last run(), or null; guarded by the session's lock. */
  private Thread ranBy;
  /** Whether the device's outputs are those of that run (no input set since); guarded by the session's lock. */
  private boolean outputsCurrent;
  /** Who set an input after the last run(), or null. */
  private Thread changedBy;

  ModelExecutor(DeviceSession session, Build build, DeviceExecutor device) {
    this.session = session;
    this.build = build;
    this.device = device;
    this.inputSetBy = new Thread[build.model().inputs().size()];
  }

  public List<TensorInfo> inputs() { return build.model().inputs(); }

  public List<TensorInfo> outputs() { return build.model().outputs(); }

  /** The executor and options this session runs. */
  public Executor kind() { return build.executor(); }

  /** The device-level executor (for direct remote calls and time_evaluator). */
  public DeviceExecutor device() { return device; }

  /** Sets input {@code name} (model name, C name or alias). */
  public ModelExecutor setInput(String name, Tensor value) {
    Args.notNull(name, "name", "setInput(name, value)", "an input's model name or C name, or use setInput(index, value); the inputs are:"
        + list(inputs()));
    Args.notNull(value, "value", "setInput(\"" + name + "\", value)", "a Tensor, e.g. Tensor.load(\"input.npy\")");
    if (session.device().isStrictMicroTvm()) {
      // as a microTVM host does: the device resolves the name (microTVM's CRT aborts on a name it does not know)
      long index = session.locked(() -> session.call("get_input_index(\"" + name + "\")",
          () -> device.module().getFunction("get_input_index").callLong(name)));
      return setInput((int) index, value);
    }
    return setInput(build.model().input(name), value);
  }

  public ModelExecutor setInput(int index, Tensor value) {
    List<TensorInfo> ins = inputs();
    if (index < 0 || index >= ins.size()) {
      throw new KilnException("input index " + index + " is out of range: the model has " + ins.size() + " input(s):" + list(ins));
    }
    Args.notNull(value, "value", "setInput(" + index + ", value)", "a Tensor, e.g. Tensor.load(\"input.npy\")");
    return setInput(ins.get(index), value);
  }

  private ModelExecutor setInput(TensorInfo info, Tensor value) {
    check(info, value);
    session.locked(() -> {
      session.call("setInput(" + info.name() + ")", () -> {
        device.setInput(info.index(), value.bytes());
        return null;
      });
      inputSetBy[info.index()] = Thread.currentThread();
      if (outputsCurrent) changedBy = Thread.currentThread();
      outputsCurrent = false;
      return null;
    });
    return this;
  }

  /**
   * Runs the model once on the device; every input must have been set. Thread-safe with the other
   * calls of this session (they are serialized); an input another live thread set since is refused,
   * so no caller runs on another caller's inputs.
   */
  public ModelExecutor run() {
    session.locked(() -> {
      session.ensureOpen("run()");
      List<String> missing = new ArrayList<>();
      for (int i = 0; i < inputSetBy.length; i++) if (inputSetBy[i] == null) missing.add(inputs().get(i).describe());
      if (!missing.isEmpty()) {
        throw new KilnException("run() before every input was set; still missing: " + String.join("; ", missing)
            + ". Call setInput(name, tensor) for each first.");
      }
      for (int i = 0; i < inputSetBy.length; i++) {
        Thread other = inputSetBy[i];
        if (other != Thread.currentThread() && other.isAlive()) {
          throw new KilnException("run() on thread '" + Thread.currentThread().getName() + "': input " + inputs().get(i).names()
              + " was last set by thread '" + other.getName() + "', which is still running; one executor serves one caller at"
              + " a time. Use executor.infer(inputs) (sets, runs and reads as one call) or one session per thread.");
        }
      }
      session.call("run()", () -> {
        device.run();
        return null;
      });
      ranBy = Thread.currentThread();
      outputsCurrent = true;
      changedBy = null;
      return null;
    });
    return this;
  }

  private void requireInputs(String what) {
    List<String> missing = new ArrayList<>();
    for (int i = 0; i < inputSetBy.length; i++) if (inputSetBy[i] == null) missing.add(inputs().get(i).describe());
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
    return session.locked(() -> {
      session.ensureOpen("profile()");
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
      ranBy = Thread.currentThread();
      outputsCurrent = true;
      changedBy = null;
      return build.profileOf(times, session.device().toString(), session.instructionsPerMicrosecond());
    });
  }

  /**
   * Sets every input (model order), runs once and reads every output, as one call: safe to use
   * from many threads at once on one session (the calls are serialized, each caller gets its own
   * outputs).
   */
  public List<Tensor> infer(List<Tensor> inputs) {
    Args.notNull(inputs, "inputs", "infer(inputs)", "one Tensor per model input, in model order");
    if (inputs.size() != inputs().size()) {
      throw new KilnException("infer(inputs): the model takes " + inputs().size() + " input(s), got " + inputs.size() + ":" + list(inputs()));
    }
    for (int i = 0; i < inputs.size(); i++) {
      Args.notNull(inputs.get(i), "inputs[" + i + "]", "infer(inputs)", "a Tensor for " + inputs().get(i).describe());
      check(inputs().get(i), inputs.get(i));
    }
    return session.locked(() -> {
      for (int i = 0; i < inputs.size(); i++) setInput(i, inputs.get(i));
      run();
      return getOutputs();
    });
  }

  public Tensor getOutput(int index) {
    List<TensorInfo> outs = outputs();
    if (index < 0 || index >= outs.size()) {
      throw new KilnException("output index " + index + " is out of range: the model has " + outs.size() + " output(s):" + list(outs));
    }
    return getOutput(outs.get(index));
  }

  public Tensor getOutput(String name) {
    Args.notNull(name, "name", "getOutput(name)", "an output's model name or C name, or use getOutput(index); the outputs are:" + list(outputs()));
    return getOutput(build.model().output(name));
  }

  private Tensor getOutput(TensorInfo info) {
    return session.locked(() -> {
      session.ensureOpen("getOutput(" + info.name() + ")");
      Thread me = Thread.currentThread();
      if (!outputsCurrent && changedBy != null && changedBy != me && changedBy.isAlive()) {
        throw new KilnException("getOutput(" + info.name() + ") on thread '" + me.getName() + "': since the last run(), thread '"
            + changedBy.getName() + "' (still running) set an input, so the device no longer holds your results. One executor"
            + " serves one caller at a time: use executor.infer(inputs) or one session per thread.");
      }
      if (!outputsCurrent) throw new KilnException("output " + info.names() + " read before run(): set the inputs, call run(), then getOutput");
      if (ranBy != me && ranBy.isAlive()) {
        throw new KilnException("getOutput(" + info.name() + ") on thread '" + Thread.currentThread().getName() + "': the last run() was made"
            + " by thread '" + ranBy.getName() + "', which is still running, so these outputs are its results, not yours. One"
            + " executor serves one caller at a time: use executor.infer(inputs) or one session per thread.");
      }
      byte[] bytes = session.call("getOutput(" + info.name() + ")", () -> device.getOutput(info.index()));
      return Tensor.of(HostModel.dtype(info.dtype()), info.shape(), bytes);
    });
  }

  /** All outputs in the model's order. */
  public List<Tensor> getOutputs() {
    return session.locked(() -> {
      List<Tensor> out = new ArrayList<>();
      for (int j = 0; j < outputs().size(); j++) out.add(getOutput(j));
      return out;
    });
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
