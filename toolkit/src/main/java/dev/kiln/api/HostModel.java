package dev.kiln.api;

import dev.kiln.ir.DType;
import dev.kiln.project.HostProgram;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A build compiled by gcc into a host program that calls the AoT C interface exactly as firmware
 * would; runs as a separate process, so a crash in generated code cannot take the JVM down.
 */
public final class HostModel {
  private final Build build;
  private final HostProgram program;
  private final Path work;

  HostModel(Build build, HostProgram program, Path work) {
    this.build = build;
    this.program = program;
    this.work = work;
  }

  public Build build() { return build; }

  /** The gcc command that built the program. */
  public List<String> compileCommand() { return program.compileCommand(); }

  /** Runs once; inputs and outputs in the model's order, inputs checked against the model first. */
  public List<Tensor> run(List<Tensor> inputs) {
    Args.notNull(inputs, "inputs", "run(inputs)", "one Tensor per model input, in model order");
    try {
      return toTensors(program.run(checked(inputs), work.resolve("run")));
    } catch (IOException e) {
      throw new KilnException("running " + program.executable() + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KilnException("interrupted while running " + program.executable(), e);
    }
  }

  /**
   * Runs once per input list, in order, in one process: a model with variables (SVDF, sequence
   * LSTM) carries its state from one call to the next, as on a device.
   */
  public List<List<Tensor>> runSequence(List<List<Tensor>> steps) {
    try {
      List<List<byte[]>> raw = new ArrayList<>();
      for (List<Tensor> inputs : steps) raw.add(checked(inputs));
      List<List<Tensor>> out = new ArrayList<>();
      for (List<byte[]> r : program.runSequence(raw, work.resolve("sequence"))) out.add(toTensors(r));
      return out;
    } catch (IOException e) {
      throw new KilnException("running " + program.executable() + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KilnException("interrupted while running " + program.executable(), e);
    }
  }

  /** Per-call times in nanoseconds of {@code repeat} calls in one process (after one warm-up call). */
  public long[] time(List<Tensor> inputs, int repeat) {
    Args.notNull(inputs, "inputs", "time(inputs, repeat)", "one Tensor per model input, in model order");
    if (repeat < 1) throw new KilnException("time(inputs, repeat): repeat must be at least 1, not " + repeat);
    try {
      long[] t = program.timedRun(checked(inputs), repeat + 1, work.resolve("time")).callNanos();
      return Arrays.copyOfRange(t, 1, t.length);
    } catch (IOException e) {
      throw new KilnException("timing " + program.executable() + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KilnException("interrupted while timing " + program.executable(), e);
    }
  }

  private List<byte[]> checked(List<Tensor> inputs) {
    List<TensorInfo> infos = build.model().inputs();
    if (inputs.size() != infos.size()) {
      throw new KilnException("the model takes " + infos.size() + " input(s), got " + inputs.size());
    }
    List<byte[]> raw = new ArrayList<>();
    for (int i = 0; i < infos.size(); i++) {
      TensorInfo info = infos.get(i);
      Tensor t = Args.notNull(inputs.get(i), "inputs[" + i + "]", "run(inputs)", "a Tensor for " + info.describe());
      if (!t.dtype().numpyName().equals(info.dtype())) {
        throw new KilnException("input " + i + " " + info.names() + " is " + info.dtype() + ", got " + t.dtype());
      }
      if (t.elements() != dev.kiln.ir.Shape.elements(info.shape())) {
        throw new KilnException("input " + i + " " + info.names() + " has shape " + dev.kiln.ir.Shape.toString(info.shape())
            + ", got " + dev.kiln.ir.Shape.toString(t.shape()));
      }
      raw.add(t.bytes());
    }
    return raw;
  }

  private List<Tensor> toTensors(List<byte[]> raw) {
    List<TensorInfo> outs = build.model().outputs();
    List<Tensor> result = new ArrayList<>();
    for (int j = 0; j < outs.size(); j++) result.add(Tensor.of(dtype(outs.get(j).dtype()), outs.get(j).shape(), raw.get(j)));
    return result;
  }

  static DType dtype(String numpyName) {
    for (DType d : DType.values()) if (d.numpyName().equals(numpyName)) return d;
    throw new IllegalArgumentException(numpyName);
  }
}
