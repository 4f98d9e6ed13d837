package dev.kiln.project;

import java.io.IOException;

/** A device program that does not fit its board's flash or RAM; the message names every size. */
public final class ProgramTooLargeException extends IOException {
  private final transient FirmwareSize size;

  public ProgramTooLargeException(String message, FirmwareSize size) {
    super(message);
    this.size = size;
  }

  /** The program's sizes and the board's, for a caller that reports them its own way (kiln bench). */
  public FirmwareSize size() { return size; }
}
