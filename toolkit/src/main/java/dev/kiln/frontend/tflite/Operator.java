package dev.kiln.frontend.tflite;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * One {@code SubGraph.operators} entry with its operator code resolved and its tensor indices
 * already checked to be in range (inputs may be -1: an optional input not given).
 */
record Operator(int index, OperatorCode code, int[] inputs, int[] outputs, Table table) {

  /** For messages: {@code operator #3 (CONV_2D)}. */
  String label() {
    return "operator #" + index + " (" + code.name() + ")";
  }

  /** The operator's tensors by name: {@code inputs [a, b] -> outputs [c]}. */
  String describeTensors(List<String> tensorNames) {
    return "inputs " + names(inputs, tensorNames) + " -> outputs " + names(outputs, tensorNames);
  }

  private static String names(int[] indices, List<String> tensorNames) {
    return Arrays.stream(indices).mapToObj(i -> i < 0 ? "(none)" : "'" + tensorNames.get(i) + "'")
        .collect(Collectors.joining(", ", "[", "]"));
  }
}
