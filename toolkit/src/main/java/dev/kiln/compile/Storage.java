package dev.kiln.compile;

/** Where a tensor's bytes live at run time. */
public sealed interface Storage {
  /** The caller's buffer for model input {@code index}. */
  record Input(int index) implements Storage {}

  /** The caller's buffer for model output {@code index}. */
  record Output(int index) implements Storage {}

  /** The constant array of tensor {@code tensorId} (its id in the graph), linked into the program. */
  record Constant(int tensorId) implements Storage {}

  /**
   * The zero-initialized static buffer of variable tensor {@code tensorId}: outside the arena, so
   * nothing else reuses its bytes and it keeps its value from one run to the next.
   */
  record Variable(int tensorId) implements Storage {}

  /** Bytes of the static arena at {@code offset}. */
  record Arena(int offset) implements Storage {}
}
