package dev.kiln;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kiln.api.DeviceSession;
import dev.kiln.api.Device;
import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.api.Model;
import dev.kiln.api.ModelExecutor;
import dev.kiln.api.Tensor;
import dev.kiln.codegen.kernels.Kernels;
import dev.kiln.compile.CompiledModel;
import dev.kiln.compile.Compiler;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Op;
import dev.kiln.ir.OpType;
import dev.kiln.ir.Options;
import dev.kiln.testing.ReferenceModels;
import dev.kiln.testing.ReferenceModels.Case;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Control flow, several subgraphs and resource variables (resources/ops-control, made by
 * make_ops_control.py from TensorFlow 2.21's converter): every case through the AoT C interface as
 * firmware calls it (gcc, a process) and through the graph executor and the AoT executor (packed and C
 * interface, packed and unpacked operators) over RPC on the host device program, the samples in
 * order in one session, so a stateful model's
 * later samples check the state its earlier runs left. Both agree with TFLite's reference kernels.
 */
class ControlFlowTest {
  static Stream<Case> controlCases() {
    return ReferenceModels.opFamily("ops-control");
  }

  static Stream<Arguments> controlCasesOnRpcExecutors() {
    return controlCases().flatMap(c -> Stream.of(Executor.graph(), Executor.aot(), Executor.aot().unpackedApi(true),
        Executor.aot().interfaceApi("c")).map(e -> Arguments.of(c, e)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("controlCases")
  void theAotCInterfaceRunsEveryControlFlowModel(Case c, @TempDir Path work) throws Exception {
    ModelConformanceTest.assertMatchesReference(c, work);
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("controlCasesOnRpcExecutors")
  void rpcExecutorsRunEveryControlFlowModelInOneSession(Case c, Executor executor) throws Exception {
    Model model = Kiln.load(c.modelFile(), c.loadOptions());
    List<String> problems = new ArrayList<>();
    try (DeviceSession dev = model.build(executor).flash(Device.host())) {
      ModelExecutor ex = dev.executor();
      for (int s : c.samples()) {
        for (int i = 0; i < c.inputCount(); i++) ex.setInput(i, Tensor.load(c.input(s, i)));
        ex.run();
        for (int j = 0; j < c.outputCount(); j++) {
          String why = c.mismatch(j, ex.getOutput(j), Tensor.load(c.output(s, j)));
          if (why != null) problems.add("sample " + s + " output " + j + ": " + why);
        }
      }
    }
    if (!problems.isEmpty()) fail(c.name() + " on " + executor + ":\n  " + String.join("\n  ", problems));
  }

  @Test
  void theGraphExecutorSeesAWhileLoopAsOneOperator() throws Exception {
    Case lstm = controlCases().filter(c -> c.name().equals("lstm_kws_float")).findFirst().orElseThrow();
    Graph g = Kiln.load(lstm.modelFile()).graph();
    Op loop = g.ops().stream().filter(op -> op.type() == OpType.WHILE).findFirst().orElseThrow();
    Options.Subgraphs s = loop.options(Options.Subgraphs.class);
    assertEquals(List.of(1, 2), s.indices(), "cond and body subgraph indices from WhileOptions");
    assertEquals(19, s.graph(1).ops().size(), "the body's operators stay in the body");
    // the loop's scratch (staging, flag, the larger subgraph arena) is part of the main plan
    CompiledModel m = Compiler.compile(g, Kernels.support());
    int scratch = Kernels.support().scratchBytes(loop);
    CompiledModel body = Compiler.compile(s.graph(1), Kernels.support());
    assertTrue(scratch >= body.arenaBytes() + 16, "scratch " + scratch + " holds the body's arena " + body.arenaBytes());
    assertTrue(m.arenaBytes() >= scratch, "the arena " + m.arenaBytes() + " is sized to the worst case, the loop's " + scratch);
    // the graph executor's JSON: one tvm_op node per main-subgraph op, the loop one of them
    dev.kiln.codegen.DeviceModelWriter writer = new dev.kiln.codegen.DeviceModelWriter(m, dev.kiln.codegen.ExecutorConfig.graph("default"));
    String json = writer.graphJson().orElseThrow().text();
    assertEquals(m.graph().ops().size(), json.split("\"tvm_op\"", -1).length - 1, json);
    assertTrue(json.contains("\"func_name\":\"tvmgen_default_fused_while\""), json);
    assertTrue(writer.scratchBytes() >= scratch, "the executor's static scratch holds the loop's subgraph arenas");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("profiledExecutors")
  void aProfileTimesEachControlFlowOperatorAsOneEntry(Executor executor) throws Exception {
    // var_counter has ASSIGN_VARIABLE and CALL_ONCE, which write no tensor; lstm_kws a WHILE
    for (String name : List.of("var_counter_float", "lstm_kws_float")) {
      Case c = controlCases().filter(k -> k.name().equals(name)).findFirst().orElseThrow();
      dev.kiln.api.Build build = Kiln.load(c.modelFile()).build(executor);
      List<Op> ops = build.compiled().graph().ops();
      try (DeviceSession dev = build.flash(Device.host())) {
        ModelExecutor ex = dev.executor().setInput(0, Tensor.load(c.input(0, 0)));
        dev.kiln.api.Profile p = ex.profile(3, 1, 0);
        assertEquals(ops.size(), p.entries().size(), p.table());
        for (int i = 0; i < ops.size(); i++) {
          assertEquals(ops.get(i).type().name(), p.entries().get(i).type());
          assertEquals(ops.get(i).outputs().isEmpty() ? "" : ops.get(i).output().name(), p.entries().get(i).name());
        }
        assertTrue(p.totalMicros() > 0, p.table());
      }
    }
  }

  static Stream<Executor> profiledExecutors() { return Stream.of(Executor.graph(), Executor.aot()); }

  @Test
  void stateLivesInStaticVariablesThatPersistAcrossRuns() throws Exception {
    Case acc = controlCases().filter(c -> c.name().equals("var_accumulator_float")).findFirst().orElseThrow();
    Graph g = Kiln.load(acc.modelFile()).graph();
    List<OpType> types = g.ops().stream().map(Op::type).toList();
    assertEquals(List.of(OpType.CALL_ONCE, OpType.READ_VARIABLE, OpType.MUL, OpType.ADD, OpType.ASSIGN_VARIABLE,
        OpType.READ_VARIABLE, OpType.MUL), types, "VAR_HANDLE is resolved away");
    assertTrue(g.ops().get(1).input(0).isVariable());
    assertEquals(g.ops().get(1).input(0).cName(), g.ops().get(0).options(Options.Subgraphs.class).graph(0).ops().get(0).input(0).cName(),
        "the init subgraph writes the same buffer the main subgraph reads");
    // the same input twice gives different outputs: the second run starts from the first run's state
    Model model = Kiln.load(acc.modelFile());
    try (DeviceSession dev = model.build(Executor.aot()).flash(Device.host())) {
      Tensor x = Tensor.load(acc.input(0, 0));
      ModelExecutor ex = dev.executor();
      float first = ex.setInput(0, x).run().getOutput(0).toFloatArray()[0];
      float second = ex.setInput(0, x).run().getOutput(0).toFloatArray()[0];
      float x0 = x.toFloatArray()[0];
      assertEquals(2 * (0.5f * 0.75f + x0), first, 1e-5f);
      assertEquals(2 * ((0.5f * 0.75f + x0) * 0.75f + x0), second, 1e-5f);
    }
  }
}
