package dev.kiln.project;

import java.io.IOException;

/** A device program that does not fit its board's flash or RAM; the message names every size. */
public final class ProgramTooLargeException extends IOException {
  public ProgramTooLargeException(String message) {
    super(message);
  }
}
