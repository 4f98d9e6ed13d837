package dev.kiln.frontend;

/**
 * A model file Kiln cannot read or compile: the message names the file, where in it (offset, field,
 * op) and what was expected, in words a user can act on.
 */
public class ModelFormatException extends Exception {
  private final String file;

  public ModelFormatException(String file, String problem) {
    super(file + ": " + problem);
    this.file = file;
  }

  public ModelFormatException(String file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
    this.file = file;
  }

  public String file() { return file; }
}
