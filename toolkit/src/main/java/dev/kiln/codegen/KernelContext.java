package dev.kiln.codegen;

import dev.kiln.ir.DType;
import dev.kiln.ir.Tensor;

/**
 * What a {@link KernelEmitter} may use while emitting one op: C expressions for tensor data, a
 * place for file-scope constant tables, the body being written, and the op's scratch memory.
 */
public interface KernelContext {

  /**
   * A C expression of type {@code T *} (or {@code const T *} for constants) pointing at the tensor's
   * first element, where T is its dtype's C type. Valid only inside the body.
   */
  String data(Tensor t);

  /** Declares a file-scope {@code static const int32_t name[] = {...}}; returns the identifier. */
  String tableI32(String hint, int[] values);

  /** Declares a file-scope {@code static const int8_t name[] = {...}}; returns the identifier. */
  String tableI8(String hint, byte[] values);

  /** Declares a file-scope {@code static const float name[] = {...}}; returns the identifier. */
  String tableF32(String hint, float[] values);

  /**
   * Declares a file-scope {@code static const <structType> name = { initializer };} and returns
   * the identifier; kernels use it for their parameter structs.
   */
  String constant(String structType, String hint, String initializer);

  /**
   * Declares a file-scope {@code static const T name[] = {...}} holding a constant tensor's bytes
   * (T its dtype's C type; a subgraph's weights, which the model's constant file does not list);
   * returns the identifier. A default so that other contexts (test harnesses) need not change.
   */
  default String constantArray(String hint, Tensor constant) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot declare the constant array of " + constant);
  }

  /** A fresh identifier based on {@code hint}, unique in the generated file. */
  String newName(String hint);

  /** A C expression {@code (void *)...} pointing at {@link KernelEmitter#scratchBytes} bytes, 16-byte aligned. */
  String scratch();

  /** The function body being written; the emitter adds its call statement(s) here. */
  CodeWriter body();

  /**
   * Turns on a kernel-library switch for this model: a kernel header's default-off
   * {@code #define KILN_..._USED 0} (code only some models need, left out of every other build so
   * it costs them nothing), set to 1 in the model's copy of that header ({@code
   * ModelWriter.kernelFiles}, which finds the name in the generated text: this writes it into the
   * body as a comment saying {@code why}).
   */
  default void useKernelSwitch(String name, String why) {
    if (!name.matches("KILN_\\w+_USED")) throw new IllegalArgumentException("not a kernel switch: " + name);
    body().comment(name + ": " + why);
  }

  /** Convenience: the C type of a dtype. */
  default String cType(DType t) { return t.cType(); }
}
