package dev.kiln.frontend;

/**
 * A well-formed model that uses an operator Kiln cannot compile. A separate type because the fix is
 * different (change the model or extend Kiln), not because the file is broken.
 */
public class UnsupportedOperatorException extends ModelFormatException {
  private final String operator;
  private final int operatorIndex;

  public UnsupportedOperatorException(String file, String problem, String operator, int operatorIndex) {
    super(file, problem);
    this.operator = operator;
    this.operatorIndex = operatorIndex;
  }

  /** The operator's name in its format, e.g. {@code SQUARED_DIFFERENCE}, or a custom op's code. */
  public String operator() { return operator; }

  /** Position of the operator in the model's execution order. */
  public int operatorIndex() { return operatorIndex; }
}
