package dev.kiln.codegen;

import dev.kiln.compile.CompiledModel;
import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Quantization;
import dev.kiln.ir.Tensor;
import java.util.List;

/**
 * Writes the device metadata (runtime/executors/kiln_metadata.h): microTVM's TVMMetadata rooted at
 * {@code kTvmgenMetadata}, sub-arrays named by joining path parts with {@code _} as TVM does, then
 * Kiln's extension; plus the packed getter {@code tvmgen_<mod>_get_c_metadata}. Complete for every
 * executor and option combination: the real input and output counts, C names in the TVM part,
 * model names, quantization and sizes in the extension.
 */
final class DeviceMetadata {
  static final String ROOT = "kTvmgenMetadata";

  private DeviceMetadata() {}

  /** DLPack {code, bits} of a dtype. */
  static int[] dlType(DType t) {
    return switch (t) {
      case FLOAT32 -> new int[] {2, 32};
      case INT8 -> new int[] {0, 8};
      case UINT8 -> new int[] {1, 8};
      case INT16 -> new int[] {0, 16};
      case INT32 -> new int[] {0, 32};
      case INT64 -> new int[] {0, 64};
      case BOOL -> new int[] {6, 8};
    };
  }

  static void write(CodeWriter w, CompiledModel model, ExecutorConfig config, long scratchBytes) {
    Graph g = model.graph();
    String prefix = config.prefix();
    w.comment("Metadata: microTVM's TVMMetadata, then Kiln's extension (kiln_metadata.h).");
    tensors(w, "inputs", g.inputs());
    tensors(w, "outputs", g.outputs());
    long io = 0;
    for (Tensor t : g.inputs()) io += t.byteSize();
    for (Tensor t : g.outputs()) io += t.byteSize();
    w.begin("static const kiln_metadata " + ROOT + " =");
    w.linef("KILN_TVM_METADATA_VERSION,");
    w.linef("%s, %d,", array("inputs", g.inputs()), g.inputs().size());
    w.linef("%s, %d,", array("outputs", g.outputs()), g.outputs().size());
    w.line("NULL, 0, /* no workspace pools: the arena is static in the generated code, the entry takes only I/O */");
    w.line("NULL, 0, /* constants are linked one array each: no constant pools */");
    w.linef("%s,", CLiterals.string(prefix));
    w.line("KILN_METADATA_MAGIC,");
    w.line("KILN_METADATA_VERSION,");
    w.linef("%s,", g.inputs().isEmpty() ? "NULL" : ROOT + "_inputs_extra");
    w.linef("%s,", g.outputs().isEmpty() ? "NULL" : ROOT + "_outputs_extra");
    w.linef("%s,", CLiterals.string(g.name()));
    w.linef("%s,", CLiterals.string(config.isGraph() ? "graph" : "aot"));
    w.linef("%s,", CLiterals.string(config.interfaceApi()));
    w.linef("%d,", config.unpackedApi() ? 1 : 0);
    w.linef("%d,", g.ops().size());
    w.linef("%s,", CLiterals.string(config.isGraph() ? "" : prefix + "_run"));
    w.linef("%d, /* workspace bytes: the static arena */", config.isGraph() ? 0 : model.arenaBytes());
    w.linef("%d, /* scratch bytes of the packed operator functions */", scratchBytes);
    w.linef("%d, /* constants bytes */", g.weightBytes());
    w.linef("%d, /* input and output bytes */", io);
    w.linef("%s /* the per-operator hook of run_individual */", config.isGraph() ? "NULL" : prefix + "_set_op_hook");
    w.end(";").line("");
    w.comment("Returns the model's metadata as an opaque handle (type code 3); takes no arguments.");
    w.begin("int " + prefix + "_get_c_metadata(" + DeviceModelWriter.PACKED_PARAMS + ")");
    w.line("(void)args;").line("(void)type_codes;").line("(void)num_args;").line("(void)resource_handle;");
    w.line("out_value->v_handle = (void *)(uintptr_t)&" + ROOT + ";");
    w.line("*out_type_code = KILN_TC_OPAQUE_HANDLE;");
    w.line("return 0;");
    w.end();
  }

  private static String array(String kind, List<Tensor> tensors) {
    return tensors.isEmpty() ? "NULL" : ROOT + "_" + kind;
  }

  private static void tensors(CodeWriter w, String kind, List<Tensor> tensors) {
    if (tensors.isEmpty()) return;
    for (int i = 0; i < tensors.size(); i++) {
      Tensor t = tensors.get(i);
      StringBuilder s = new StringBuilder();
      for (int d = 0; d < t.rank(); d++) s.append(d == 0 ? "" : ", ").append(t.dim(d));
      w.linef("static const int64_t %s_%s_%d_shape[%d] = {%s};", ROOT, kind, i, Math.max(1, t.rank()),
          t.rank() == 0 ? "0" : s);
    }
    w.begin("static const kiln_md_tensor " + ROOT + "_" + kind + "[" + tensors.size() + "] =");
    for (int i = 0; i < tensors.size(); i++) {
      Tensor t = tensors.get(i);
      int[] dl = dlType(t.dtype());
      w.linef("{%s, %s_%s_%d_shape, %d, {%d, %d, 1}}%s", CLiterals.string(t.cName()), ROOT, kind, i, t.rank(), dl[0], dl[1],
          i + 1 < tensors.size() ? "," : "");
    }
    w.end(";");
    w.begin("static const kiln_md_tensor_extra " + ROOT + "_" + kind + "_extra[" + tensors.size() + "] =");
    for (int i = 0; i < tensors.size(); i++) {
      Tensor t = tensors.get(i);
      Quantization q = t.quantization();
      boolean quant = q.isQuantized() && !q.isPerChannel();
      w.linef("{%s, %s, %d, %d, %d, %s}%s", CLiterals.string(t.name()), CLiterals.string(t.cName()), t.byteSize(),
          quant ? 1 : 0, quant ? q.zeroPoint() : 0, CLiterals.f32(quant ? q.scale() : 0f), i + 1 < tensors.size() ? "," : "");
    }
    w.end(";");
  }
}
