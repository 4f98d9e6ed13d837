package dev.kiln.micro;

import dev.kiln.rpc.RemoteModule;
import java.io.IOException;

/**
 * An executor module on the device, by index and raw bytes. Implementations speak exactly the
 * calls a microTVM device understands, so they drive Kiln's device and a real microTVM one alike.
 */
public interface DeviceExecutor {
  /** The remote executor module (for time_evaluator and direct calls). */
  RemoteModule module();

  /** Copies {@code data} into input {@code index} on the device. */
  void setInput(int index, byte[] data) throws IOException;

  /** Runs the model once on the device. */
  void run() throws IOException;

  /** Copies output {@code index} from the device. */
  byte[] getOutput(int index) throws IOException;

  int numOutputs() throws IOException;
}
