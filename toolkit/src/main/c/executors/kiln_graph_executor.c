/*
 * The graph executor module: created by tvm.graph_executor.create [Str graph_json, Module system_lib,
 * Int device_type 1, Int device_id 0]. It parses the graph (kiln_graph_json.c), finds every tvm_op's
 * func_name in the system library, allocates one block for all storage pools (pool size = largest
 * entry on that storage_id), and runs the ops in node order, each called with its input entries then
 * its output entries as DLTensors (type code 7). Built-in func_names: "__nop" (nothing) and
 * "__copy" (input 0 into output 0). Unlike microTVM's CRT: set_input and get_num_inputs work, a
 * wrong name or index is an error (not an abort), get_output checks its bound, and names resolve as
 * the graph spells them or, when the system library has Kiln metadata, as C names.
 */
#include <stdio.h>
#include <string.h>

#include "kiln_executor_util.h"
#include "kiln_executors.h"
#include "kiln_graph_json.h"
#include "kiln_internal.h"

#define CREATE "tvm.graph_executor.create"
#define PARAMS_MAGIC 0xF7E58D4F05049CB7ull
#define ARRAY_MAGIC 0xDD5E40F096B4A13Full

typedef struct {
  kiln_module module; /* what the runtime registers; module.state points back here */
  kiln_graph *graph;
  const kiln_metadata *md; /* optional: maps C names to graph names */
  kiln_dltensor *entries;  /* one per node entry, data inside the pools */
  kiln_packed_fn *fns;     /* per node; NULL for inputs */
  int32_t *first_arg;      /* per node: index into args/codes */
  kiln_value *args;
  int *codes;
  void *pools;
  void *profile_block; /* run_individual's last result (kiln_alloc), freed by the next call */
  kiln_byte_array profile_bytes;
} graph_executor;

static graph_executor *state(kiln_runtime *rt) { return (graph_executor *)kiln_module_state(rt); }

static int32_t entry_of(const kiln_graph *g, kiln_graph_ref ref) {
  return g->node_row_ptr[ref.node_id] + (int32_t)ref.index;
}

static int32_t input_entry(const graph_executor *ex, int32_t i) {
  return ex->graph->node_row_ptr[ex->graph->arg_nodes[i]];
}

/* ---- built-in operators ---- */

static int builtin_nop(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  (void)args;
  (void)codes;
  (void)num;
  (void)ret;
  (void)ret_code;
  (void)res;
  return 0;
}

static int builtin_copy(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  const kiln_dltensor *from;
  kiln_dltensor *to;
  uint64_t a = 0, b = 0;
  (void)codes;
  (void)ret;
  (void)ret_code;
  if (num != 2) {
    kiln_set_error((kiln_runtime *)res, "__copy takes 1 input and 1 output, got %d arguments", num);
    return KILN_ERR_NUM_ARGUMENTS;
  }
  from = (const kiln_dltensor *)args[0].v_handle;
  to = (kiln_dltensor *)args[1].v_handle;
  (void)kiln_exec_array_bytes(from->ndim, from->shape, from->dtype, &a);
  (void)kiln_exec_array_bytes(to->ndim, to->shape, to->dtype, &b);
  if (a != b) {
    kiln_set_error((kiln_runtime *)res, "__copy: the input has %llu bytes, the output %llu", (unsigned long long)a,
                   (unsigned long long)b);
    return KILN_ERR_INVALID_ARG;
  }
  memmove((uint8_t *)to->data + to->byte_offset, (const uint8_t *)from->data + from->byte_offset, (size_t)a);
  return 0;
}

/* ---- names ---- */

/* Index of the input called name (graph name, then C name through the metadata), or -1. */
static int32_t find_input(kiln_runtime *rt, const graph_executor *ex, const char *name) {
  const kiln_graph *g = ex->graph;
  int32_t i;
  int m;
  for (i = 0; i < g->num_arg_nodes; ++i) {
    if (strcmp(g->nodes[g->arg_nodes[i]].name, name) == 0) return i;
  }
  /* microTVM's graph executor knows graph names only, and CHECKs the lookup */
  if (rt->strict_microtvm) kiln_exec_strict_no_input(rt, "src/runtime/crt/graph_executor/graph_executor.c", "index >= 0", name);
  if (ex->md == NULL) return -1;
  m = kiln_exec_md_find(ex->md, 0, name);
  if (m < 0) return -1;
  name = kiln_exec_md_name(ex->md, 0, m, 1);
  for (i = 0; i < g->num_arg_nodes; ++i) {
    if (strcmp(g->nodes[g->arg_nodes[i]].name, name) == 0) return i;
  }
  return -1;
}

/* Metadata index of graph input i (matched by model name), or -1. */
static int md_input(const graph_executor *ex, int32_t i) {
  if (ex->md == NULL) return -1;
  return kiln_exec_md_find(ex->md, 0, ex->graph->nodes[ex->graph->arg_nodes[i]].name);
}

static int resolve_input(kiln_runtime *rt, const graph_executor *ex, const char *fn, const kiln_value *v, int code,
                         int32_t *index) {
  int32_t n = ex->graph->num_arg_nodes;
  if (kiln_exec_is_int(code)) {
    if (v->v_int64 < 0 || v->v_int64 >= n) {
      kiln_set_error(rt, "%s: input index %lld is out of range: the graph has %ld input%s", fn, (long long)v->v_int64,
                     (long)n, n == 1 ? "" : "s");
      return KILN_ERR_INVALID_ARG;
    }
    *index = (int32_t)v->v_int64;
    return 0;
  }
  if (code == KILN_TC_STR) {
    *index = find_input(rt, ex, v->v_str);
    if (*index < 0) {
      kiln_set_error(rt, "%s: the graph has no input named '%s'", fn, v->v_str);
      return KILN_ERR_INVALID_ARG;
    }
    return 0;
  }
  kiln_set_error(rt, "%s expects an input index (Int) or name (Str) as argument 0, got type code %d", fn, code);
  return KILN_ERR_WRONG_ARG_TYPE;
}

static int resolve_output(kiln_runtime *rt, const graph_executor *ex, const char *fn, const kiln_value *v, int code,
                          int32_t *index) {
  int32_t n = ex->graph->num_heads;
  if (!kiln_exec_is_int(code)) {
    kiln_set_error(rt, "%s expects an output index (Int) as argument 0, got type code %d", fn, code);
    return KILN_ERR_WRONG_ARG_TYPE;
  }
  if (v->v_int64 < 0 || v->v_int64 >= n) {
    kiln_set_error(rt, "%s: output index %lld is out of range: the graph has %ld output%s", fn, (long long)v->v_int64,
                   (long)n, n == 1 ? "" : "s");
    return KILN_ERR_INVALID_ARG;
  }
  *index = (int32_t)v->v_int64;
  return 0;
}

/* ---- module functions ---- */

static int view(kiln_runtime *rt, graph_executor *ex, const char *fn, int32_t entry, kiln_value *ret, int *ret_code) {
  kiln_dltensor *t = &ex->entries[entry];
  return kiln_exec_return_view(rt, fn, t->data, t->ndim, t->shape, t->dtype, ret, ret_code);
}

static int set_input(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  graph_executor *ex = state(rt);
  kiln_dltensor *src, *dst;
  char what[120];
  int32_t i;
  int status = kiln_exec_check_count(rt, "set_input", num, 2, 2, "2 arguments (Int index or Str name, DLTensor)");
  (void)ret;
  (void)ret_code;
  if (status == 0) status = resolve_input(rt, ex, "set_input", &args[0], codes[0], &i);
  if (status != 0) return status;
  src = kiln_exec_tensor_arg(&args[1], codes[1]);
  if (src == NULL) {
    kiln_set_error(rt, "set_input expects an array (DLTensor) as argument 1, got type code %d", codes[1]);
    return KILN_ERR_WRONG_ARG_TYPE;
  }
  dst = &ex->entries[input_entry(ex, i)];
  (void)snprintf(what, sizeof(what), "set_input of input %ld (%s)", (long)i,
                 ex->graph->nodes[ex->graph->arg_nodes[i]].name);
  return kiln_exec_copy_in(rt, what, dst->data, dst->ndim, dst->shape, dst->dtype, src);
}

static int get_input(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  graph_executor *ex = state(rt);
  int32_t i;
  int status = kiln_exec_check_count(rt, "get_input", num, 1, 1, "1 argument (Int index or Str name)");
  if (status == 0) status = resolve_input(rt, ex, "get_input", &args[0], codes[0], &i);
  if (status == 0) status = view(rt, ex, "get_input", input_entry(ex, i), ret, ret_code);
  return status;
}

static int get_output(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  graph_executor *ex = state(rt);
  kiln_dltensor *out, *t;
  char what[80];
  int32_t j, e;
  int status = kiln_exec_check_count(rt, "get_output", num, 1, 2, "1 argument (Int index) or 2 (Int index, DLTensor)");
  if (status == 0) status = resolve_output(rt, ex, "get_output", &args[0], codes[0], &j);
  if (status != 0) return status;
  e = entry_of(ex->graph, ex->graph->heads[j]);
  if (num == 1) return view(rt, ex, "get_output", e, ret, ret_code);
  out = kiln_exec_tensor_arg(&args[1], codes[1]);
  if (out == NULL) {
    kiln_set_error(rt, "get_output expects an array (DLTensor) as argument 1, got type code %d", codes[1]);
    return KILN_ERR_WRONG_ARG_TYPE;
  }
  t = &ex->entries[e];
  (void)snprintf(what, sizeof(what), "get_output of output %ld", (long)j);
  return kiln_exec_copy_out(rt, what, t->data, t->ndim, t->shape, t->dtype, out);
}

static int run(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  graph_executor *ex = state(rt);
  const kiln_graph *g = ex->graph;
  int32_t n;
  int status = kiln_exec_check_count(rt, "run", num, 0, 0, "no arguments");
  (void)args;
  (void)codes;
  (void)ret;
  (void)ret_code;
  if (status != 0) return status;
  for (n = 0; n < g->num_nodes; ++n) {
    const kiln_graph_node *node = &g->nodes[n];
    kiln_value unused;
    int unused_code = KILN_TC_NULLPTR;
    if (!node->is_op) continue;
    unused.v_handle = NULL;
    status = ex->fns[n](&ex->args[ex->first_arg[n]], &ex->codes[ex->first_arg[n]], node->num_inputs + node->num_outputs,
                        &unused, &unused_code, rt);
    if (status != 0) {
      if (rt->last_error[0] == '\0') {
        kiln_set_error(rt, "run: nodes[%ld] (%s) failed in %s with status %d (0x%04x)", (long)n, node->name,
                       node->func_name, status, (unsigned)status);
      }
      return status;
    }
  }
  return 0;
}

/* One run for run_individual: node n's time is the platform clock from the end of the previous
 * operator (and its bookkeeping) to the end of this one (inputs take 0). */
static int run_timed(kiln_runtime *rt, void *self, double *op_us) {
  graph_executor *ex = (graph_executor *)self;
  const kiln_graph *g = ex->graph;
  uint64_t last = kiln_time_ns(rt); /* nanoseconds: on QEMU's -icount clock they round to exact instructions */
  int32_t n;
  for (n = 0; n < g->num_nodes; ++n) {
    const kiln_graph_node *node = &g->nodes[n];
    kiln_value unused;
    int unused_code = KILN_TC_NULLPTR;
    uint64_t now;
    int status;
    if (!node->is_op) continue;
    unused.v_handle = NULL;
    status = ex->fns[n](&ex->args[ex->first_arg[n]], &ex->codes[ex->first_arg[n]], node->num_inputs + node->num_outputs,
                        &unused, &unused_code, rt);
    if (status != 0) {
      if (rt->last_error[0] == '\0') {
        kiln_set_error(rt, "run_individual: nodes[%ld] (%s) failed in %s with status %d (0x%04x)", (long)n, node->name,
                       node->func_name, status, (unsigned)status);
      }
      return status;
    }
    now = kiln_time_ns(rt);
    op_us[n] += (double)(now - last) / 1000.0;
    /* restart the clock after the bookkeeping: a soft-float add's cost depends on its operands, and it
     * is no operator's (on QEMU -icount it would make counts differ between profiles) */
    last = kiln_time_ns(rt);
  }
  return 0;
}

static int run_individual(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  graph_executor *ex = state(rt);
  return kiln_exec_run_individual(rt, args, codes, num, ex->graph->num_nodes, run_timed, ex, &ex->profile_block,
                                  &ex->profile_bytes, ret, ret_code);
}

static int get_num_inputs(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  (void)args;
  (void)codes;
  return kiln_exec_return_count(rt, "get_num_inputs", num, state(rt)->graph->num_arg_nodes, ret, ret_code);
}

static int get_num_outputs(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  (void)args;
  (void)codes;
  return kiln_exec_return_count(rt, "get_num_outputs", num, state(rt)->graph->num_heads, ret, ret_code);
}

static int get_input_index(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  int status = kiln_exec_check_count(rt, "get_input_index", num, 1, 1, "1 argument (Str name)");
  if (status != 0) return status;
  if (codes[0] != KILN_TC_STR) {
    kiln_set_error(rt, "get_input_index expects a name (Str) as argument 0, got type code %d", codes[0]);
    return KILN_ERR_WRONG_ARG_TYPE;
  }
  ret->v_int64 = find_input(rt, state(rt), args[0].v_str);
  *ret_code = KILN_TC_INT;
  return 0;
}

/* [Int index] or [Int index, Int kind]: kind 0 C name, 1 model name; default: the graph's name. */
static int name_kind(kiln_runtime *rt, const char *fn, kiln_value *args, int *codes, int num, int64_t *kind) {
  int status = kiln_exec_check_count(rt, fn, num, 1, 2, "1 argument (Int index) or 2 (Int index, Int kind)");
  if (status != 0) return status;
  *kind = -1;
  if (num == 2) {
    if (!kiln_exec_is_int(codes[1]) || args[1].v_int64 < 0 || args[1].v_int64 > 1) {
      kiln_set_error(rt, "%s: argument 1 is the kind of name: Int 0 (C name) or 1 (model name)", fn);
      return KILN_ERR_INVALID_ARG;
    }
    *kind = args[1].v_int64;
  }
  return 0;
}

static int get_input_name(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  graph_executor *ex = state(rt);
  int64_t kind;
  int32_t i;
  int m, status = name_kind(rt, "get_input_name", args, codes, num, &kind);
  if (status == 0 && !kiln_exec_is_int(codes[0])) {
    kiln_set_error(rt, "get_input_name expects an index (Int) as argument 0, got type code %d", codes[0]);
    status = KILN_ERR_WRONG_ARG_TYPE;
  }
  if (status == 0) status = resolve_input(rt, ex, "get_input_name", &args[0], codes[0], &i);
  if (status != 0) return status;
  m = md_input(ex, i);
  ret->v_str = kind == 0 && m >= 0 ? kiln_exec_md_name(ex->md, 0, m, 0) : ex->graph->nodes[ex->graph->arg_nodes[i]].name;
  *ret_code = KILN_TC_STR;
  return 0;
}

static int get_output_name(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  graph_executor *ex = state(rt);
  int64_t kind;
  int32_t j;
  int status = name_kind(rt, "get_output_name", args, codes, num, &kind);
  if (status == 0) status = resolve_output(rt, ex, "get_output_name", &args[0], codes[0], &j);
  if (status != 0) return status;
  if (ex->md != NULL && ex->md->num_outputs == ex->graph->num_heads) {
    ret->v_str = kiln_exec_md_name(ex->md, 1, j, kind == 0 ? 0 : 1);
  } else {
    ret->v_str = ex->graph->nodes[ex->graph->heads[j].node_id].name; /* the producing node */
  }
  *ret_code = KILN_TC_STR;
  return 0;
}

/* ---- load_params: TVM's params blob (facts 4.2) ---- */

typedef struct {
  const uint8_t *p;
  uint64_t n;
  uint64_t pos;
  int bad;
} blob;

static uint64_t blob_u64(blob *b) {
  uint64_t v;
  if (b->bad || b->n - b->pos < 8) {
    b->bad = 1;
    return 0;
  }
  v = kiln_le_u64(b->p + b->pos);
  b->pos += 8;
  return v;
}

static uint32_t blob_u32(blob *b) {
  uint32_t v;
  if (b->bad || b->n - b->pos < 4) {
    b->bad = 1;
    return 0;
  }
  v = kiln_le_u32(b->p + b->pos);
  b->pos += 4;
  return v;
}

static const uint8_t *blob_bytes(blob *b, uint64_t n) {
  const uint8_t *at = b->p + b->pos;
  if (b->bad || b->n - b->pos < n) {
    b->bad = 1;
    return NULL;
  }
  b->pos += n;
  return at;
}

/* Checks (copy == 0) or loads (copy == 1) every array of the blob. */
static int load_arrays(kiln_runtime *rt, graph_executor *ex, blob *b, uint64_t names_at, uint64_t count, int copy) {
  uint64_t k;
  for (k = 0; k < count; ++k) {
    blob names;
    uint64_t len = 0, bytes = 0, want = 0, i;
    const uint8_t *name = NULL, *data;
    int32_t ndim, d, index, e;
    int64_t shape[KILN_MAX_NDIM];
    kiln_dl_datatype dtype;
    char label[64];
    names = *b;
    names.pos = names_at;
    for (i = 0; i <= k; ++i) {
      len = blob_u64(&names);
      name = blob_bytes(&names, len);
    }
    (void)snprintf(label, sizeof(label), "%.*s", (int)(len > 40 ? 40 : len), name != NULL ? (const char *)name : "");
    if (blob_u64(b) != ARRAY_MAGIC) {
      kiln_set_error(rt, "load_params: array %llu (%s) does not start with the NDArray magic", (unsigned long long)k, label);
      return KILN_ERR_INVALID_ARG;
    }
    (void)blob_u64(b); /* reserved */
    (void)blob_u32(b); /* device type */
    (void)blob_u32(b); /* device id */
    ndim = (int32_t)blob_u32(b);
    {
      uint32_t t = blob_u32(b);
      dtype.code = (uint8_t)(t & 0xFFu);
      dtype.bits = (uint8_t)((t >> 8) & 0xFFu);
      dtype.lanes = (uint16_t)(t >> 16);
    }
    if (b->bad || ndim < 0 || ndim > KILN_MAX_NDIM) {
      kiln_set_error(rt, "load_params: array %llu (%s) is cut short or has %ld dimensions", (unsigned long long)k, label,
                     (long)ndim);
      return KILN_ERR_INVALID_ARG;
    }
    for (d = 0; d < ndim; ++d) shape[d] = (int64_t)blob_u64(b);
    bytes = blob_u64(b);
    data = blob_bytes(b, bytes);
    if (b->bad) {
      kiln_set_error(rt, "load_params: array %llu (%s) is cut short", (unsigned long long)k, label);
      return KILN_ERR_INVALID_ARG;
    }
    index = -1;
    for (i = 0; name != NULL && i < (uint64_t)ex->graph->num_arg_nodes; ++i) {
      const char *n = ex->graph->nodes[ex->graph->arg_nodes[i]].name;
      if (strlen(n) == len && memcmp(n, name, (size_t)len) == 0) index = (int32_t)i;
    }
    if (index < 0) {
      kiln_set_error(rt, "load_params: parameter '%s' is not an input of the graph", label);
      return KILN_ERR_INVALID_ARG;
    }
    e = input_entry(ex, index);
    if (kiln_exec_array_bytes(ndim, shape, dtype, &want) != 0 || want != bytes ||
        dtype.code != ex->entries[e].dtype.code || dtype.bits != ex->entries[e].dtype.bits ||
        dtype.lanes != ex->entries[e].dtype.lanes ||
        kiln_exec_array_bytes(ex->entries[e].ndim, ex->entries[e].shape, ex->entries[e].dtype, &want) != 0 ||
        want != bytes) {
      kiln_set_error(rt, "load_params: parameter '%s' (%llu bytes) does not match the graph's entry (%llu bytes, same dtype "
                     "required)", label, (unsigned long long)bytes, (unsigned long long)want);
      return KILN_ERR_INVALID_ARG;
    }
    if (copy) memcpy(ex->entries[e].data, data, (size_t)bytes);
  }
  return 0;
}

static int load_params(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  graph_executor *ex = state(rt);
  const kiln_byte_array *bytes;
  blob b;
  uint64_t count, names_at, arrays_at, k;
  int status = kiln_exec_check_count(rt, "load_params", num, 1, 1, "1 argument (Bytes: a TVM params blob)");
  (void)ret;
  (void)ret_code;
  if (status != 0) return status;
  if (codes[0] != KILN_TC_BYTES) {
    kiln_set_error(rt, "load_params expects the params blob as Bytes, got type code %d", codes[0]);
    return KILN_ERR_WRONG_ARG_TYPE;
  }
  bytes = (const kiln_byte_array *)args[0].v_handle;
  b.p = (const uint8_t *)bytes->data;
  b.n = bytes->size;
  b.pos = 0;
  b.bad = 0;
  if (blob_u64(&b) != PARAMS_MAGIC) {
    kiln_set_error(rt, "load_params: the blob (%llu bytes) does not start with the params magic 0x%llx",
                   (unsigned long long)bytes->size, (unsigned long long)PARAMS_MAGIC);
    return KILN_ERR_INVALID_ARG;
  }
  (void)blob_u64(&b); /* reserved */
  count = blob_u64(&b);
  names_at = b.pos;
  for (k = 0; k < count && !b.bad; ++k) (void)blob_bytes(&b, blob_u64(&b));
  if (b.bad || blob_u64(&b) != count) {
    kiln_set_error(rt, "load_params: the blob is cut short or its name and array counts differ (%llu names)",
                   (unsigned long long)count);
    return KILN_ERR_INVALID_ARG;
  }
  arrays_at = b.pos;
  status = load_arrays(rt, ex, &b, names_at, count, 0); /* check everything before changing anything */
  if (status != 0) return status;
  b.pos = arrays_at;
  return load_arrays(rt, ex, &b, names_at, count, 1);
}

static const kiln_function kGraphFunctions[] = {
    {"set_input", set_input},
    {"get_input", get_input},
    {"get_output", get_output},
    {"run", run},
    {"get_num_inputs", get_num_inputs},
    {"get_num_outputs", get_num_outputs},
    {"get_input_index", get_input_index},
    {"load_params", load_params},
    {"get_input_name", get_input_name},
    {"get_output_name", get_output_name},
    {"run_individual", run_individual},
};

/* ---- create ---- */

static size_t align16(size_t n) { return (n + 15u) & ~(size_t)15u; }

/* Finds each op's function; sets the error naming the first missing one. */
static int link_functions(kiln_runtime *rt, const kiln_graph *g, const kiln_module *lib, kiln_packed_fn *fns) {
  int32_t n;
  for (n = 0; n < g->num_nodes; ++n) {
    const kiln_graph_node *node = &g->nodes[n];
    fns[n] = NULL;
    if (!node->is_op) continue;
    if (strcmp(node->func_name, "__nop") == 0) {
      fns[n] = builtin_nop;
    } else if (strcmp(node->func_name, "__copy") == 0) {
      fns[n] = builtin_copy;
    } else {
      fns[n] = kiln_exec_find_function(lib, node->func_name);
    }
    if (fns[n] == NULL) {
      kiln_set_error(rt, CREATE ": nodes[%ld] (%s) calls %s, which the system library (%s) does not have", (long)n,
                     node->name, node->func_name, lib->name != NULL ? lib->name : "module 0");
      return KILN_ERR_NAME_NOT_FOUND;
    }
  }
  return 0;
}

int kiln_graph_executor_create(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  const kiln_module *lib;
  kiln_graph *g = NULL;
  graph_executor *ex;
  uint8_t *block, *pools;
  uint64_t *pool_offset;
  size_t total, at;
  uint64_t pool_bytes;
  int32_t n, e, num_args = 0, num_pools;
  const char *json;
  int status = kiln_exec_check_count(rt, CREATE, num, 4, 4,
                                     "4 arguments (Str graph_json, Module system_lib, Int device_type, Int device_id)");
  if (status != 0) return status;
  if (codes[0] != KILN_TC_STR) {
    kiln_set_error(rt, CREATE ": argument 0 must be the graph JSON (Str), got type code %d", codes[0]);
    return KILN_ERR_WRONG_ARG_TYPE;
  }
  lib = kiln_exec_module_arg(rt, &args[1], codes[1]);
  if (lib == NULL) {
    kiln_set_error(rt, CREATE ": argument 1 must be the system library (runtime.SystemLib()), got type code %d", codes[1]);
    return KILN_ERR_WRONG_ARG_TYPE;
  }
  if (!kiln_exec_is_int(codes[2]) || !kiln_exec_is_int(codes[3])) {
    kiln_set_error(rt, CREATE ": arguments 2 and 3 must be Int device_type and Int device_id");
    return KILN_ERR_WRONG_ARG_TYPE;
  }
  if (args[2].v_int64 != KILN_DEVICE_CPU || args[3].v_int64 != 0) {
    kiln_set_error(rt, CREATE ": device {%lld, %lld} does not exist; this device is {1, 0} (CPU)",
                   (long long)args[2].v_int64, (long long)args[3].v_int64);
    return KILN_ERR_INVALID_ARG;
  }
  status = kiln_exec_require_free_slot(rt, CREATE);
  if (status != 0) return status;
  json = args[0].v_str;
  if (json[0] == '\0') {
    /* an empty string asks for the graph linked into the program (it did not fit one packet) */
    json = kiln_linked_graph_json;
    if (json[0] == '\0') {
      kiln_set_error(rt, CREATE ": the graph JSON is empty and none is linked into this device program");
      return KILN_ERR_INVALID_ARG;
    }
  }
  status = kiln_graph_parse(rt, CREATE, json, strlen(json), &g);
  if (status != 0) return status;
  for (n = 0; n < g->num_nodes; ++n) {
    if (g->nodes[n].is_op) num_args += g->nodes[n].num_inputs + g->nodes[n].num_outputs;
  }
  num_pools = 0;
  for (e = 0; e < g->num_entries; ++e) {
    if (g->storage_id[e] + 1 > num_pools) num_pools = g->storage_id[e] + 1;
  }
  /* one block for the state, one for the pools */
  total = align16(sizeof(graph_executor)) + align16((size_t)g->num_entries * sizeof(kiln_dltensor)) +
          align16((size_t)g->num_nodes * sizeof(kiln_packed_fn)) + align16((size_t)g->num_nodes * sizeof(int32_t)) +
          align16((size_t)num_args * sizeof(kiln_value)) + align16((size_t)num_args * sizeof(int)) +
          align16((size_t)num_pools * sizeof(uint64_t));
  block = (uint8_t *)kiln_alloc(rt, total);
  if (block == NULL) {
    kiln_set_error(rt, CREATE ": no room for the executor's tables (%lu bytes of device memory)", (unsigned long)total);
    (void)kiln_free(rt, g);
    return KILN_ERR_NO_MEMORY;
  }
  memset(block, 0, total);
  ex = (graph_executor *)block;
  at = align16(sizeof(graph_executor));
  ex->entries = (kiln_dltensor *)(block + at);
  at += align16((size_t)g->num_entries * sizeof(kiln_dltensor));
  ex->fns = (kiln_packed_fn *)(block + at);
  at += align16((size_t)g->num_nodes * sizeof(kiln_packed_fn));
  ex->first_arg = (int32_t *)(block + at);
  at += align16((size_t)g->num_nodes * sizeof(int32_t));
  ex->args = (kiln_value *)(block + at);
  at += align16((size_t)num_args * sizeof(kiln_value));
  ex->codes = (int *)(block + at);
  at += align16((size_t)num_args * sizeof(int));
  pool_offset = (uint64_t *)(block + at);
  ex->graph = g;
  status = link_functions(rt, g, lib, ex->fns);
  if (status == 0) {
    /* pool sizes: the largest entry on each storage id; then offsets in one block */
    for (e = 0; e < g->num_entries && status == 0; ++e) {
      uint64_t bytes;
      if (kiln_exec_array_bytes(g->ndim[e], &g->shape[(size_t)e * KILN_MAX_NDIM], g->dltype[e], &bytes) != 0 ||
          bytes > KILN_ARENA_BYTES) {
        kiln_set_error(rt, CREATE ": graph JSON, attrs.shape[%ld]: the entry is too large for this device", (long)e);
        status = KILN_ERR_INVALID_ARG;
      } else if (bytes > pool_offset[g->storage_id[e]]) {
        pool_offset[g->storage_id[e]] = bytes;
      }
    }
  }
  pool_bytes = 0;
  for (n = 0; n < num_pools && status == 0; ++n) {
    uint64_t size = pool_offset[n];
    pool_offset[n] = pool_bytes;
    pool_bytes += (size + 15u) & ~(uint64_t)15u; /* each pool is at most KILN_ARENA_BYTES: no overflow */
  }
  pools = NULL;
  if (status == 0) {
    pools = pool_bytes <= KILN_ARENA_BYTES ? (uint8_t *)kiln_alloc(rt, (size_t)pool_bytes) : NULL;
    if (pools == NULL) {
      kiln_set_error(rt, CREATE ": the storage pools need %llu bytes of device memory; %llu are free",
                     (unsigned long long)pool_bytes, (unsigned long long)kiln_memory_free_bytes(rt));
      status = KILN_ERR_NO_MEMORY;
    }
  }
  if (status != 0) {
    (void)kiln_free(rt, block);
    (void)kiln_free(rt, g);
    return status;
  }
  memset(pools, 0, (size_t)pool_bytes);
  ex->pools = pools;
  for (e = 0; e < g->num_entries; ++e) {
    kiln_dltensor *t = &ex->entries[e];
    t->data = pools + pool_offset[g->storage_id[e]];
    t->device.device_type = KILN_DEVICE_CPU;
    t->device.device_id = 0;
    t->ndim = g->ndim[e];
    t->dtype = g->dltype[e];
    t->shape = &g->shape[(size_t)e * KILN_MAX_NDIM];
    t->strides = NULL;
    t->byte_offset = 0;
  }
  num_args = 0;
  for (n = 0; n < g->num_nodes; ++n) {
    const kiln_graph_node *node = &g->nodes[n];
    int32_t k;
    ex->first_arg[n] = num_args;
    if (!node->is_op) continue;
    for (k = 0; k < node->num_inputs; ++k) {
      ex->args[num_args].v_handle = &ex->entries[entry_of(g, g->inputs[node->first_input + k])];
      ex->codes[num_args++] = KILN_TC_DLTENSOR;
    }
    for (k = 0; k < node->num_outputs; ++k) {
      ex->args[num_args].v_handle = &ex->entries[g->node_row_ptr[n] + k];
      ex->codes[num_args++] = KILN_TC_DLTENSOR;
    }
  }
  ex->md = kiln_exec_find_any_metadata(rt, lib);
  ex->module.name = KILN_GRAPH_MODULE_NAME;
  ex->module.functions = kGraphFunctions;
  ex->module.num_functions = (uint16_t)(sizeof(kGraphFunctions) / sizeof(kGraphFunctions[0]));
  ex->module.state = ex;
  status = kiln_exec_install(rt, CREATE, &ex->module, ret, ret_code);
  if (status != 0) {
    (void)kiln_free(rt, pools);
    (void)kiln_free(rt, block);
    (void)kiln_free(rt, g);
  }
  return status;
}
