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
      // family: elementwise math (ops-eltwise)
      Map.entry(101, OpType.ABS), Map.entry(59, OpType.NEG), Map.entry(75, OpType.SQRT), Map.entry(76, OpType.RSQRT),
      Map.entry(92, OpType.SQUARE), Map.entry(47, OpType.EXP), Map.entry(73, OpType.LOG), Map.entry(66, OpType.SIN),
      Map.entry(108, OpType.COS), Map.entry(104, OpType.CEIL), Map.entry(8, OpType.FLOOR), Map.entry(116, OpType.ROUND),
      Map.entry(42, OpType.DIV), Map.entry(90, OpType.FLOOR_DIV), Map.entry(95, OpType.FLOOR_MOD), Map.entry(78, OpType.POW),
      Map.entry(99, OpType.SQUARED_DIFFERENCE), Map.entry(55, OpType.MAXIMUM), Map.entry(57, OpType.MINIMUM),
      Map.entry(71, OpType.EQUAL), Map.entry(72, OpType.NOT_EQUAL), Map.entry(61, OpType.GREATER),
      Map.entry(62, OpType.GREATER_EQUAL), Map.entry(58, OpType.LESS), Map.entry(63, OpType.LESS_EQUAL),
      Map.entry(86, OpType.LOGICAL_AND), Map.entry(84, OpType.LOGICAL_OR), Map.entry(87, OpType.LOGICAL_NOT),
      Map.entry(123, OpType.SELECT_V2), Map.entry(53, OpType.CAST), Map.entry(111, OpType.ELU),
      Map.entry(98, OpType.LEAKY_RELU), Map.entry(117, OpType.HARD_SWISH), Map.entry(54, OpType.PRELU),
      Map.entry(150, OpType.GELU), Map.entry(20, OpType.RELU_N1_TO_1), Map.entry(50, OpType.LOG_SOFTMAX),
      Map.entry(106, OpType.ADD_N), Map.entry(93, OpType.ZEROS_LIKE), Map.entry(94, OpType.FILL),
      // family: data movement (ops-movement)
      Map.entry(7, OpType.EMBEDDING_LOOKUP),
      Map.entry(36, OpType.GATHER),
      Map.entry(39, OpType.TRANSPOSE),
      Map.entry(43, OpType.SQUEEZE),
      Map.entry(45, OpType.STRIDED_SLICE),
      Map.entry(49, OpType.SPLIT),
      Map.entry(65, OpType.SLICE),
      Map.entry(69, OpType.TILE),
      Map.entry(70, OpType.EXPAND_DIMS),
      Map.entry(77, OpType.SHAPE),
      Map.entry(83, OpType.PACK),
      Map.entry(88, OpType.UNPACK),
      Map.entry(102, OpType.SPLIT_V),
      Map.entry(105, OpType.REVERSE_V2),
      Map.entry(107, OpType.GATHER_ND),
      Map.entry(130, OpType.BROADCAST_TO),
      Map.entry(145, OpType.BROADCAST_ARGS),
      Map.entry(151, OpType.DYNAMIC_UPDATE_SLICE),
      // family: reductions, resampling, spatial (ops-reduce)
      Map.entry(74, OpType.SUM),
      Map.entry(82, OpType.REDUCE_MAX),
      Map.entry(89, OpType.REDUCE_MIN),
      Map.entry(140, OpType.REDUCE_ALL),
      Map.entry(56, OpType.ARG_MAX),
      Map.entry(79, OpType.ARG_MIN),
      Map.entry(128, OpType.CUMSUM),
      Map.entry(23, OpType.RESIZE_BILINEAR),
      Map.entry(97, OpType.RESIZE_NEAREST_NEIGHBOR),
      Map.entry(5, OpType.DEPTH_TO_SPACE),
      Map.entry(26, OpType.SPACE_TO_DEPTH),
      Map.entry(37, OpType.BATCH_TO_SPACE_ND),
      Map.entry(38, OpType.SPACE_TO_BATCH_ND),
      Map.entry(100, OpType.MIRROR_PAD),
      Map.entry(60, OpType.PADV2),
      Map.entry(11, OpType.L2_NORMALIZATION),
      Map.entry(12, OpType.L2_POOL_2D),
      Map.entry(13, OpType.LOCAL_RESPONSE_NORMALIZATION),
      Map.entry(27, OpType.SVDF),
      Map.entry(44, OpType.UNIDIRECTIONAL_SEQUENCE_LSTM),
      // family: control flow (ctrl-flow)
      Map.entry(119, OpType.WHILE),
      Map.entry(118, OpType.IF),
      Map.entry(129, OpType.CALL_ONCE),
      Map.entry(142, OpType.VAR_HANDLE),
      Map.entry(143, OpType.READ_VARIABLE),
      Map.entry(144, OpType.ASSIGN_VARIABLE),
      // family: dtypes (tfl-dtypes)
      Map.entry(81, OpType.REDUCE_PROD));

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
