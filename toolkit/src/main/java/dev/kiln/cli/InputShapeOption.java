package dev.kiln.cli;

import dev.kiln.api.LoadOptions;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** {@code --input-shape NAME=D0,D1,...}, repeatable: concrete shapes for model inputs with symbolic dimensions. */
final class InputShapeOption {
  @Option(names = "--input-shape", paramLabel = "NAME=D0,D1,...",
      description = "Fix the shape of an input whose dimensions the model leaves open (ONNX dim_param, e.g. batch_size):"
          + " --input-shape 'input:0=1,3,32,32'. Repeat for each such input.")
  List<String> specs = new ArrayList<>();

  LoadOptions options() {
    LoadOptions o = LoadOptions.defaults();
    for (String s : specs) o = o.andInputShape(s);
    return o;
  }
}
