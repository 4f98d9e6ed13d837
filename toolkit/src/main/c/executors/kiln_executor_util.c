/* Helpers shared by the executors: argument checks, array views and checked copies, dtype strings,
 * metadata lookup and module installation. */
#include <stdio.h>
#include <string.h>

#include "kiln_executor_util.h"
#include "kiln_internal.h"

#define METADATA_SUFFIX "_get_c_metadata"

int kiln_exec_is_int(int code) { return code == KILN_TC_INT || code == KILN_TC_UINT || code == KILN_TC_BOOL; }

kiln_dltensor *kiln_exec_tensor_arg(const kiln_value *v, int code) {
  if (code != KILN_TC_DLTENSOR && code != KILN_TC_NDARRAY && code != KILN_TC_OPAQUE_HANDLE) return NULL;
  return (kiln_dltensor *)v->v_handle;
}

const kiln_module *kiln_exec_module_arg(kiln_runtime *rt, const kiln_value *v, int code) {
  uint64_t h;
  unsigned m;
  if (code != KILN_TC_MODULE && code != KILN_TC_OPAQUE_HANDLE) return NULL;
  h = (uint64_t)(uintptr_t)v->v_handle;
  if ((h & ~(uint64_t)0x7FFFu) != 0x8000u) return NULL;
  m = (unsigned)(h & 0x7FFFu);
  if (m >= KILN_MAX_MODULES) return NULL;
  return rt->modules[m];
}

kiln_packed_fn kiln_exec_find_function(const kiln_module *m, const char *name) {
  uint16_t i;
  if (m == NULL || m->functions == NULL) return NULL;
  for (i = 0; i < m->num_functions; ++i) {
    if (m->functions[i].name != NULL && strcmp(m->functions[i].name, name) == 0) return m->functions[i].fn;
  }
  return NULL;
}

int kiln_exec_check_count(kiln_runtime *rt, const char *fn, int num, int min, int max, const char *usage) {
  if (num >= min && num <= max) return 0;
  kiln_set_error(rt, "%s expects %s, got %d argument%s", fn, usage, num, num == 1 ? "" : "s");
  return KILN_ERR_NUM_ARGUMENTS;
}

static int parse_uint(const char *s, size_t len, uint32_t limit, uint32_t *out) {
  uint32_t v = 0;
  size_t i;
  if (len == 0) return -1;
  for (i = 0; i < len; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10u + (uint32_t)(s[i] - '0');
    if (v > limit) return -1;
  }
  *out = v;
  return 0;
}

int kiln_exec_parse_dtype(const char *s, size_t len, kiln_dl_datatype *out) {
  static const char *const prefixes[] = {"uint", "int", "float", "bfloat"};
  static const uint8_t codes[] = {KILN_DL_UINT, KILN_DL_INT, KILN_DL_FLOAT, KILN_DL_BFLOAT};
  size_t p;
  if (len == 4 && memcmp(s, "bool", 4) == 0) {
    out->code = KILN_DL_BOOL;
    out->bits = 8;
    out->lanes = 1;
    return 0;
  }
  for (p = 0; p < sizeof(codes); ++p) {
    size_t n = strlen(prefixes[p]);
    size_t x;
    uint32_t bits, lanes = 1;
    if (len <= n || memcmp(s, prefixes[p], n) != 0 || s[n] < '0' || s[n] > '9') continue;
    for (x = n; x < len && s[x] != 'x'; ++x) {
    }
    if (parse_uint(s + n, x - n, 255, &bits) != 0 || bits == 0) return -1;
    if (x < len && (parse_uint(s + x + 1, len - x - 1, 65535, &lanes) != 0 || lanes == 0)) return -1;
    out->code = codes[p];
    out->bits = (uint8_t)bits;
    out->lanes = (uint16_t)lanes;
    return 0;
  }
  return -1;
}

void kiln_exec_format_dtype(kiln_dl_datatype t, char *buf, size_t n) {
  const char *base;
  switch (t.code) {
    case KILN_DL_INT: base = "int"; break;
    case KILN_DL_UINT: base = "uint"; break;
    case KILN_DL_FLOAT: base = "float"; break;
    case KILN_DL_BFLOAT: base = "bfloat"; break;
    case KILN_DL_BOOL: (void)snprintf(buf, n, "bool"); return;
    default: base = "code?"; break;
  }
  if (t.lanes > 1) {
    (void)snprintf(buf, n, "%s%ux%u", base, (unsigned)t.bits, (unsigned)t.lanes);
  } else {
    (void)snprintf(buf, n, "%s%u", base, (unsigned)t.bits);
  }
}

int kiln_exec_array_bytes(int32_t ndim, const int64_t *shape, kiln_dl_datatype dtype, uint64_t *bytes) {
  uint64_t n = 1;
  int32_t i;
  if (ndim < 0 || ndim > KILN_MAX_NDIM) return -1;
  for (i = 0; i < ndim; ++i) {
    if (shape[i] < 0) return -1;
    if (shape[i] != 0 && n > UINT64_MAX / 16u / (uint64_t)shape[i]) return -1;
    n *= (uint64_t)shape[i];
  }
  *bytes = n * (((uint64_t)dtype.bits * dtype.lanes + 7u) / 8u);
  return 0;
}

/* "[1, 8, 8, 1]" into buf. */
static void format_shape(int32_t ndim, const int64_t *shape, char *buf, size_t n) {
  size_t used;
  int32_t i;
  (void)snprintf(buf, n, "[");
  for (i = 0; i < ndim && i < KILN_MAX_NDIM; ++i) {
    used = strlen(buf);
    (void)snprintf(buf + used, n - used, "%s%lld", i == 0 ? "" : ", ", (long long)shape[i]);
  }
  used = strlen(buf);
  (void)snprintf(buf + used, n - used, "]");
}

/* Checks that array `given` fits a buffer of (ndim, shape, dtype); sets the error otherwise. */
static int check_array(kiln_runtime *rt, const char *what, int32_t ndim, const int64_t *shape, kiln_dl_datatype dtype,
                       const kiln_dltensor *given, uint64_t *bytes) {
  char want_t[16], got_t[16], want_s[96], got_s[96];
  uint64_t want = 0, got = 0;
  if (given == NULL || given->data == NULL) {
    kiln_set_error(rt, "%s: the array argument is NULL", what);
    return KILN_ERR_INVALID_ARG;
  }
  if (given->strides != NULL) {
    kiln_set_error(rt, "%s: the array has strides; only compact arrays are supported", what);
    return KILN_ERR_INVALID_ARG;
  }
  kiln_exec_format_dtype(dtype, want_t, sizeof(want_t));
  kiln_exec_format_dtype(given->dtype, got_t, sizeof(got_t));
  if (given->dtype.code != dtype.code || given->dtype.bits != dtype.bits || given->dtype.lanes != dtype.lanes) {
    kiln_set_error(rt, "%s: the array is %s, expected %s", what, got_t, want_t);
    return KILN_ERR_INVALID_ARG;
  }
  (void)kiln_exec_array_bytes(ndim, shape, dtype, &want);
  if (kiln_exec_array_bytes(given->ndim, given->shape, given->dtype, &got) != 0 || got != want) {
    format_shape(ndim, shape, want_s, sizeof(want_s));
    format_shape(given->ndim, given->shape, got_s, sizeof(got_s));
    kiln_set_error(rt, "%s: the array is %s%s (%llu bytes), expected %s%s (%llu bytes)", what, got_t, got_s,
                   (unsigned long long)got, want_t, want_s, (unsigned long long)want);
    return KILN_ERR_INVALID_ARG;
  }
  if (!kiln_memory_range_valid(rt, given->data, given->byte_offset, want)) {
    kiln_set_error(rt, "%s: the array's %llu bytes at 0x%llx + %llu are not device memory from DevAllocData or a live "
                   "NDArray", what, (unsigned long long)want, (unsigned long long)(uintptr_t)given->data,
                   (unsigned long long)given->byte_offset);
    return KILN_ERR_INVALID_ARG;
  }
  *bytes = want;
  return 0;
}

int kiln_exec_copy_in(kiln_runtime *rt, const char *what, void *dst, int32_t ndim, const int64_t *shape,
                      kiln_dl_datatype dtype, const kiln_dltensor *src) {
  uint64_t bytes = 0;
  int status = check_array(rt, what, ndim, shape, dtype, src, &bytes);
  if (status != 0) return status;
  memmove(dst, (const uint8_t *)src->data + src->byte_offset, (size_t)bytes);
  return 0;
}

int kiln_exec_copy_out(kiln_runtime *rt, const char *what, const void *src, int32_t ndim, const int64_t *shape,
                       kiln_dl_datatype dtype, kiln_dltensor *dst) {
  uint64_t bytes = 0;
  int status = check_array(rt, what, ndim, shape, dtype, dst, &bytes);
  if (status != 0) return status;
  memmove((uint8_t *)dst->data + dst->byte_offset, src, (size_t)bytes);
  return 0;
}

int kiln_exec_return_view(kiln_runtime *rt, const char *what, void *data, int32_t ndim, const int64_t *shape,
                          kiln_dl_datatype dtype, kiln_value *ret, int *ret_code) {
  kiln_ndarray *view = kiln_ndarray_view(rt, data, ndim, shape, dtype);
  if (view == NULL) {
    kiln_set_error(rt, "%s: no free NDArray slot (all %d in use); release returned arrays with FreeHandle(handle, 13)",
                   what, (int)KILN_MAX_NDARRAYS);
    return KILN_ERR_NO_MEMORY;
  }
  ret->v_handle = view;
  *ret_code = KILN_TC_NDARRAY;
  return 0;
}

int kiln_exec_require_free_slot(kiln_runtime *rt, const char *fn) {
  int i;
  for (i = 1; i < KILN_MAX_MODULES; ++i) {
    if (rt->modules[i] == NULL) return 0;
  }
  for (i = 1; i < KILN_MAX_MODULES; ++i) {
    const char *name = rt->modules[i]->name != NULL ? rt->modules[i]->name : "a module";
    kiln_set_error(rt, "%s: this device already has an executor (%s, module 0x%x); one executor per boot: restart "
                   "the device to create another", fn, name, (unsigned)(i | 0x8000));
    return KILN_ERR_REGISTRY_FULL;
  }
  kiln_set_error(rt, "%s: the runtime has no module slot for an executor (KILN_MAX_MODULES is %d)", fn,
                 (int)KILN_MAX_MODULES);
  return KILN_ERR_REGISTRY_FULL;
}

int kiln_exec_install(kiln_runtime *rt, const char *fn, const kiln_module *module, kiln_value *ret, int *ret_code) {
  uint64_t handle = 0;
  if (kiln_add_module(rt, module, &handle) != KILN_OK) return kiln_exec_require_free_slot(rt, fn);
  ret->v_handle = (void *)(uintptr_t)handle;
  *ret_code = KILN_TC_MODULE;
  return 0;
}

/* Appends as much of s as fits (keeping a NUL) at buf[used]; returns the new length. */
static size_t append_bounded(char *buf, size_t cap, size_t used, const char *s) {
  while (*s != '\0' && used + 1 < cap) buf[used++] = *s++;
  buf[used] = '\0';
  return used;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Calls a metadata getter; NULL if it fails or returns something else than a handle. */
static const kiln_metadata *call_getter(kiln_runtime *rt, kiln_packed_fn f, int *status, int *code) {
  kiln_value ret;
  ret.v_handle = NULL;
  *code = KILN_TC_NULLPTR;
  *status = f(NULL, NULL, 0, &ret, code, rt);
  if (*status != 0 || *code != KILN_TC_OPAQUE_HANDLE) return NULL;
  return (const kiln_metadata *)ret.v_handle;
}

static int tensors_valid(const kiln_md_tensor *t, int64_t n) {
  int64_t i;
  if (n > 0 && t == NULL) return 0;
  for (i = 0; i < n; ++i) {
    if (t[i].name == NULL || t[i].num_shape < 0 || t[i].num_shape > KILN_MAX_NDIM) return 0;
    if (t[i].num_shape > 0 && t[i].shape == NULL) return 0;
  }
  return 1;
}

const kiln_metadata *kiln_exec_call_metadata(kiln_runtime *rt, const char *fn, const kiln_module *lib,
                                             const char *getter) {
  kiln_packed_fn f = kiln_exec_find_function(lib, getter);
  const kiln_metadata *md;
  int status, code;
  if (f == NULL) {
    char found[160];
    size_t used = 0;
    uint16_t i;
    found[0] = '\0';
    for (i = 0; lib != NULL && lib->functions != NULL && i < lib->num_functions; ++i) {
      const char *name = lib->functions[i].name;
      if (name == NULL || !ends_with(name, METADATA_SUFFIX)) continue;
      used = append_bounded(found, sizeof(found), used, used == 0 ? "" : ", ");
      used = append_bounded(found, sizeof(found), used, name);
    }
    kiln_set_error(rt, "%s: the system library has no function %s (%s%s)", fn, getter,
                   used == 0 ? "it has no metadata getter" : "its metadata getters: ", found);
    return NULL;
  }
  md = call_getter(rt, f, &status, &code);
  if (md == NULL) {
    kiln_set_error(rt, "%s: %s returned no metadata (status %d, type code %d)", fn, getter, status, code);
    return NULL;
  }
  if (md->version != KILN_TVM_METADATA_VERSION) {
    kiln_set_error(rt, "%s: %s gave metadata version %lld; this executor reads version %d", fn, getter,
                   (long long)md->version, KILN_TVM_METADATA_VERSION);
    return NULL;
  }
  if (md->num_inputs < 0 || md->num_outputs < 0 || md->num_inputs + md->num_outputs == 0 ||
      md->num_inputs > 0xFFFF || md->num_outputs > 0xFFFF || !tensors_valid(md->inputs, md->num_inputs) ||
      !tensors_valid(md->outputs, md->num_outputs) || md->mod_name == NULL) {
    kiln_set_error(rt, "%s: %s gave incomplete metadata (%lld inputs, %lld outputs, names and shapes required)", fn,
                   getter, (long long)md->num_inputs, (long long)md->num_outputs);
    return NULL;
  }
  return md;
}

const kiln_metadata *kiln_exec_find_any_metadata(kiln_runtime *rt, const kiln_module *lib) {
  kiln_packed_fn found = NULL;
  const kiln_metadata *md;
  int status, code;
  uint16_t i;
  for (i = 0; lib != NULL && lib->functions != NULL && i < lib->num_functions; ++i) {
    const char *name = lib->functions[i].name;
    if (name == NULL || !ends_with(name, METADATA_SUFFIX)) continue;
    if (found != NULL) return NULL; /* several models: no single answer */
    found = lib->functions[i].fn;
  }
  if (found == NULL) return NULL;
  md = call_getter(rt, found, &status, &code);
  if (md == NULL || md->version != KILN_TVM_METADATA_VERSION || md->kiln_magic != KILN_METADATA_MAGIC) return NULL;
  if (!tensors_valid(md->inputs, md->num_inputs) || !tensors_valid(md->outputs, md->num_outputs)) return NULL;
  return md;
}

void kiln_exec_strict_no_input(kiln_runtime *rt, const char *crt_file, const char *condition, const char *name) {
  char reason[KILN_LOG_BYTES + 1];
  kiln_log(rt, "%s: Check failed: %s: cannot find '%s' among input.", crt_file, condition, name);
  /* short enough for the smallest log buffer (120 bytes on the micro:bit); only a long name is cut */
  if (snprintf(reason, sizeof(reason), "cannot find '%s' among input: microTVM's CRT aborts (0x500) here; Kiln's "
               "device would answer", name) < 0) {
    reason[0] = '\0';
  }
  kiln_abort(rt, KILN_ERR_CHECK_FAILURE, reason);
}

int kiln_exec_md_find(const kiln_metadata *md, int outputs, const char *name) {
  int64_t n = outputs ? md->num_outputs : md->num_inputs;
  const kiln_md_tensor *t = outputs ? md->outputs : md->inputs;
  const kiln_md_tensor_extra *x = md->kiln_magic == KILN_METADATA_MAGIC ? (outputs ? md->output_extras : md->input_extras)
                                                                        : NULL;
  int64_t i;
  if (x != NULL) {
    for (i = 0; i < n; ++i) {
      if (x[i].model_name != NULL && strcmp(x[i].model_name, name) == 0) return (int)i;
    }
  }
  for (i = 0; i < n; ++i) {
    if (strcmp(t[i].name, name) == 0) return (int)i;
  }
  return -1;
}

const char *kiln_exec_md_name(const kiln_metadata *md, int outputs, int64_t i, int64_t kind) {
  const kiln_md_tensor_extra *x = md->kiln_magic == KILN_METADATA_MAGIC ? (outputs ? md->output_extras : md->input_extras)
                                                                        : NULL;
  if (kind == 1 && x != NULL && x[i].model_name != NULL) return x[i].model_name;
  return outputs ? md->outputs[i].name : md->inputs[i].name;
}

int kiln_exec_return_count(kiln_runtime *rt, const char *fn, int num, int64_t n, kiln_value *ret, int *ret_code) {
  int status = kiln_exec_check_count(rt, fn, num, 0, 0, "no arguments");
  if (status != 0) return status;
  ret->v_int64 = n;
  *ret_code = KILN_TC_INT;
  return 0;
}

/* ---- run_individual ---- */

int kiln_exec_run_individual(kiln_runtime *rt, kiln_value *args, int *codes, int num, int32_t count,
                             kiln_exec_profiled_run run_once, void *self, void **block, kiln_byte_array *bytes,
                             kiln_value *ret, int *ret_code) {
  int64_t number, repeat, min_repeat_ms, limit_zero = 100, r;
  size_t result_bytes, total;
  double *values, *op_us;
  uint8_t *out;
  int32_t k;
  int a, status = kiln_exec_check_count(rt, "run_individual", num, 3, 6,
                                        "3 to 6 Int arguments (number, repeat, min_repeat_ms, limit_zero_time_iterations, "
                                        "cooldown_interval_ms, repeats_to_cooldown)");
  if (status != 0) return status;
  for (a = 0; a < num; ++a) {
    if (!kiln_exec_is_int(codes[a])) {
      kiln_set_error(rt, "run_individual: argument %d must be an Int, got type code %d", a, codes[a]);
      return KILN_ERR_WRONG_ARG_TYPE;
    }
  }
  number = args[0].v_int64;
  repeat = args[1].v_int64;
  min_repeat_ms = args[2].v_int64;
  if (num > 3) limit_zero = args[3].v_int64;
  if (number < 1 || number > KILN_MAX_TIME_NUMBER || repeat < 1 || repeat > KILN_MAX_TIME_REPEATS || min_repeat_ms < 0
      || min_repeat_ms > KILN_MAX_MIN_REPEAT_MS) {
    kiln_set_error(rt, "run_individual: number %lld, repeat %lld, min_repeat_ms %lld; need 1 <= number <= %ld, "
                   "1 <= repeat <= %d, 0 <= min_repeat_ms <= %d", (long long)number, (long long)repeat,
                   (long long)min_repeat_ms, (long)KILN_MAX_TIME_NUMBER, KILN_MAX_TIME_REPEATS, KILN_MAX_MIN_REPEAT_MS);
    return KILN_ERR_INVALID_ARG;
  }
  result_bytes = 8u + (size_t)(count + 1) * (size_t)repeat * 8u;
  if (result_bytes + 64u > (size_t)KILN_MAX_PACKET_BYTES) {
    kiln_set_error(rt, "run_individual: %ld operators x %lld repeats make a %lu-byte reply, more than one %d-byte "
                   "packet holds; use repeat 1", (long)count, (long long)repeat, (unsigned long)result_bytes,
                   KILN_MAX_PACKET_BYTES);
    return KILN_ERR_INVALID_ARG;
  }
  if (*block != NULL) {
    (void)kiln_free(rt, *block);
    *block = NULL;
  }
  total = result_bytes + (size_t)count * sizeof(double) + sizeof(double);
  *block = kiln_alloc(rt, total);
  if (*block == NULL) {
    kiln_set_error(rt, "run_individual: no room for %lu bytes of results in device memory", (unsigned long)total);
    return KILN_ERR_NO_MEMORY;
  }
  out = (uint8_t *)*block;
  values = (double *)(void *)(out + 8); /* kiln_alloc aligns to KILN_ARENA_ALIGN: 8 + 8k stays aligned */
  op_us = values + (size_t)(count + 1) * (size_t)repeat;
  status = run_once(rt, self, op_us); /* warm-up */
  for (r = 0; r < repeat && status == 0; ++r) {
    int64_t n = number, zero_readings = 0;
    uint64_t elapsed_ns = 0;
    for (;;) {
      int64_t i;
      uint64_t start;
      for (k = 0; k < count; ++k) op_us[k] = 0.0;
      start = kiln_time_ns(rt);
      for (i = 0; i < n && status == 0; ++i) status = run_once(rt, self, op_us);
      elapsed_ns = kiln_time_ns(rt) - start; /* exact instructions on QEMU */
      if (status != 0) break;
      if (n >= KILN_MAX_TIME_NUMBER) break; /* as many runs as a round may make */
      if (elapsed_ns == 0 && zero_readings < limit_zero) {
        zero_readings++;
        n = n * 2 < KILN_MAX_TIME_NUMBER ? n * 2 : KILN_MAX_TIME_NUMBER;
        continue;
      }
      if (min_repeat_ms <= 0 || elapsed_ns >= (uint64_t)min_repeat_ms * 1000000u || elapsed_ns == 0) break;
      {
        double grown = (double)n * 1.618;
        double needed = (double)min_repeat_ms * 1e6 / ((double)elapsed_ns / (double)n) + 1.0;
        double next = grown > needed ? grown : needed;
        n = next < (double)KILN_MAX_TIME_NUMBER ? (int64_t)next : KILN_MAX_TIME_NUMBER;
      }
    }
    for (k = 0; k < count; ++k) values[(size_t)k * (size_t)repeat + (size_t)r] = op_us[k] / 1e6 / (double)n;
    values[(size_t)count * (size_t)repeat + (size_t)r] = (double)elapsed_ns / 1e9 / (double)n;
  }
  if (status != 0) return status;
  /* to little-endian bytes in place: each double becomes its own 8 bytes */
  kiln_put_u64(out, (uint64_t)count);
  for (k = 0; k < (count + 1) * (int32_t)repeat; ++k) {
    uint64_t bits;
    memcpy(&bits, &values[k], sizeof(bits));
    kiln_put_u64(out + 8 + 8 * (size_t)k, bits);
  }
  bytes->data = (const char *)out;
  bytes->size = result_bytes;
  ret->v_handle = bytes;
  *ret_code = KILN_TC_BYTES;
  return 0;
}
