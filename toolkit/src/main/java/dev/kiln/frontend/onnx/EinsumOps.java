package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import java.util.ArrayList;
import java.util.List;

/**
 * Einsum with two operands computed at run time (onnx-ops2): a batched matrix product. Each subscript is a batch
 * axis (in both operands and the output), a row (first operand and output), a column (second operand and output)
 * or the contracted axis (both operands, not the output). The operands are viewed (free permutations, see
 * {@link ShapeOps#permute}) as [batch..., rows, k] and [batch..., k, cols], multiplied by {@link DenseOps#matMul}
 * (BATCH_MATMUL, or FULLY_CONNECTED for a plain matrix) and the result viewed in the output's order.
 */
final class EinsumOps {
  private EinsumOps() {}

  /** Lowers the node and returns null, or returns why the equation is not such a product. */
  static String runtime(GraphLowering l, Proto.Node n, Value a, Value b, String sa, String sb, String out)
      throws ModelFormatException {
    if (sa.contains(".") || sb.contains(".") || out != null && out.contains(".")) return "uses an ellipsis with two computed operands";
    if (sa.length() != a.rank() || sb.length() != b.rank()) {
      return "has subscripts '" + sa + "' and '" + sb + "' for operands of rank " + a.rank() + " and " + b.rank();
    }
    if (!distinct(sa) || !distinct(sb)) return "repeats a subscript within an operand (a diagonal)";
    if (out == null) {
      // implicit output: the subscripts seen once, sorted
      StringBuilder once = new StringBuilder();
      String all = sa + sb;
      all.chars().sorted().distinct().filter(ch -> all.indexOf(ch) == all.lastIndexOf(ch)).forEach(ch -> once.append((char) ch));
      out = once.toString();
    }
    if (!distinct(out)) return "repeats a subscript in the output";
    StringBuilder batch = new StringBuilder();
    StringBuilder rows = new StringBuilder();
    StringBuilder cols = new StringBuilder();
    StringBuilder k = new StringBuilder();
    for (char c : out.toCharArray()) {
      boolean inA = sa.indexOf(c) >= 0;
      boolean inB = sb.indexOf(c) >= 0;
      if (inA && inB) batch.append(c);
      else if (inA) rows.append(c);
      else if (inB) cols.append(c);
      else return "has the output subscript '" + c + "' in neither operand";
    }
    for (char c : sa.toCharArray()) {
      if (out.indexOf(c) < 0 && sb.indexOf(c) < 0) return "sums the first operand over '" + c + "' alone";
      if (out.indexOf(c) < 0) k.append(c);
    }
    for (char c : sb.toCharArray()) if (out.indexOf(c) < 0 && sa.indexOf(c) < 0) return "sums the second operand over '" + c + "' alone";
    if (k.length() != 1 || rows.length() > 1 || cols.length() > 1) {
      return "contracts " + k.length() + " axes with " + rows.length() + " row and " + cols.length()
          + " column axes (Kiln takes one contracted axis and at most one of each)";
    }
    for (char c : batch.toString().toCharArray()) {
      int da = a.shape[sa.indexOf(c)];
      int db = b.shape[sb.indexOf(c)];
      if (da != db && da != 1 && db != 1) return "has '" + c + "' of sizes " + da + " and " + db;
    }
    char kc = k.charAt(0);
    if (a.shape[sa.indexOf(kc)] != b.shape[sb.indexOf(kc)]) {
      throw l.error(n, "contracts '" + kc + "' of sizes " + a.shape[sa.indexOf(kc)] + " and " + b.shape[sb.indexOf(kc)]);
    }
    // [batch..., rows, k] x [batch..., k, cols]; a missing row or column axis is a size-1 one
    String oa = batch.toString() + rows + kc;
    String ob = batch.toString() + kc + cols;
    String name = GraphLowering.output(n, 0);
    Value va = view(l, a, sa, oa, name + "/a", rows.length() == 0 ? oa.length() - 1 : -1);
    Value vb = view(l, b, sb, ob, name + "/b", cols.length() == 0 ? ob.length() : -1);
    String product = batch.toString() + (rows.length() == 0 ? "#" : rows) + (cols.length() == 0 ? "@" : cols);
    String tmp = name + "/einsum";
    Proto.Node inner = new Proto.Node(n.index(), n.name(), n.opType(), n.domain(), n.inputs(), List.of(tmp), n.attributes(), n.path());
    DenseOps.matMul(l, inner, va, vb);
    Value r = l.value(n, tmp);
    // drop the size-1 stand-ins, then put the axes in the output's order
    String kept = product.replace("#", "").replace("@", "");
    int[] keptShape = new int[kept.length()];
    for (int i = 0; i < kept.length(); i++) keptShape[i] = r.shape[product.indexOf(kept.charAt(i))];
    if (kept.length() != product.length()) r = r.reshaped(tmp + "/squeezed", keptShape);
    int[] perm = new int[out.length()];
    for (int i = 0; i < out.length(); i++) perm[i] = kept.indexOf(out.charAt(i));
    r = Value.isIdentity(perm) ? r.renamed(name) : ShapeOps.permute(l, r, perm, name);
    l.define(n, name, r);
    return null;
  }

  /** {@code v} (subscripts {@code from}) seen in the order {@code to}, with a size-1 axis inserted at {@code unit} if >= 0. */
  private static Value view(GraphLowering l, Value v, String from, String to, String name, int unit) {
    int[] perm = new int[to.length()];
    for (int i = 0; i < to.length(); i++) perm[i] = from.indexOf(to.charAt(i));
    Value p = Value.isIdentity(perm) ? v : ShapeOps.permute(l, v, perm, name);
    if (unit < 0) return p;
    List<Integer> shape = new ArrayList<>();
    for (int s : p.shape) shape.add(s);
    shape.add(unit, 1);
    return p.reshaped(name + "/unit", shape.stream().mapToInt(Integer::intValue).toArray());
  }

  private static boolean distinct(String s) { return s.chars().distinct().count() == s.length(); }
}
