package dev.kiln.compile;

import dev.kiln.ir.Op;

/** What the compiler needs to know from the kernel library, without depending on code generation. */
public interface OpSupport {
  /** Throws UnsupportedOperationException with an actionable sentence if {@code op} cannot be compiled. */
  void check(Op op);

  /** Temporary bytes {@code op} needs while it runs. */
  int scratchBytes(Op op);
}
