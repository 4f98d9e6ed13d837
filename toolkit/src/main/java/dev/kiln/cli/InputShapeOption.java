package dev.kiln.cli;

import dev.kiln.api.LoadOptions;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * {@code --input-shape NAME=D0,D1,...}, repeatable: concrete shapes for model inputs with symbolic dimensions; and
 * {@code --constant-input NAME=FILE.npy}: an ONNX input compiled as a constant of that value.
 */
final class InputShapeOption {
  @Option(names = "--input-shape", paramLabel = "NAME=D0,D1,...",
      description = "Fix the shape of an input whose dimensions the model leaves open (ONNX dim_param, e.g. batch_size):"
          + " --input-shape 'input:0=1,3,32,32'. Repeat for each such input.")
  List<String> specs = new ArrayList<>();

  @Option(names = "--constant-input", paramLabel = "NAME=FILE.npy",
      description = "Compile an ONNX input the application always feeds the same (a Resize's scales, a TopK's K, a Reshape's"
          + " shape) as a constant of this value; it leaves the compiled model's inputs: --constant-input 'scales=scales.npy'.")
  List<String> constants = new ArrayList<>();

  LoadOptions options() {
    LoadOptions o = LoadOptions.defaults();
    for (String s : specs) o = o.andInputShape(s);
    for (String c : constants) {
      int eq = c.lastIndexOf('=');
      if (eq <= 0 || eq == c.length() - 1) {
        throw new dev.kiln.api.KilnException("a constant input is NAME=FILE.npy, e.g. 'scales=scales.npy', not '" + c + "'");
      }
      o = o.andConstantInput(c.substring(0, eq), dev.kiln.api.Tensor.load(c.substring(eq + 1)));
    }
    return o;
  }
}
