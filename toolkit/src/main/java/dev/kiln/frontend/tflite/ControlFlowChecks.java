package dev.kiln.frontend.tflite;

import dev.kiln.frontend.ModelFormatException;
import dev.kiln.frontend.UnsupportedOperatorException;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Shape;
import dev.kiln.ir.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * The contract between a control-flow operator and the subgraphs it runs, checked when the model
 * is read: as many operands as parameters, and every operand, parameter and result of one dtype
 * and static shape, so each loop-carried value has one buffer whose size never changes. A WHILE
 * whose body changes a shape per iteration (TFLite resizes tensors at run time) is refused here.
 */
final class ControlFlowChecks {
  private ControlFlowChecks() {}

  static void check(String file, int subgraph, Operator op, OpType type, List<TensorInfo> tensors, List<Graph> graphs,
                    List<Integer> indices) throws ModelFormatException {
    String where = "subgraph " + subgraph + " " + op.label();
    for (int t : op.inputs()) {
      if (t < 0) throw new ModelFormatException(file, where + " has an absent input; " + type + " passes every operand on");
    }
    switch (type) {
      case WHILE: {
        Graph cond = graphs.get(0);
        Graph body = graphs.get(1);
        int n = op.inputs().length;
        count(file, where, "outputs", op.outputs().length, n);
        count(file, where + " cond subgraph " + indices.get(0), "inputs", cond.inputs().size(), n);
        count(file, where + " body subgraph " + indices.get(1), "inputs", body.inputs().size(), n);
        count(file, where + " body subgraph " + indices.get(1), "outputs", body.outputs().size(), n);
        if (cond.outputs().size() != 1 || cond.outputs().get(0).dtype() != DType.BOOL || cond.outputs().get(0).elements() != 1) {
          throw new ModelFormatException(file, where + ": its cond subgraph " + indices.get(0) + " must return one bool, "
              + "but returns " + cond.outputs());
        }
        for (int i = 0; i < n; i++) {
          TensorInfo in = tensors.get(op.inputs()[i]);
          TensorInfo out = tensors.get(op.outputs()[i]);
          Tensor bodyOut = body.outputs().get(i);
          if (bodyOut.dtype() != in.dtype() || !Arrays.equals(bodyOut.shape(), in.shape())) {
            throw new UnsupportedOperatorException(file, where + ": loop value " + i + " enters as " + in.describe() + " "
                + in.dtype() + " " + Shape.toString(in.shape()) + " but the body subgraph " + indices.get(1) + " returns "
                + bodyOut.name() + " " + bodyOut.dtype() + " " + Shape.toString(bodyOut.shape())
                + "; Kiln compiles loops whose values keep one dtype and shape in every iteration (a body that changes"
                + " shapes per iteration needs run-time allocation): keep the loop's tensors at a fixed size", "WHILE", op.index());
          }
          same(file, where, "operand " + i, in, out, "its output " + i);
          same(file, where, "operand " + i, in, cond.inputs().get(i), "cond subgraph " + indices.get(0) + " input " + i);
          same(file, where, "operand " + i, in, body.inputs().get(i), "body subgraph " + indices.get(1) + " input " + i);
        }
        return;
      }
      case IF: {
        if (op.inputs().length < 1) throw new ModelFormatException(file, where + " has no condition input");
        TensorInfo c = tensors.get(op.inputs()[0]);
        if (c.dtype() != DType.BOOL || Shape.elements(c.shape()) != 1) {
          throw new UnsupportedOperatorException(file, where + ": its condition " + c.describe() + " is " + c.dtype() + " "
              + Shape.toString(c.shape()) + "; IF takes one bool (TFLite's kernel requires it)", "IF", op.index());
        }
        for (int b = 0; b < 2; b++) {
          Graph branch = graphs.get(b);
          String label = where + " " + (b == 0 ? "then" : "else") + " subgraph " + indices.get(b);
          count(file, label, "inputs", branch.inputs().size(), op.inputs().length - 1);
          count(file, label, "outputs", branch.outputs().size(), op.outputs().length);
          for (int i = 1; i < op.inputs().length; i++) {
            same(file, where, "operand " + i, tensors.get(op.inputs()[i]), branch.inputs().get(i - 1),
                label + " input " + (i - 1));
          }
          for (int j = 0; j < op.outputs().length; j++) {
            TensorInfo out = tensors.get(op.outputs()[j]);
            Tensor r = branch.outputs().get(j);
            if (r.dtype() != out.dtype() || !Arrays.equals(r.shape(), out.shape())) {
              throw new UnsupportedOperatorException(file, where + ": output " + j + " " + out.describe() + " is " + out.dtype()
                  + " " + Shape.toString(out.shape()) + " but the " + label + " returns " + r.name() + " " + r.dtype() + " "
                  + Shape.toString(r.shape()) + "; Kiln compiles IF whose branches return the output's dtype and static"
                  + " shape", "IF", op.index());
            }
          }
        }
        return;
      }
      case CALL_ONCE: {
        Graph init = graphs.get(0);
        if (op.inputs().length != 0 || op.outputs().length != 0 || !init.inputs().isEmpty() || !init.outputs().isEmpty()) {
          throw new ModelFormatException(file, where + " and its init subgraph " + indices.get(0) + " must have no inputs"
              + " and no outputs (it initializes resource variables)");
        }
        return;
      }
      default:
        throw new IllegalArgumentException(type + " is not a control-flow operator");
    }
  }

  private static void count(String file, String where, String what, int actual, int expected) throws ModelFormatException {
    if (actual != expected) {
      throw new ModelFormatException(file, where + " has " + actual + " " + what + ", expected " + expected
          + " (one per operand of the control-flow operator)");
    }
  }

  private static void same(String file, String where, String role, TensorInfo t, Object other, String otherRole)
      throws ModelFormatException {
    int[] shape;
    DType dtype;
    String name;
    if (other instanceof TensorInfo o) {
      shape = o.shape();
      dtype = o.dtype();
      name = o.describe();
    } else {
      Tensor o = (Tensor) other;
      shape = o.shape();
      dtype = o.dtype();
      name = "'" + o.name() + "'";
    }
    if (dtype != t.dtype() || !Arrays.equals(shape, t.shape())) {
      throw new UnsupportedOperatorException(file, where + ": " + role + " " + t.describe() + " is " + t.dtype() + " "
          + Shape.toString(t.shape()) + " but " + otherRole + " " + name + " is " + dtype + " " + Shape.toString(shape)
          + "; Kiln compiles control flow whose operands and subgraph parameters have one dtype and static shape",
          "control flow", 0);
    }
  }
}
