package dev.kiln.kernel.eval;

import java.util.List;

/**
 * A cell that failed, already worded for the notebook: {@code ename} (the real exception class's
 * simple name, {@code CompileError} or {@code Interrupted}), {@code evalue} (its message) and the
 * traceback lines (the cell line that failed, no JShell internals).
 */
public final class CellException extends Exception {
  private final String ename;
  private final String evalue;
  private final List<String> traceback;
  private final transient Throwable userThrowable;

  public CellException(String ename, String evalue, List<String> traceback, Throwable userThrowable) {
    super(ename + ": " + evalue, null, false, false);
    this.ename = ename;
    this.evalue = evalue;
    this.traceback = List.copyOf(traceback);
    this.userThrowable = userThrowable;
  }

  public String ename() { return ename; }

  public String evalue() { return evalue; }

  public List<String> traceback() { return traceback; }

  /** The exception the cell's code threw, when there was one. */
  public Throwable userThrowable() { return userThrowable; }
}
