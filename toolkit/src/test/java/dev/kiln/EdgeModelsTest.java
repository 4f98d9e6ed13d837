package dev.kiln;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.DeviceExecutorConformanceTest.Program;
import dev.kiln.api.HostModel;
import dev.kiln.api.Kiln;
import dev.kiln.api.Model;
import dev.kiln.api.Tensor;
import dev.kiln.api.Tolerance;
import dev.kiln.codegen.ExecutorConfig;
import dev.kiln.rpc.RemoteModule;
import dev.kiln.rpc.RemoteNDArray;
import dev.kiln.rpc.RpcClient;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Models whose generated C used to be rejected by gcc -pedantic (issue 9 item 6) and files with
 * quantization quirks TFLite Micro accepts (item 4), from {@code resources/edge-nn2} and
 * {@code resources/ops-nn2} (made by make_ops_nn2.py): each runs through the AoT C interface as a
 * process and through every executor of the device library, and matches TFLite's reference kernels.
 */
class EdgeModelsTest {
  static Case edge(String name) {
    Path folder = Path.of("src/test/resources/edge-nn2").toAbsolutePath().resolve(name);
    try {
      return new Case(name, folder, new com.fasterxml.jackson.databind.ObjectMapper().readTree(folder.resolve("manifest.json").toFile()));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static Stream<ExecutorConfig> executors() { return DeviceExecutorConformanceTest.EXECUTORS.stream(); }

  /** Inputs of sample s (none for a model without run-time inputs). */
  static List<Tensor> inputs(Case c, int s) throws Exception {
    List<Tensor> in = new ArrayList<>();
    for (int i = 0; i < c.inputCount(); i++) in.add(Tensor.load(c.input(s, i)));
    return in;
  }

  static void assertHostRunMatches(Case c, Path work) throws Exception {
    Model model = Kiln.load(c.modelFile());
    HostModel program = model.build(dev.kiln.api.Executor.aot().interfaceApi("c").unpackedApi(true)).compileForHost(work);
    List<Tensor> outputs = program.run(inputs(c, 0));
    assertEquals(c.outputCount(), outputs.size());
    for (int j = 0; j < c.outputCount(); j++) {
      Tensor ref = Tensor.load(c.output(0, j));
      assertEquals(ref.elements(), outputs.get(j).elements(), "elements of output " + j);
      assertNull(Tolerance.mismatch(outputs.get(j), ref), "output " + j);
    }
  }

  static void assertDeviceRunMatches(Case c, ExecutorConfig executor) throws Exception {
    Program p = DeviceExecutorConformanceTest.program(c, executor);
    try (RpcClient rpc = p.start()) {
      RemoteModule ex = p.createExecutor(rpc);
      assertEquals(p.graph().inputs().size(), ex.getFunction("get_num_inputs").callLong(), "get_num_inputs");
      List<Tensor> in = inputs(c, 0);
      for (int i = 0; i < in.size(); i++) {
        dev.kiln.ir.Tensor t = p.graph().inputs().get(i);
        try (RemoteNDArray a = rpc.array(in.get(i).bytes(), DeviceExecutorConformanceTest.longShape(t),
            DeviceExecutorConformanceTest.dataType(t))) {
          assertNull(ex.getFunction("set_input").call(t.name(), a));
        }
      }
      assertNull(ex.getFunction("run").call());
      for (int j = 0; j < c.outputCount(); j++) {
        dev.kiln.ir.Tensor t = p.graph().outputs().get(j);
        byte[] bytes;
        try (RemoteNDArray a = assertInstanceOf(RemoteNDArray.class, ex.getFunction("get_output").call((long) j))) {
          bytes = a.toByteArray();
        }
        assertNull(Tolerance.mismatch(Tensor.of(t.dtype(), t.shape(), bytes), Tensor.load(c.output(0, j))), "output " + j);
      }
    }
  }

  @Test
  void aModelWithoutRunTimeInputsRunsThroughTheCInterface(@TempDir Path work) throws Exception {
    Case c = edge("no_inputs_float");
    assertEquals(0, c.inputCount());
    assertHostRunMatches(c, work);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("executors")
  void aModelWithoutRunTimeInputsRunsOnEveryDeviceExecutor(ExecutorConfig executor) throws Exception {
    assertDeviceRunMatches(edge("no_inputs_float"), executor);
  }

  @Test
  void aModelWithAnEmptyOutputRunsThroughTheCInterface(@TempDir Path work) throws Exception {
    Case c = edge("empty_output_float");
    assertEquals(0, Tensor.load(c.output(0, 0)).elements());
    assertHostRunMatches(c, work);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("executors")
  void aModelWithAnEmptyOutputRunsOnEveryDeviceExecutor(ExecutorConfig executor) throws Exception {
    assertDeviceRunMatches(edge("empty_output_float"), executor);
  }

  @Test
  void aRank1BiasQuantizedAlongDimension3IsReadAlongDimension0AndSaid() throws Exception {
    Case c = ReferenceModels.opFixtures().stream().filter(x -> x.name().equals("conv_bias_axis3_int8")).findFirst().orElseThrow();
    Model model = Kiln.load(c.modelFile());
    assertEquals(1, model.graph().notes().size(), model.graph().notes().toString());
    String note = model.graph().notes().get(0);
    assertTrue(note.contains("quantized per channel along dimension 3, but it has rank 1")
        && note.endsWith("read as dimension 0, as TFLite Micro does"), note);
    assertTrue(model.summary().contains("interpreted:\n  " + note), model.summary());
    assertTrue(Files.exists(c.output(0, 0)));
  }
}
