package dev.kiln.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Build;
import dev.kiln.api.Device;
import dev.kiln.api.DeviceSession;
import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnException;
import dev.kiln.api.LoadOptions;
import dev.kiln.api.Model;
import dev.kiln.api.ModelExecutor;
import dev.kiln.api.Tensor;
import dev.kiln.api.Tolerance;
import dev.kiln.ir.DType;
import dev.kiln.testing.ReferenceModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every public API method given a null (or an impossible value) fails with one KilnException that
 * names the argument and what to pass, never a bare NullPointerException or an UncheckedIOException.
 */
class ApiArgumentsTest {
  static Model model;
  static Build graph;
  static DeviceSession session;
  static ModelExecutor ex;
  static Tensor image;

  @BeforeAll
  static void open() {
    var c = ReferenceModels.shared("tflite", "digits_cnn_int8");
    model = Kiln.load(c.modelFile());
    graph = model.build(Executor.graph());
    session = graph.flash(Device.host());
    ex = session.executor();
    image = Tensor.load(c.input(0, 0));
  }

  @AfterAll
  static void close() {
    if (session != null) session.close();
  }

  /** A call, the argument it must name, and a word of the fix. */
  record Call(String what, Runnable call, String argument, String fix) {
    @Override public String toString() { return what; }
  }

  static Stream<Arguments> nullCalls() {
    List<Call> calls = new ArrayList<>(List.of(
        new Call("setInput(null, t)", () -> ex.setInput((String) null, image), "name", "setInput(index, value)"),
        new Call("setInput(name, null)", () -> ex.setInput("predict_images:0", null), "value", "Tensor"),
        new Call("setInput(0, null)", () -> ex.setInput(0, null), "value", "Tensor"),
        new Call("getOutput((String) null)", () -> ex.getOutput((String) null), "name", "getOutput(index)"),
        new Call("infer(null)", () -> ex.infer(null), "inputs", "one Tensor per model input"),
        new Call("infer([null])", () -> ex.infer(Arrays.asList((Tensor) null)), "inputs[0]", "a Tensor for"),
        new Call("Kiln.load((String) null)", () -> Kiln.load((String) null), "path", "model file"),
        new Call("Kiln.load((Path) null)", () -> Kiln.load((Path) null), "path", "model file"),
        new Call("Kiln.load(path, null)", () -> Kiln.load(ReferenceModels.shared("tflite", "digits_cnn_int8").modelFile(), null),
            "options", "LoadOptions.defaults()"),
        new Call("build(null)", () -> model.build(null), "executor", "Executor.graph()"),
        new Call("model.input(null)", () -> model.input(null), "name", "predict_images:0"),
        new Call("flash(null)", () -> graph.flash(null), "target", "Device.host()"),
        new Call("exportTo(null)", () -> graph.exportTo(null), "dir", "folder"),
        new Call("compileForHost(null)", () -> graph.compileForHost(null), "work", "folder"),
        new Call("Device.timeout(null)", () -> Device.host().timeout(null), "t", "Duration"),
        new Call("Device.serial(null)", () -> Device.serial(null), "path", "serial port"),
        new Call("Device.tcp(null, 1)", () -> Device.tcp(null, 1), "host", "host name"),
        new Call("Device.wrapLink(null)", () -> Device.host().wrapLink(null), "wrapper", "t -> t"),
        new Call("DeviceSession.onOpen(null)", () -> DeviceSession.onOpen(null), "listener", "Consumer"),
        new Call("Executor.moduleName(null)", () -> Executor.aot().moduleName(null), "name", "C identifier"),
        new Call("Executor.interfaceApi(null)", () -> Executor.aot().interfaceApi(null), "api", "\"packed\""),
        new Call("LoadOptions.andInputShape(null)", () -> LoadOptions.defaults().andInputShape((String) null), "spec", "NAME=D0,D1"),
        new Call("Tensor.load((String) null)", () -> Tensor.load((String) null), "path", ".npy"),
        new Call("Tensor.load((Path) null)", () -> Tensor.load((Path) null), "path", ".npy"),
        new Call("Tensor.of(null, shape, bytes)", () -> Tensor.of(null, new int[] {1}, new byte[1]), "dtype", "DType"),
        new Call("Tensor.of(dtype, null, bytes)", () -> Tensor.of(DType.INT8, null, new byte[1]), "shape", "dimensions"),
        new Call("Tensor.of(dtype, shape, null)", () -> Tensor.of(DType.INT8, new int[] {1}, null), "bytes", "bytes"),
        new Call("Tensor.ofFloats(null)", () -> Tensor.ofFloats(null, 1f), "shape", "dimensions"),
        new Call("Tensor.ofInt8(null)", () -> Tensor.ofInt8(null, (byte) 1), "shape", "dimensions"),
        new Call("tensor.save((String) null)", () -> image.save((String) null), "path", ".npy"),
        new Call("tensor.reshape(null)", () -> image.reshape((int[]) null), "newShape", "dimensions"),
        new Call("tensor.quantize(null)", () -> image.quantize(null), "like", "executor.inputs()"),
        new Call("tensor.dequantize(null)", () -> image.dequantize(null), "like", "executor.outputs()"),
        new Call("Tolerance.mismatch(null, ref)", () -> Tolerance.mismatch(null, image), "got", "tensor")));
    return calls.stream().map(Arguments::of);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("nullCalls")
  void aNullArgumentIsAKilnExceptionNamingItAndTheFix(Call c) {
    KilnException e = assertThrows(KilnException.class, c.call()::run, c.what());
    assertTrue(e.getMessage().contains(c.argument() + " is null"), c.what() + ": " + e.getMessage());
    assertTrue(e.getMessage().contains(c.fix()), c.what() + ": " + e.getMessage());
    assertEquals(DeviceSession.State.OPEN, session.state(), "a null is caught on the host; the session stays open");
  }

  @Test
  void exportToAnExistingFileIsRefusedNamingIt(@TempDir Path tmp) throws Exception {
    Path file = Files.writeString(tmp.resolve("taken.txt"), "mine");
    KilnException e = assertThrows(KilnException.class, () -> graph.exportTo(file));
    assertEquals("exportTo(" + file + "): " + file + " is a file, not a folder; pass a new or existing folder path (its"
        + " contents are replaced)", e.getMessage());
    assertEquals("mine", Files.readString(file), "the file is left alone");
  }

  @Test
  void impossibleShapesSaySomethingSane() {
    KilnException negative = assertThrows(KilnException.class, () -> Tensor.ofFloats(new int[] {-1}));
    assertEquals("shape [-1] has dimension 0 = -1; every dimension must be 0 or more", negative.getMessage());
    KilnException count = assertThrows(KilnException.class, () -> Tensor.ofFloats(new int[] {2, 2}, 1f, 2f));
    assertEquals("Tensor.ofFloats: shape [2,2] holds 4 values, got 2", count.getMessage());
    KilnException huge = assertThrows(KilnException.class, () -> Tensor.ofInt8(new int[] {65536, 65536}));
    assertTrue(huge.getMessage().startsWith("shape [65536,65536] of int8 needs more than"), huge.getMessage());
    KilnException reshape = assertThrows(KilnException.class, () -> image.reshape(-1, 64));
    assertTrue(reshape.getMessage().contains("dimension 0 = -1"), reshape.getMessage());
  }

  @Test
  void timingCountsMustBePositive() {
    KilnException e = assertThrows(KilnException.class, () -> session.timeEvaluator().repeat(0));
    assertEquals("repeat(n): n is the number of timed rounds, at least 1, not 0", e.getMessage());
    assertThrows(KilnException.class, () -> session.timeEvaluator().number(-1));
    assertThrows(KilnException.class, () -> session.timeEvaluator().minRepeatMillis(-1));
  }

  @Test
  void timeoutsMustBePositive() {
    KilnException e = assertThrows(KilnException.class, () -> Device.host().timeout(Duration.ZERO));
    assertEquals("timeout must be positive: PT0S", e.getMessage());
    Consumer<Integer> port = p -> assertThrows(KilnException.class, () -> Device.tcp("localhost", p));
    port.accept(0);
    port.accept(70000);
  }
}
