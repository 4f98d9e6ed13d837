package dev.kiln.frontend.tflite;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.ir.Graph;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code Model.signature_defs} (format doc 2.8) as tensor aliases: a signature maps user-facing
 * keys ({@code images}, {@code probs}) to tensors named otherwise ({@code predict_images:0}). The
 * model's I/O order stays {@code SubGraph.inputs/outputs}; keys are only extra names.
 */
final class Signatures {
  // SignatureDef slots (slot 3 is the deprecated tag).
  private static final int INPUTS = 0;
  private static final int OUTPUTS = 1;
  private static final int SIGNATURE_KEY = 2;
  private static final int SUBGRAPH_INDEX = 4;
  // TensorMap slots.
  private static final int NAME = 0;
  private static final int TENSOR_INDEX = 1;

  private Signatures() {}

  /**
   * Adds every key of the signatures of subgraph 0 as an alias of its tensor. A key that is
   * already some tensor's name, or already an alias, is skipped so that every name resolves to
   * exactly one tensor.
   */
  static void addAliases(FlatBuffer fb, List<Table> signatures, List<String> tensorNames, Graph.Builder graph)
      throws ModelFormatException {
    Set<String> taken = new HashSet<>(tensorNames);
    for (Table signature : signatures) {
      if (signature.uint32(SUBGRAPH_INDEX, "subgraph_index") != 0) continue;
      String key = signature.string(SIGNATURE_KEY, "signature_key");
      for (int slot : new int[] {INPUTS, OUTPUTS}) {
        for (Table map : signature.tables(slot, slot == INPUTS ? "inputs" : "outputs", "TensorMap")) {
          String name = map.string(NAME, "name");
          long index = map.uint32(TENSOR_INDEX, "tensor_index");
          if (index >= tensorNames.size()) {
            throw fb.corrupt("signature '" + key + "' maps '" + name + "' to tensor " + index + ", but the subgraph has only "
                + tensorNames.size() + " tensors");
          }
          if (name != null && !name.isEmpty() && taken.add(name)) graph.alias((int) index, name);
        }
      }
    }
  }
}
