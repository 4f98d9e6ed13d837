package dev.kiln.compile;

/** A model that was read fine but cannot be compiled; the message names the op and what to do. */
public class CompileException extends Exception {
  public CompileException(String message) { super(message); }
}
