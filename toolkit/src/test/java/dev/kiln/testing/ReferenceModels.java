package dev.kiln.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Model folders in the shared layout ({@code manifest.json}, the model file,
 * {@code sample<s>_in<i>.npy}, {@code sample<s>_out<j>.npy}): the shared reference models and
 * the op-by-op fixtures under {@code src/test/resources/ops}.
 */
public final class ReferenceModels {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ReferenceModels() {}

  /** One model folder and its manifest. */
  public record Case(String name, Path folder, JsonNode manifest) {
    public Path modelFile() { return folder.resolve(manifest.get("file").asText()); }

    public String format() { return manifest.path("format").asText("tflite"); }

    public int inputCount() { return manifest.get("inputs").size(); }

    public int outputCount() { return manifest.get("outputs").size(); }

    /** Sample numbers present on disk: 0, 1, 2... */
    public List<Integer> samples() {
      List<Integer> s = new ArrayList<>();
      // a model without inputs still has outputs per sample
      for (int i = 0; Files.exists(folder.resolve("sample" + i + "_in0.npy")) || Files.exists(folder.resolve("sample" + i + "_out0.npy")); i++) {
        s.add(i);
      }
      return s;
    }

    public Path input(int sample, int i) { return folder.resolve("sample" + sample + "_in" + i + ".npy"); }

    public Path output(int sample, int j) { return folder.resolve("sample" + sample + "_out" + j + ".npy"); }

    /** {@code load_input_shapes} of the manifest as load options (models with symbolic dimensions). */
    public dev.kiln.api.LoadOptions loadOptions() {
      dev.kiln.api.LoadOptions o = dev.kiln.api.LoadOptions.defaults();
      JsonNode shapes = manifest.path("load_input_shapes");
      for (java.util.Iterator<String> it = shapes.fieldNames(); it.hasNext(); ) {
        String name = it.next();
        int[] s = new int[shapes.get(name).size()];
        for (int d = 0; d < s.length; d++) s[d] = shapes.get(name).get(d).asInt();
        o = o.andInputShape(name, s);
      }
      return o;
    }

    /**
     * Null if {@code got} matches the reference output {@code j}: the project tolerance, or for a
     * fixture whose manifest has {@code tolerance.abs} (QDQ models against onnxruntime's fused
     * integer kernels) every element within that absolute difference (one quantization step).
     */
    public String mismatch(int j, dev.kiln.api.Tensor got, dev.kiln.api.Tensor ref) {
      JsonNode tol = manifest.path("tolerance");
      if (!tol.has("abs")) return dev.kiln.api.Tolerance.mismatch(got, ref);
      double abs = tol.has("per_output_abs") ? tol.get("per_output_abs").get(j).asDouble() : tol.get("abs").asDouble();
      if (got.elements() != ref.elements()) return "size " + got.elements() + " != " + ref.elements();
      if (got.dtype() != ref.dtype()) return "dtype " + got.dtype() + " != " + ref.dtype();
      double[] a = values(got);
      double[] r = values(ref);
      int bad = 0;
      double worst = 0;
      for (int i = 0; i < r.length; i++) {
        double d = Math.abs(a[i] - r[i]);
        worst = Math.max(worst, d);
        if (d > abs * 1.0001 + 1e-12) bad++;
      }
      return bad == 0 ? null : bad + " of " + r.length + " values differ by more than " + abs + " (one step), max |diff| " + worst;
    }

    /** Max |got - ref| over the elements, in the output's quantization steps (tolerance.per_output_abs), or NaN. */
    public double steps(int j, dev.kiln.api.Tensor got, dev.kiln.api.Tensor ref) {
      JsonNode tol = manifest.path("tolerance");
      if (!tol.has("per_output_abs")) return Double.NaN;
      double step = tol.get("per_output_abs").get(j).asDouble();
      double[] a = values(got);
      double[] r = values(ref);
      double worst = 0;
      for (int i = 0; i < r.length; i++) worst = Math.max(worst, Math.abs(a[i] - r[i]));
      return step > 0 ? worst / step : worst;
    }

    private static double[] values(dev.kiln.api.Tensor t) {
      if (t.dtype() == dev.kiln.ir.DType.FLOAT32) {
        float[] f = t.toFloatArray();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
      }
      java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(t.bytes()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      double[] d = new double[(int) t.elements()];
      for (int i = 0; i < d.length; i++) {
        d[i] = switch (t.dtype()) {
          case INT8 -> b.get(i);
          case UINT8, BOOL -> b.get(i) & 0xff;
          case INT16 -> b.getShort(i * 2);
          case INT32 -> b.getInt(i * 4);
          case INT64 -> b.getLong(i * 8);
          case FLOAT32 -> b.getFloat(i * 4);
        };
      }
      return d;
    }

    @Override public String toString() { return name; }
  }

  /** The shared models folder ({@code -Dkiln.shared}, else {@code ../../shared} from the toolkit). */
  public static Path sharedRoot() {
    String prop = System.getProperty("kiln.shared");
    Path p = prop != null ? Path.of(prop) : Path.of("../../shared");
    return p.toAbsolutePath().normalize();
  }

  public static List<Case> shared(String format) { return cases(sharedRoot().resolve("models"), format); }

  /**
   * The TFLite op-by-op fixtures: every folder {@code src/test/resources/ops} and
   * {@code src/test/resources/ops-<family>} (one per operator family, each with its own script and README).
   */
  public static List<Case> opFixtures() {
    List<Case> out = new ArrayList<>();
    Path resources = Path.of("src/test/resources").toAbsolutePath();
    try (Stream<Path> dirs = Files.list(resources)) {
      for (Path d : (Iterable<Path>) dirs.sorted()::iterator) {
        String n = d.getFileName().toString();
        if (Files.isDirectory(d) && (n.equals("ops") || n.startsWith("ops-"))) out.addAll(cases(d, "tflite"));
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return out;
  }

  /** The op-by-op fixtures of one family folder, e.g. {@code "ops-lstm"} for {@code src/test/resources/ops-lstm}. */
  public static Stream<Case> opFamily(String folder) {
    return opFixtures().stream().filter(c -> c.folder().getParent().getFileName().toString().equals(folder));
  }

  /** The ONNX op-by-op fixtures under {@code src/test/resources/onnx} (made by fixtures/make_onnx_fixtures.py). */
  public static List<Case> onnxFixtures() {
    List<Case> out = new ArrayList<>(cases(Path.of("src/test/resources/onnx").toAbsolutePath(), "onnx"));
    // family: onnx (onnx-more): the operators exporters emit, with their own script (make_onnx_more.py)
    out.addAll(cases(Path.of("src/test/resources/onnx-more").toAbsolutePath(), "onnx"));
    // family: onnx (onnx-ops2): Einsum with two computed operands, GatherElements (make_onnx_ops2.py)
    out.addAll(onnxOps2());
    // family: onnx (intarith): integer arithmetic on run-time tensors (make_onnx_intarith.py)
    out.addAll(onnxIntArith());
    return out;
  }

  /** The onnx-ops2 fixtures under {@code src/test/resources/onnx-ops2} (made by fixtures/make_onnx_ops2.py). */
  public static List<Case> onnxOps2() { return cases(Path.of("src/test/resources/onnx-ops2").toAbsolutePath(), "onnx"); }

  /** The intarith fixtures under {@code src/test/resources/onnx-intarith} (made by fixtures/make_onnx_intarith.py). */
  public static List<Case> onnxIntArith() { return cases(Path.of("src/test/resources/onnx-intarith").toAbsolutePath(), "onnx"); }

  /** Whole torch networks exported to ONNX under {@code src/test/resources/models-torch} (made by fixtures/make_models_torch.py). */
  public static List<Case> torchModels() { return cases(Path.of("src/test/resources/models-torch").toAbsolutePath(), "onnx"); }

  /**
   * torchvision's own networks and torch.nn's stock layers exported at opsets 13, 17 and 20, under
   * {@code src/test/resources/models-torchvision} (made by fixtures/make_models_torchvision.py).
   */
  public static List<Case> torchvisionModels() { return cases(Path.of("src/test/resources/models-torchvision").toAbsolutePath(), "onnx"); }

  /** Whole Keras networks under {@code src/test/resources/models-keras} (made by fixtures/make_models_keras.py). */
  public static List<Case> kerasModels() { return cases(Path.of("src/test/resources/models-keras").toAbsolutePath(), "tflite"); }

  public static Case shared(String format, String name) {
    return shared(format).stream().filter(c -> c.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalStateException("shared model " + name + " not found under " + sharedRoot()));
  }

  private static List<Case> cases(Path root, String format) {
    List<Case> out = new ArrayList<>();
    if (!Files.isDirectory(root)) return out;
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path d : (Iterable<Path>) dirs.sorted()::iterator) {
        Path m = d.resolve("manifest.json");
        if (!Files.exists(m)) continue;
        JsonNode manifest = JSON.readTree(m.toFile());
        if (manifest.path("format").asText("tflite").equals(format)) out.add(new Case(d.getFileName().toString(), d, manifest));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }
}
