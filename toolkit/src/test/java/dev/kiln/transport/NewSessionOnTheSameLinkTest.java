package dev.kiln.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.kiln.api.Build;
import dev.kiln.api.Device;
import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.api.Tensor;
import dev.kiln.micro.AotExecutor;
import dev.kiln.micro.Session;
import dev.kiln.rpc.RpcOptions;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A board that is not reset between sessions (a serial line, ser2net) and a host whose shutdown never
 * reached it: the next host's handshake on the same link releases what the first session created, so
 * the new session can create its executor and run. Seen in CI behind ser2net, where a closing
 * connection sometimes lost the shutdown and the next session was told "one executor per boot".
 */
class NewSessionOnTheSameLinkTest {
  @Test void aNewHandshakeReleasesTheExecutorOfASessionThatNeverShutDown() throws Exception {
    Case c = ReferenceModels.shared("tflite", "digits_cnn_int8");
    Build build = Kiln.load(c.modelFile()).build(Executor.aot());
    Path program = build.deviceProgram(Device.host()).executable();
    byte[] image = Tensor.load(c.input(0, 0)).bytes();
    byte[] reference = Tensor.load(c.output(0, 0)).bytes();
    try (ProcessTransport link = ProcessTransport.start(new ProcessBuilder(program.toString()))) {
      Session first = Session.open(link, RpcOptions.defaults());
      AotExecutor a = AotExecutor.create(first, "default");
      a.setInput(0, image);
      a.run();
      assertArrayEquals(reference, a.getOutput(0));
      // the first host goes away without its shutdown; a second one handshakes on the same link
      Session second = Session.open(link, RpcOptions.defaults());
      AotExecutor b = AotExecutor.create(second, "default");
      b.setInput(0, image);
      b.run();
      assertArrayEquals(reference, b.getOutput(0), "the second session's executor runs the model");
    }
  }
}
