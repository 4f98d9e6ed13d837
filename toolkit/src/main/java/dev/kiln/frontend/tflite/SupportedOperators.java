package dev.kiln.frontend.tflite;

import dev.kiln.frontend.UnsupportedOperatorException;
import dev.kiln.ir.OpType;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The TFLite builtin operators Kiln compiles and their {@code ir} types. Listed explicitly (not
 * derived from {@link OpType}'s names) because each one also needs its options decoded.
 */
final class SupportedOperators {
  private static final Map<Integer, OpType> BY_CODE = Map.ofEntries(
      Map.entry(0, OpType.ADD),
      Map.entry(1, OpType.AVERAGE_POOL_2D),
      Map.entry(2, OpType.CONCATENATION),
      Map.entry(3, OpType.CONV_2D),
      Map.entry(4, OpType.DEPTHWISE_CONV_2D),
      Map.entry(6, OpType.DEQUANTIZE),
      Map.entry(9, OpType.FULLY_CONNECTED),
      Map.entry(14, OpType.LOGISTIC),
      Map.entry(17, OpType.MAX_POOL_2D),
      Map.entry(18, OpType.MUL),
      Map.entry(19, OpType.RELU),
      Map.entry(21, OpType.RELU6),
      Map.entry(22, OpType.RESHAPE),
      Map.entry(25, OpType.SOFTMAX),
      Map.entry(28, OpType.TANH),
      Map.entry(34, OpType.PAD),
      Map.entry(40, OpType.MEAN),
      Map.entry(41, OpType.SUB),
      Map.entry(114, OpType.QUANTIZE),
      // family: heavy NN operators (ops-nn2)
      Map.entry(67, OpType.TRANSPOSE_CONV),
      Map.entry(126, OpType.BATCH_MATMUL),
      Map.entry(27, OpType.SVDF),
      Map.entry(44, OpType.UNIDIRECTIONAL_SEQUENCE_LSTM));

  private SupportedOperators() {}

  /** The ir type of a supported operator, or null. Custom operators are never supported. */
  static OpType opType(OperatorCode code) {
    return code.isCustom() ? null : BY_CODE.get(code.builtin());
  }

  /** All supported operators' names, alphabetically, for messages. */
  static String list() {
    return BY_CODE.values().stream().map(Enum::name).sorted().collect(Collectors.joining(", "));
  }

  /**
   * The exception for the first unsupported operator of {@code ops}, naming it, its position and
   * tensors, then the other unsupported operators (so one run shows everything to fix), then
   * what is supported. Null when every operator is supported.
   */
  static UnsupportedOperatorException check(String file, List<Operator> ops, List<String> tensorNames) {
    Operator first = null;
    Map<String, Integer> others = new TreeMap<>();
    for (Operator op : ops) {
      if (opType(op.code()) != null) continue;
      if (first == null) first = op;
      else if (!op.code().name().equals(first.code().name())) others.merge(op.code().name(), 1, Integer::sum);
    }
    if (first == null) return null;
    StringBuilder msg = new StringBuilder("operator #").append(first.index()).append(' ');
    if (first.code().isCustom()) {
      msg.append(first.code().customCode() == null ? "is a CUSTOM operator without a custom_code"
          : "is the custom operator '" + first.code().customCode() + "'").append(", which Kiln does not support");
      if (first.code().name().startsWith("Flex")) {
        msg.append(" (Flex operators are TensorFlow ops kept by SELECT_TF_OPS; convert with TFLite builtins only)");
      }
    } else {
      msg.append(first.code().name()).append(" (builtin code ").append(first.code().builtin()).append(") is not supported by Kiln");
    }
    msg.append(": ").append(first.describeTensors(tensorNames)).append('.');
    if (!others.isEmpty()) {
      Set<String> more = new LinkedHashSet<>();
      others.forEach((name, n) -> more.add(n == 1 ? name : name + " x" + n));
      msg.append(" The model also uses these unsupported operators: ").append(String.join(", ", more)).append('.');
    }
    msg.append(" Supported operators: ").append(list()).append('.');
    return new UnsupportedOperatorException(file, msg.toString(), first.code().name(), first.index());
  }
}
