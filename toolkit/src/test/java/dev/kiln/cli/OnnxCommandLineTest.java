package dev.kiln.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Tensor;
import dev.kiln.api.Tolerance;
import dev.kiln.testing.ReferenceModels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kiln command on ONNX models: the same jobs as for TFLite, plus --input-shape for symbolic dimensions. */
class OnnxCommandLineTest {
  record Result(int status, String out, String err) {}

  static Result kiln(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Result(status, out.toString(), err.toString());
  }

  static Path digits() {
    return ReferenceModels.shared("onnx", "onnx_digits_cnn").modelFile();
  }

  static final Path DYNAMIC = Path.of("src/test/resources/onnx/dynamic_batch/model.onnx");

  @Test void infoShowsTheOnnxNamesAndNchwShapes() {
    Result r = kiln("info", digits().toString());
    assertEquals(0, r.status(), r.err());
    assertTrue(r.out().contains("digits_cnn (onnx, "), r.out());
    assertTrue(r.out().contains("0: input:0 (C: input_0) [1,1,8,8] float32"), r.out());
    assertTrue(r.out().contains("0: probs:0 (C: probs_0) [1,10] float32"), r.out());
    assertTrue(r.out().contains("weights: 39208 bytes in 8 constant tensors"), r.out());
  }

  @Test void constantInputCompilesAnInputAsAConstant(@TempDir Path tmp) throws Exception {
    Path model = Path.of("src/test/resources/onnx-node/test_resize_upsample_scales_linear");
    Result refused = kiln("info", model.resolve("model.onnx").toString());
    assertEquals(1, refused.status());
    assertTrue(refused.err().contains("LoadOptions.constantInput(\"scales\""), refused.err());
    Result r = kiln("info", model.resolve("model.onnx").toString(), "--constant-input", "scales=" + model.resolve("sample0_in1.npy"));
    assertEquals(0, r.status(), r.err());
    assertTrue(r.out().contains("0: X [1,1,2,2] float32"), r.out());
    assertFalse(r.out().contains("1: scales"), r.out());
    Result bad = kiln("info", model.resolve("model.onnx").toString(), "--constant-input", "scales");
    assertEquals(1, bad.status());
    assertTrue(bad.err().contains("a constant input is NAME=FILE.npy"), bad.err());
  }

  @Test void compileWritesTheCInterfaceWithTheOnnxNames(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("out");
    Result r = kiln("compile", digits().toString(), "--unpacked-api", "-o", out.toString());
    assertEquals(0, r.status(), r.err());
    String header = Files.readString(out.resolve("codegen/host/include/tvmgen_default.h"));
    assertTrue(header.contains("struct tvmgen_default_inputs {\n  void *input_0;\n};"), header);
    assertTrue(header.contains("#define TVMGEN_DEFAULT_INPUT0_NAME \"input:0\""), header);
  }

  @Test void runOverRpcMatchesOnnxruntime(@TempDir Path tmp) {
    Path out = tmp.resolve("run");
    Path sample = digits().getParent().resolve("sample1_in0.npy");
    Result r = kiln("run", digits().toString(), "--executor", "aot", "--input", "input:0=" + sample, "-o", out.toString());
    assertEquals(0, r.status(), r.err());
    assertEquals(null, Tolerance.mismatch(Tensor.load(out.resolve("output0.npy")),
        Tensor.load(digits().getParent().resolve("sample1_out0.npy"))));
  }

  @Test void aDynamicDimensionIsOneLineNamingTheInputAndTheFix(@TempDir Path tmp) {
    Path out = tmp.resolve("out");
    Result r = kiln("compile", DYNAMIC.toString(), "-o", out.toString());
    assertEquals(1, r.status());
    assertEquals("kiln: error: " + DYNAMIC + ": input 'x' has shape [batch,3,height,6] with dynamic dimensions 0 ('batch'), 2"
        + " ('height'); Kiln compiles static shapes: fix it when loading, e.g. Kiln.load(path, LoadOptions.inputShape(\"x\", 1, 3, 1,"
        + " 6)) or kiln ... --input-shape 'x=1,3,1,6'\n", r.err());
    assertFalse(Files.exists(out));
  }

  @Test void inputShapeFixesItForInfoCompileRunAndVerify(@TempDir Path tmp) {
    Result info = kiln("info", DYNAMIC.toString(), "--input-shape", "x=2,3,5,6");
    assertEquals(0, info.status(), info.err());
    assertTrue(info.out().contains("0: x [2,3,5,6] float32"), info.out());
    assertTrue(info.out().contains("0: y [2,4] float32"), info.out());
    Result compile = kiln("compile", DYNAMIC.toString(), "--input-shape", "x=2,3,5,6", "-o", tmp.resolve("c").toString());
    assertEquals(0, compile.status(), compile.err());
    Result run = kiln("run", DYNAMIC.toString(), "--input-shape", "x=2,3,5,6", "--input", "x=" + DYNAMIC.getParent().resolve(
        "sample0_in0.npy"), "-o", tmp.resolve("r").toString());
    assertEquals(0, run.status(), run.err());
    assertEquals(null, Tolerance.mismatch(Tensor.load(tmp.resolve("r/output0.npy")),
        Tensor.load(DYNAMIC.getParent().resolve("sample0_out0.npy"))));
    Result verify = kiln("verify", DYNAMIC.toString(), "--input-shape", "x=2,3,5,6", "--no-rpc");
    assertEquals(0, verify.status(), verify.err() + verify.out());
  }

  @Test void aBadInputShapeSaysWhatIsValid() {
    Result r = kiln("info", DYNAMIC.toString(), "--input-shape", "x=2,4,5,6");
    assertEquals(1, r.status());
    assertEquals("kiln: error: " + DYNAMIC + ": the shape given for input 'x' is [2,4,5,6], but the model declares [batch,3,height,6];"
        + " give one that keeps its fixed dimensions\n", r.err());
    r = kiln("info", DYNAMIC.toString(), "--input-shape", "x:2,3");
    assertEquals("kiln: error: an input shape is NAME=D0,D1,..., e.g. 'input:0=1,3,32,32', not 'x:2,3'\n", r.err());
  }

  @Test void anUnsupportedOperatorIsOneLine() {
    Result r = kiln("info", "src/test/resources/onnx_bad/unsupported_op.onnx");
    assertEquals(1, r.status());
    assertTrue(r.err().startsWith("kiln: error: src/test/resources/onnx_bad/unsupported_op.onnx: node 1 'shrink1' (Shrink) uses ai.onnx"
        + " operator Shrink (opset 14), which Kiln does not support"), r.err());
    assertEquals(1, r.err().lines().count());
  }
}
