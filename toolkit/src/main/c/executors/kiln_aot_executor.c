/*
 * The AoT executor module: created by tvm.aot_executor.create [Module system_lib, Device {1, 0},
 * Str module_name]. It reads the model's metadata through tvmgen_<mod>_get_c_metadata, keeps one
 * buffer per input and output, and runs the system library's tvmgen_<mod>_run with them as DLTensor
 * arguments (inputs, then outputs). Unlike microTVM's CRT: a missing metadata getter or a second
 * executor is an error at create (apache/tvm#12060), names resolve as the model spells them or as
 * C names (apache/tvm#16142), unknown names and indices are errors instead of aborts, and
 * set_input and get_input_name work.
 */
#include <stdio.h>
#include <string.h>

#include "kiln_executor_util.h"
#include "kiln_executors.h"

#define CREATE "tvm.aot_executor.create"
#define MAX_MODULE_NAME 80

typedef struct {
  kiln_module module; /* what the runtime registers; module.state points back here */
  const kiln_metadata *md;
  const char *run_name;
  kiln_packed_fn run;
  int32_t num_inputs;
  int32_t num_outputs;
  kiln_dltensor *tensors; /* inputs then outputs: the run arguments and the buffers */
  kiln_value *values;
  int *codes;
  int64_t *shapes; /* KILN_MAX_NDIM per tensor */
  void *profile_block; /* run_individual's last result (kiln_alloc), freed by the next call */
  kiln_byte_array profile_bytes;
} aot_executor;

/* What the generated entry's operator hook updates during run_individual. */
typedef struct {
  kiln_runtime *rt;
  double *op_us;
  int32_t count;
  uint64_t last; /* ns */
} op_clock;

static aot_executor *state(kiln_runtime *rt) { return (aot_executor *)kiln_module_state(rt); }

/* Strict microTVM mode: the CRT's lookup, an exact strcmp against the metadata (C) names; a miss is
 * its failed CHECK, which aborts the device. */
static int strict_find(kiln_runtime *rt, const aot_executor *ex, const char *name) {
  int64_t i;
  for (i = 0; i < ex->md->num_inputs; ++i) {
    if (strcmp(ex->md->inputs[i].name, name) == 0) return (int)i;
  }
  kiln_exec_strict_no_input(rt, "src/runtime/crt/aot_executor/aot_executor.c", "rv >= 0", name);
  return -1;
}

static const kiln_md_tensor *md_tensor(const aot_executor *ex, int32_t k) {
  return k < ex->num_inputs ? &ex->md->inputs[k] : &ex->md->outputs[k - ex->num_inputs];
}

/* Input (outputs = 0) or output index from an Int or Str argument; sets the error otherwise. */
static int resolve(kiln_runtime *rt, const aot_executor *ex, const char *fn, int outputs, const kiln_value *v, int code,
                   int32_t *index) {
  int32_t n = outputs ? ex->num_outputs : ex->num_inputs;
  const char *kind = outputs ? "output" : "input";
  if (kiln_exec_is_int(code)) {
    if (v->v_int64 < 0 || v->v_int64 >= n) {
      kiln_set_error(rt, "%s: %s index %lld is out of range: the model has %ld %s%s", fn, kind, (long long)v->v_int64,
                     (long)n, kind, n == 1 ? "" : "s");
      return KILN_ERR_INVALID_ARG;
    }
    *index = (int32_t)v->v_int64;
    return 0;
  }
  if (code == KILN_TC_STR && !outputs) {
    int found = rt->strict_microtvm ? strict_find(rt, ex, v->v_str) : kiln_exec_md_find(ex->md, 0, v->v_str);
    if (found < 0) {
      kiln_set_error(rt, "%s: the model has no input named '%s'", fn, v->v_str);
      return KILN_ERR_INVALID_ARG;
    }
    *index = found;
    return 0;
  }
  kiln_set_error(rt, "%s expects an %s %s as argument 0, got type code %d", fn, kind,
                 outputs ? "index (Int)" : "index (Int) or name (Str)", code);
  return KILN_ERR_WRONG_ARG_TYPE;
}

static int view(kiln_runtime *rt, aot_executor *ex, const char *fn, int32_t k, kiln_value *ret, int *ret_code) {
  kiln_dltensor *t = &ex->tensors[k];
  return kiln_exec_return_view(rt, fn, t->data, t->ndim, t->shape, t->dtype, ret, ret_code);
}

static int get_input(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  aot_executor *ex = state(rt);
  int32_t i;
  int status = kiln_exec_check_count(rt, "get_input", num, 1, 1, "1 argument (Int index or Str name)");
  if (status == 0) status = resolve(rt, ex, "get_input", 0, &args[0], codes[0], &i);
  if (status == 0) status = view(rt, ex, "get_input", i, ret, ret_code);
  return status;
}

static int set_input(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  aot_executor *ex = state(rt);
  kiln_dltensor *src, *dst;
  char what[120];
  int32_t i;
  int status = kiln_exec_check_count(rt, "set_input", num, 2, 2, "2 arguments (Int index or Str name, DLTensor)");
  (void)ret;
  (void)ret_code;
  if (status == 0) status = resolve(rt, ex, "set_input", 0, &args[0], codes[0], &i);
  if (status != 0) return status;
  src = kiln_exec_tensor_arg(&args[1], codes[1]);
  if (src == NULL) {
    kiln_set_error(rt, "set_input expects an array (DLTensor) as argument 1, got type code %d", codes[1]);
    return KILN_ERR_WRONG_ARG_TYPE;
  }
  dst = &ex->tensors[i];
  (void)snprintf(what, sizeof(what), "set_input of input %ld (%s)", (long)i, kiln_exec_md_name(ex->md, 0, i, 1));
  return kiln_exec_copy_in(rt, what, dst->data, dst->ndim, dst->shape, dst->dtype, src);
}

static int get_output(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  aot_executor *ex = state(rt);
  kiln_dltensor *out, *t;
  char what[120];
  int32_t j;
  int status = kiln_exec_check_count(rt, "get_output", num, 1, 2, "1 argument (Int index) or 2 (Int index, DLTensor)");
  if (status == 0) status = resolve(rt, ex, "get_output", 1, &args[0], codes[0], &j);
  if (status != 0) return status;
  t = &ex->tensors[ex->num_inputs + j];
  if (num == 1) return view(rt, ex, "get_output", ex->num_inputs + j, ret, ret_code);
  out = kiln_exec_tensor_arg(&args[1], codes[1]);
  if (out == NULL) {
    kiln_set_error(rt, "get_output expects an array (DLTensor) as argument 1, got type code %d", codes[1]);
    return KILN_ERR_WRONG_ARG_TYPE;
  }
  (void)snprintf(what, sizeof(what), "get_output of output %ld (%s)", (long)j, kiln_exec_md_name(ex->md, 1, j, 1));
  return kiln_exec_copy_out(rt, what, t->data, t->ndim, t->shape, t->dtype, out);
}

static int get_input_index(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  aot_executor *ex = state(rt);
  int status = kiln_exec_check_count(rt, "get_input_index", num, 1, 1, "1 argument (Str name)");
  if (status != 0) return status;
  if (codes[0] != KILN_TC_STR) {
    kiln_set_error(rt, "get_input_index expects a name (Str) as argument 0, got type code %d", codes[0]);
    return KILN_ERR_WRONG_ARG_TYPE;
  }
  ret->v_int64 = rt->strict_microtvm ? strict_find(rt, ex, args[0].v_str) : kiln_exec_md_find(ex->md, 0, args[0].v_str);
  *ret_code = KILN_TC_INT;
  return 0;
}

static int get_num_inputs(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  (void)args;
  (void)codes;
  return kiln_exec_return_count(rt, "get_num_inputs", num, state(rt)->num_inputs, ret, ret_code);
}

static int get_num_outputs(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  (void)args;
  (void)codes;
  return kiln_exec_return_count(rt, "get_num_outputs", num, state(rt)->num_outputs, ret, ret_code);
}

/* get_input_name / get_output_name: [Int index] or [Int index, Int kind]. */
static int name_of(kiln_runtime *rt, const char *fn, int outputs, int default_kind, kiln_value *args, int *codes,
                   int num, kiln_value *ret, int *ret_code) {
  aot_executor *ex = state(rt);
  int64_t kind = default_kind;
  int32_t i;
  int status = kiln_exec_check_count(rt, fn, num, 1, 2, "1 argument (Int index) or 2 (Int index, Int kind)");
  if (status == 0 && !kiln_exec_is_int(codes[0])) {
    kiln_set_error(rt, "%s expects an index (Int) as argument 0, got type code %d", fn, codes[0]);
    status = KILN_ERR_WRONG_ARG_TYPE;
  }
  if (status == 0) status = resolve(rt, ex, fn, outputs, &args[0], codes[0], &i);
  if (status != 0) return status;
  if (num == 2) {
    if (!kiln_exec_is_int(codes[1]) || args[1].v_int64 < 0 || args[1].v_int64 > 1) {
      kiln_set_error(rt, "%s: argument 1 is the kind of name: Int 0 (C name) or 1 (model name)", fn);
      return KILN_ERR_INVALID_ARG;
    }
    kind = args[1].v_int64;
  }
  ret->v_str = kiln_exec_md_name(ex->md, outputs, i, kind);
  *ret_code = KILN_TC_STR;
  return 0;
}

static int get_input_name(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  return name_of((kiln_runtime *)res, "get_input_name", 0, 0, args, codes, num, ret, ret_code);
}

static int get_output_name(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  return name_of((kiln_runtime *)res, "get_output_name", 1, 1, args, codes, num, ret, ret_code);
}

static int run(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  aot_executor *ex = state(rt);
  kiln_value unused;
  int unused_code = KILN_TC_NULLPTR;
  int status = kiln_exec_check_count(rt, "run", num, 0, 0, "no arguments");
  (void)args;
  (void)codes;
  (void)ret;
  (void)ret_code;
  if (status != 0) return status;
  unused.v_handle = NULL;
  status = ex->run(ex->values, ex->codes, ex->num_inputs + ex->num_outputs, &unused, &unused_code, rt);
  if (status != 0 && rt->last_error[0] == '\0') {
    kiln_set_error(rt, "run: %s failed with status %d (0x%04x)", ex->run_name, status, (unsigned)status);
  }
  return status;
}

/* The operator hook: operator i took the time since the previous operator ended and was booked (or the run began). */
static void op_done(void *context, int32_t op_index) {
  op_clock *c = (op_clock *)context;
  uint64_t now = kiln_time_ns(c->rt); /* nanoseconds: on QEMU's -icount clock they round to exact instructions */
  if (op_index >= 0 && op_index < c->count) c->op_us[op_index] += (double)(now - c->last) / 1000.0;
  c->last = kiln_time_ns(c->rt); /* after the bookkeeping (a soft-float add, operand-dependent): no operator's */
}

/* One run for run_individual, through the hook the generated entry calls after each operator. */
static int run_timed(kiln_runtime *rt, void *self, double *op_us) {
  aot_executor *ex = (aot_executor *)self;
  kiln_value unused;
  int unused_code = KILN_TC_NULLPTR;
  op_clock clock;
  int status;
  clock.rt = rt;
  clock.op_us = op_us;
  clock.count = ex->md->num_ops;
  clock.last = kiln_time_ns(rt);
  unused.v_handle = NULL;
  ex->md->set_op_hook(op_done, &clock);
  status = ex->run(ex->values, ex->codes, ex->num_inputs + ex->num_outputs, &unused, &unused_code, rt);
  ex->md->set_op_hook(NULL, NULL);
  if (status != 0 && rt->last_error[0] == '\0') {
    kiln_set_error(rt, "run_individual: %s failed with status %d (0x%04x)", ex->run_name, status, (unsigned)status);
  }
  return status;
}

static int run_individual(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  aot_executor *ex = state(rt);
  if (ex->md->kiln_magic != KILN_METADATA_MAGIC || ex->md->kiln_version < 2 || ex->md->set_op_hook == NULL) {
    kiln_set_error(rt, "run_individual: %s has no operator hook (its metadata predates Kiln metadata version 2); "
                   "rebuild the model with this Kiln", ex->md->mod_name);
    return KILN_ERR_NAME_NOT_FOUND;
  }
  return kiln_exec_run_individual(rt, args, codes, num, ex->md->num_ops, run_timed, ex, &ex->profile_block,
                                  &ex->profile_bytes, ret, ret_code);
}

static const kiln_function kAotFunctions[] = {
    {"get_input", get_input},
    {"get_input_index", get_input_index},
    {"get_num_inputs", get_num_inputs},
    {"get_num_outputs", get_num_outputs},
    {"get_output", get_output},
    {"run", run},
    {"set_input", set_input},
    {"get_input_name", get_input_name},
    {"get_output_name", get_output_name},
    {"run_individual", run_individual},
};

static size_t align16(size_t n) { return (n + 15u) & ~(size_t)15u; }

int kiln_aot_executor_create(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  const kiln_module *lib;
  const kiln_metadata *md;
  const char *mod;
  char getter[MAX_MODULE_NAME + 32];
  char run_name[MAX_MODULE_NAME + 32];
  kiln_packed_fn run_fn;
  aot_executor *ex;
  uint8_t *block;
  size_t total, at;
  int32_t n, k;
  int status = kiln_exec_check_count(rt, CREATE, num, 3, 3, "3 arguments (Module system_lib, Device {1, 0}, Str module_name)");
  if (status != 0) return status;
  lib = kiln_exec_module_arg(rt, &args[0], codes[0]);
  if (lib == NULL) {
    kiln_set_error(rt, CREATE ": argument 0 must be the system library (runtime.SystemLib()), got type code %d", codes[0]);
    return KILN_ERR_WRONG_ARG_TYPE;
  }
  if (codes[1] != KILN_TC_DEVICE) {
    kiln_set_error(rt, CREATE ": argument 1 must be a Device, got type code %d", codes[1]);
    return KILN_ERR_WRONG_ARG_TYPE;
  }
  if (args[1].v_device.device_type != KILN_DEVICE_CPU || args[1].v_device.device_id != 0) {
    kiln_set_error(rt, CREATE ": device {%ld, %ld} does not exist; this device is {1, 0} (CPU)",
                   (long)args[1].v_device.device_type, (long)args[1].v_device.device_id);
    return KILN_ERR_INVALID_ARG;
  }
  if (codes[2] != KILN_TC_STR) {
    kiln_set_error(rt, CREATE ": argument 2 must be the module name (Str, e.g. \"default\"), got type code %d", codes[2]);
    return KILN_ERR_WRONG_ARG_TYPE;
  }
  mod = args[2].v_str;
  if (strlen(mod) > MAX_MODULE_NAME) {
    kiln_set_error(rt, CREATE ": the module name is longer than %d characters", MAX_MODULE_NAME);
    return KILN_ERR_INVALID_ARG;
  }
  status = kiln_exec_require_free_slot(rt, CREATE);
  if (status != 0) return status;
  /* tvmgen_<mod>_get_c_metadata ("tvmgen_get_c_metadata" for an empty name, as TVM mangles it);
   * Kiln lower-cases module names in symbols, so that spelling is tried too */
  (void)snprintf(getter, sizeof(getter), "tvmgen%s%s_get_c_metadata", mod[0] == '\0' ? "" : "_", mod);
  if (kiln_exec_find_function(lib, getter) == NULL) {
    char lower[sizeof(getter)];
    size_t i;
    memcpy(lower, getter, sizeof(getter));
    for (i = 0; lower[i] != '\0'; ++i) {
      if (lower[i] >= 'A' && lower[i] <= 'Z') lower[i] = (char)(lower[i] - 'A' + 'a');
    }
    if (kiln_exec_find_function(lib, lower) != NULL) memcpy(getter, lower, sizeof(getter));
  }
  md = kiln_exec_call_metadata(rt, CREATE, lib, getter);
  if (md == NULL) return KILN_ERR_NAME_NOT_FOUND;
  if (md->kiln_magic == KILN_METADATA_MAGIC && md->run_function != NULL && md->run_function[0] != '\0') {
    (void)snprintf(run_name, sizeof(run_name), "%s", md->run_function);
  } else {
    (void)snprintf(run_name, sizeof(run_name), "%s_run", md->mod_name);
  }
  run_fn = kiln_exec_find_function(lib, run_name);
  if (run_fn == NULL) {
    kiln_set_error(rt, CREATE ": the system library has no function %s (the entry named by %s)", run_name, getter);
    return KILN_ERR_NAME_NOT_FOUND;
  }
  /* one block: state, tensors, values, codes, shapes, the run-name copy, then each buffer */
  n = (int32_t)(md->num_inputs + md->num_outputs);
  total = align16(sizeof(aot_executor)) + align16((size_t)n * sizeof(kiln_dltensor)) +
          align16((size_t)n * sizeof(kiln_value)) + align16((size_t)n * sizeof(int)) +
          align16((size_t)n * KILN_MAX_NDIM * sizeof(int64_t)) + align16(strlen(run_name) + 1u);
  for (k = 0; k < n; ++k) {
    const kiln_md_tensor *t = k < md->num_inputs ? &md->inputs[k] : &md->outputs[k - md->num_inputs];
    uint64_t bytes;
    if (kiln_exec_array_bytes((int32_t)t->num_shape, t->shape, t->dtype, &bytes) != 0 || bytes > KILN_ARENA_BYTES) {
      kiln_set_error(rt, CREATE ": %s %s has an invalid shape in the metadata", k < md->num_inputs ? "input" : "output",
                     t->name);
      return KILN_ERR_INVALID_ARG;
    }
    total += align16((size_t)bytes);
  }
  block = (uint8_t *)kiln_alloc(rt, total);
  if (block == NULL) {
    kiln_set_error(rt, CREATE ": no room for the input and output buffers (%lu bytes of device memory)",
                   (unsigned long)total);
    return KILN_ERR_NO_MEMORY;
  }
  memset(block, 0, total);
  ex = (aot_executor *)block;
  at = align16(sizeof(aot_executor));
  ex->tensors = (kiln_dltensor *)(block + at);
  at += align16((size_t)n * sizeof(kiln_dltensor));
  ex->values = (kiln_value *)(block + at);
  at += align16((size_t)n * sizeof(kiln_value));
  ex->codes = (int *)(block + at);
  at += align16((size_t)n * sizeof(int));
  ex->shapes = (int64_t *)(block + at);
  at += align16((size_t)n * KILN_MAX_NDIM * sizeof(int64_t));
  memcpy(block + at, run_name, strlen(run_name) + 1u);
  ex->run_name = (const char *)(block + at);
  at += align16(strlen(run_name) + 1u);
  ex->md = md;
  ex->run = run_fn;
  ex->num_inputs = (int32_t)md->num_inputs;
  ex->num_outputs = (int32_t)md->num_outputs;
  for (k = 0; k < n; ++k) {
    const kiln_md_tensor *t = md_tensor(ex, k);
    kiln_dltensor *d = &ex->tensors[k];
    uint64_t bytes = 0;
    int32_t dim;
    for (dim = 0; dim < (int32_t)t->num_shape; ++dim) ex->shapes[(size_t)k * KILN_MAX_NDIM + (size_t)dim] = t->shape[dim];
    d->data = block + at;
    d->device.device_type = KILN_DEVICE_CPU;
    d->device.device_id = 0;
    d->ndim = (int32_t)t->num_shape;
    d->dtype = t->dtype;
    d->shape = &ex->shapes[(size_t)k * KILN_MAX_NDIM];
    d->strides = NULL;
    d->byte_offset = 0;
    (void)kiln_exec_array_bytes(d->ndim, d->shape, d->dtype, &bytes);
    at += align16((size_t)bytes);
    ex->values[k].v_handle = d;
    ex->codes[k] = KILN_TC_DLTENSOR;
  }
  ex->module.name = KILN_AOT_MODULE_NAME;
  ex->module.functions = kAotFunctions;
  ex->module.num_functions = (uint16_t)(sizeof(kAotFunctions) / sizeof(kAotFunctions[0]));
  ex->module.state = ex;
  status = kiln_exec_install(rt, CREATE, &ex->module, ret, ret_code);
  if (status != 0) (void)kiln_free(rt, block);
  return status;
}
