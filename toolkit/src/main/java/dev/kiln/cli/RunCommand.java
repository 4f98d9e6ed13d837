package dev.kiln.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.api.Build;
import dev.kiln.api.Device;
import dev.kiln.api.DeviceSession;
import dev.kiln.api.Executor;
import dev.kiln.api.Kiln;
import dev.kiln.api.KilnException;
import dev.kiln.api.ModelExecutor;
import dev.kiln.api.Tensor;
import dev.kiln.api.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "run", mixinStandardHelpOptions = true,
    description = {"Runs a model on a device over microTVM RPC and writes OUTDIR/output<j>.npy (model output order)",
        "plus OUTDIR/outputs.json. Inputs are given by model name, C name or index: --input 'predict_images:0=x.npy'."})
final class RunCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "MODEL", description = "A .tflite or .onnx file.")
  Path model;

  @Mixin InputShapeOption inputShapes = new InputShapeOption();

  @Option(names = "--executor", defaultValue = "graph", description = "graph or aot (default: ${DEFAULT-VALUE}).")
  String executor;

  @Option(names = "--interface-api", defaultValue = "packed", description = "AoT only: c or packed (default: ${DEFAULT-VALUE}).")
  String interfaceApi;

  @Option(names = "--unpacked-api", description = "AoT only: operators take raw pointers.")
  boolean unpackedApi;

  @Option(names = "--module-name", defaultValue = "default", description = "Symbol prefix tvmgen_<name>_ (default: ${DEFAULT-VALUE}).")
  String moduleName;

  @Option(names = "--device", defaultValue = "host", description = "host (a local device process), qemu:BOARD[,tcp] (mps2-an385, mps2-an386, mps2-an505, microbit, riscv32-virt: "
      + "the firmware is built and QEMU started; UART over its pseudo-terminal, or TCP), serial:PATH[@BAUD] or tcp:HOST:PORT "
      + "(default: ${DEFAULT-VALUE}).")
  String device;

  @Option(names = "--input", paramLabel = "NAME=FILE.npy", description = "An input by model name, C name or index; repeat for each input.")
  List<String> inputs = new ArrayList<>();

  @Option(names = "--timeout", defaultValue = "20", description = "Seconds any one device call may take (default: ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Option(names = "--profile", description = "Also time every operator on the device (its own clock) and print the table.")
  boolean profile;

  @Option(names = "--strict-microtvm", description = "Host device only: answer as microTVM v0.18's CRT where it is stricter: input names "
      + "are resolved by the device as microTVM does (AoT knows C names only; an unknown name aborts the device), and "
      + "device-attribute, set-device and current-stream requests raise.")
  boolean strictMicroTvm;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUTDIR", description = "Folder for output<j>.npy and outputs.json.")
  Path output;

  @Override public Integer call() throws Exception {
    Executor ex = switch (executor.toLowerCase(Locale.ROOT)) {
      case "graph" -> Executor.graph().moduleName(moduleName);
      case "aot" -> Executor.aot().interfaceApi(interfaceApi).unpackedApi(unpackedApi).moduleName(moduleName);
      default -> throw new KilnException("--executor must be graph or aot, not '" + executor + "'");
    };
    Build build = Kiln.load(model, inputShapes.options()).build(ex);
    Map<String, Tensor> given = new LinkedHashMap<>();
    for (String spec : inputs) {
      int eq = spec.lastIndexOf('=');
      if (eq <= 0) throw new KilnException("--input takes NAME=FILE.npy, not '" + spec + "'");
      given.put(spec.substring(0, eq), Tensor.load(spec.substring(eq + 1)));
    }
    Device target = parseDevice(device).timeout(Duration.ofSeconds(timeoutSeconds));
    if (strictMicroTvm) target = target.strictMicroTvm();
    try (DeviceSession session = build.flash(target)) {
      ModelExecutor exec = session.executor();
      for (Map.Entry<String, Tensor> e : given.entrySet()) {
        String name = e.getKey();
        if (name.matches("\\d+") && build.model().graph().find(name).isEmpty()) exec.setInput(Integer.parseInt(name), e.getValue());
        else exec.setInput(name, e.getValue());
      }
      exec.run();
      Files.createDirectories(output);
      ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
      ObjectNode doc = json.createObjectNode();
      doc.put("model", build.model().name());
      doc.put("executor", build.executor().toString());
      ArrayNode outs = doc.putArray("outputs");
      var out = spec.commandLine().getOut();
      for (TensorInfo info : exec.outputs()) {
        Tensor t = exec.getOutput(info.index());
        Path file = output.resolve("output" + info.index() + ".npy");
        t.save(file);
        ObjectNode o = outs.addObject();
        o.put("index", info.index());
        o.put("name", info.name());
        o.put("c_name", info.cName());
        ArrayNode shape = o.putArray("shape");
        for (int d : info.shape()) shape.add(d);
        o.put("dtype", info.dtype());
        o.put("file", file.getFileName().toString());
        out.printf("output %d %s -> %s: %s%n", info.index(), info.names(), file, Values.preview(t));
      }
      json.writeValue(output.resolve("outputs.json").toFile(), doc);
      if (profile) {
        out.print(exec.profile().toString());
        out.flush();
      }
    }
    return 0;
  }

  static Device parseDevice(String spec) {
    if (spec.equals("host")) return Device.host();
    if (spec.startsWith("qemu:")) {
      String[] parts = spec.substring(5).split(",");
      Device d = Device.qemu(parts[0]);
      for (int i = 1; i < parts.length; i++) {
        if (parts[i].equals("tcp")) d = d.overTcp();
        else if (parts[i].equals("pty")) d = d.overPty();
        else throw new KilnException("--device qemu:BOARD[,tcp|,pty], not '" + spec + "'");
      }
      return d;
    }
    if (spec.startsWith("serial:")) {
      String rest = spec.substring(7);
      int at = rest.lastIndexOf('@');
      return at < 0 ? Device.serial(rest) : Device.serial(rest.substring(0, at), Integer.parseInt(rest.substring(at + 1)));
    }
    if (spec.startsWith("tcp:")) {
      String rest = spec.substring(4);
      int colon = rest.lastIndexOf(':');
      if (colon < 0) throw new KilnException("--device tcp:HOST:PORT, not '" + spec + "'");
      return Device.tcp(rest.substring(0, colon), Integer.parseInt(rest.substring(colon + 1)));
    }
    throw new KilnException("--device must be host, qemu:BOARD[,tcp], serial:PATH or tcp:HOST:PORT, not '" + spec + "'");
  }
}
