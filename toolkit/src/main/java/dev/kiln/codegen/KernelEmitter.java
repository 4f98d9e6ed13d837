package dev.kiln.codegen;

import dev.kiln.ir.Op;

/**
 * Emits the C for one op type: Prepare runs here in Java (multipliers, shifts, clamp ranges,
 * tables), and the emitted C only calls an Eval routine of the runtime's kernel library.
 */
public interface KernelEmitter {

  /**
   * Throws {@link UnsupportedOperationException} with a sentence a user can act on if this op
   * (its dtypes, quantization or options) cannot be compiled. Called before anything is written.
   */
  void check(Op op);

  /** Writes file-scope tables through {@code ctx} and the call into {@code ctx.body()}. */
  void emit(Op op, KernelContext ctx);

  /** Bytes of temporary memory the op needs while it runs (0 for most ops). */
  default int scratchBytes(Op op) { return 0; }
}
