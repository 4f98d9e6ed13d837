package dev.kiln.frontend.onnx;

import dev.kiln.frontend.ModelFormatException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Typed access to a node's attributes (onnx-format.md 2.5): an absent attribute takes the
 * operator's default, a present one must have the expected AttributeType (a present INT with its
 * {@code i} field left out is 0, not the default). Errors name the file, node and attribute.
 */
final class Attrs {
  private final String file;
  private final Proto.Node node;

  Attrs(String file, Proto.Node node) {
    this.file = file;
    this.node = node;
  }

  boolean has(String name) { return node.attribute(name) != null; }

  long i(String name, long dflt) throws ModelFormatException {
    Proto.Attribute a = typed(name, Proto.Attribute.INT);
    return a == null ? dflt : a.i();
  }

  int int32(String name, long dflt) throws ModelFormatException {
    long v = i(name, dflt);
    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) throw error("attribute '" + name + "' is " + v + ", outside the int32 range");
    return (int) v;
  }

  float f(String name, float dflt) throws ModelFormatException {
    Proto.Attribute a = typed(name, Proto.Attribute.FLOAT);
    return a == null ? dflt : a.f();
  }

  String s(String name, String dflt) throws ModelFormatException {
    Proto.Attribute a = typed(name, Proto.Attribute.STRING);
    return a == null ? dflt : a.s() == null ? "" : new String(a.s(), StandardCharsets.UTF_8);
  }

  /** INTS as int[], each within int32; null when absent. */
  int[] ints(String name) throws ModelFormatException {
    Proto.Attribute a = typed(name, Proto.Attribute.INTS);
    if (a == null) return null;
    int[] v = new int[a.ints().length];
    for (int k = 0; k < v.length; k++) {
      long x = a.ints()[k];
      if (x < Integer.MIN_VALUE || x > Integer.MAX_VALUE) {
        throw error("attribute '" + name + "' = " + Arrays.toString(a.ints()) + " has a value outside the int32 range");
      }
      v[k] = (int) x;
    }
    return v;
  }

  long[] longs(String name) throws ModelFormatException {
    Proto.Attribute a = typed(name, Proto.Attribute.INTS);
    return a == null ? null : a.ints().clone();
  }

  float[] floats(String name) throws ModelFormatException {
    Proto.Attribute a = typed(name, Proto.Attribute.FLOATS);
    return a == null ? null : a.floats().clone();
  }

  Proto.TensorData tensor(String name) throws ModelFormatException {
    Proto.Attribute a = typed(name, Proto.Attribute.TENSOR);
    return a == null ? null : a.t();
  }

  private Proto.Attribute typed(String name, int type) throws ModelFormatException {
    Proto.Attribute a = node.attribute(name);
    if (a == null) return null;
    if (a.type() != type) {
      throw error("attribute '" + name + "' has type " + Proto.Attribute.typeName(a.type()) + ", expected "
          + Proto.Attribute.typeName(type));
    }
    return a;
  }

  ModelFormatException error(String problem) {
    return new ModelFormatException(file, node.label() + ": " + problem);
  }
}
