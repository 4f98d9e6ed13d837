/*
 * Model metadata as generated code hands it to the executors. The first ten fields are microTVM's
 * TVMMetadata (metadata_types.h, TVM_METADATA_VERSION 1) field for field, so an executor written
 * for TVM reads it unchanged; Kiln's extension follows (valid when kiln_magic is
 * KILN_METADATA_MAGIC): exact model names next to the C names, quantization, byte sizes, memory.
 *
 * Generated code defines one `static const kiln_metadata` and the packed getter
 * tvmgen_<mod>_get_c_metadata (no arguments), which returns its address as an opaque handle
 * (type code 3). It is emitted for every executor and every interface-api / unpacked-api
 * combination, always with the real input and output counts (microTVM's apache/tvm#12060 was an
 * empty metadata under interface-api=c).
 */
#ifndef KILN_METADATA_H
#define KILN_METADATA_H

#include <stdint.h>

#include "kiln_types.h"

#define KILN_TVM_METADATA_VERSION 1
#define KILN_METADATA_MAGIC 0x4E4C494Bu /* "KILN" in little-endian bytes */
#define KILN_METADATA_VERSION 2

/* Called by an AoT entry after operator op_index (0 .. num_ops-1, views included) when profiling. */
typedef void (*kiln_op_hook_fn)(void *context, int32_t op_index);

/* TVMTensorInfo: name is the C name (microTVM: the sanitized name). */
typedef struct {
  const char *name;
  const int64_t *shape;
  int64_t num_shape;
  kiln_dl_datatype dtype;
} kiln_md_tensor;

/* TVMConstantInfo (Kiln links each constant as its own array: no constant pools, count 0). */
typedef struct {
  const char *name_hint;
  int64_t byte_offset;
  int64_t data_len;
  const void *data_bytes;
} kiln_md_constant;

/* Kiln's description of one input or output, parallel to kiln_md_tensor. */
typedef struct {
  const char *model_name; /* exact name in the model file, e.g. "predict_images:0" */
  const char *c_name;     /* unique C identifier, e.g. "predict_images_0" */
  int64_t bytes;
  int32_t quantized; /* 1 if real = scale * (q - zero_point) applies (per-tensor) */
  int32_t zero_point;
  float scale;
} kiln_md_tensor_extra;

typedef struct {
  /* ---- TVMMetadata ---- */
  int64_t version; /* KILN_TVM_METADATA_VERSION */
  const kiln_md_tensor *inputs;
  int64_t num_inputs;
  const kiln_md_tensor *outputs;
  int64_t num_outputs;
  const kiln_md_tensor *workspace_pools; /* shape {bytes}, uint8 */
  int64_t num_workspace_pools;
  const kiln_md_constant *constant_pools;
  int64_t num_constant_pools;
  const char *mod_name; /* mangled, e.g. "tvmgen_default" */
  /* ---- Kiln extension ---- */
  uint32_t kiln_magic;   /* KILN_METADATA_MAGIC */
  uint32_t kiln_version; /* KILN_METADATA_VERSION */
  const kiln_md_tensor_extra *input_extras;  /* num_inputs entries */
  const kiln_md_tensor_extra *output_extras; /* num_outputs entries */
  const char *model_name;    /* the model, e.g. "digits_cnn_int8" */
  const char *executor;      /* "aot" or "graph" */
  const char *interface_api; /* "packed" or "c" (graph: "packed") */
  int32_t unpacked_api;      /* 1 if operators take raw pointers */
  int32_t num_ops;
  const char *run_function; /* system-library name of the AoT entry, e.g. "tvmgen_default_run"; "" for graph */
  int64_t workspace_bytes;  /* static arena of the generated code */
  int64_t scratch_bytes;    /* static scratch of the packed operator functions */
  int64_t constants_bytes;  /* linked weights */
  int64_t io_bytes;         /* all inputs and outputs */
  /* version 2: AoT only (NULL for graph): installs a hook <prefix>_run calls after every operator
   * (NULL turns it off), for run_individual; the generated code keeps the hook in two statics. */
  void (*set_op_hook)(kiln_op_hook_fn op_done, void *context);
} kiln_metadata;

#endif /* KILN_METADATA_H */
