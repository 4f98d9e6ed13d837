/*
 * Test-only system library, linked into the device program by the tests (never into production).
 * Indices 0..11 have the names, order and behaviour of the probe library the wire vectors were
 * recorded with (microtvm-wire-vectors.md section 0), so the recorded handles 0x80008000 + i apply.
 * The rest exercise failure paths: sleeping, aborting, exiting, crashing, returning NDArrays.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "kiln_runtime.h"
#include "kiln_syslib.h"

#define RT(res) ((kiln_runtime *)(res))
#define UNUSED_ARGS (void)args, (void)codes, (void)num, (void)ret, (void)ret_code, (void)res

static int want(void *res, const char *name, int num, int expected) {
  if (num == expected) return 1;
  kiln_set_error(RT(res), "%s expects %d arguments, got %d", name, expected, num);
  return 0;
}

static int kiln_add_int(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  UNUSED_ARGS;
  if (!want(res, "kiln_add_int", num, 2)) return -1;
  ret->v_int64 = args[0].v_int64 + args[1].v_int64;
  *ret_code = 0;
  return 0;
}

static int kiln_mul_float(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  UNUSED_ARGS;
  if (!want(res, "kiln_mul_float", num, 2)) return -1;
  ret->v_float64 = args[0].v_float64 * args[1].v_float64;
  *ret_code = 2;
  return 0;
}

static int kiln_strlen(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  UNUSED_ARGS;
  if (!want(res, "kiln_strlen", num, 1)) return -1;
  ret->v_int64 = (int64_t)strlen(args[0].v_str);
  *ret_code = 0;
  return 0;
}

static int kiln_echo_str(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  UNUSED_ARGS;
  if (!want(res, "kiln_echo_str", num, 1)) return -1;
  ret->v_str = args[0].v_str;
  *ret_code = 11;
  return 0;
}

static int kiln_log_fn(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  UNUSED_ARGS;
  if (!want(res, "kiln_log", num, 1)) return -1;
  kiln_log(RT(res), "%s\n", args[0].v_str);
  return 0;
}

static int kiln_fail(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  UNUSED_ARGS;
  kiln_set_error(RT(res), "kiln_fail: deliberate failure");
  return -1;
}

static int kiln_sum_bytes(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  const kiln_dltensor *t;
  const uint8_t *p;
  uint64_t n, i, sum = 0;
  UNUSED_ARGS;
  if (!want(res, "kiln_sum_bytes", num, 1)) return -1;
  t = (const kiln_dltensor *)args[0].v_handle;
  p = (const uint8_t *)t->data + t->byte_offset;
  n = kiln_tensor_bytes(t);
  for (i = 0; i < n; ++i) sum += p[i];
  ret->v_int64 = (int64_t)sum;
  *ret_code = 0;
  return 0;
}

static int kiln_nargs(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  UNUSED_ARGS;
  ret->v_int64 = num;
  *ret_code = 0;
  return 0;
}

static int kiln_spin(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  volatile uint32_t i;
  UNUSED_ARGS;
  for (i = 0; i < 1000u; ++i) {
  }
  return 0;
}

static int kiln_arg_codes(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  uint64_t packed = 0;
  int i;
  UNUSED_ARGS;
  for (i = 0; i < num && i < 8; ++i) packed |= (uint64_t)(codes[i] & 0xFF) << (8 * i);
  ret->v_int64 = (int64_t)packed;
  *ret_code = 0;
  return 0;
}

static int kiln_copy(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  const kiln_dltensor *from;
  kiln_dltensor *to;
  UNUSED_ARGS;
  if (!want(res, "kiln_copy", num, 2)) return -1;
  from = (const kiln_dltensor *)args[0].v_handle;
  to = (kiln_dltensor *)args[1].v_handle;
  memmove((uint8_t *)to->data + to->byte_offset, (const uint8_t *)from->data + from->byte_offset,
          (size_t)kiln_tensor_bytes(from));
  return 0;
}

static int kiln_last_codes(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  UNUSED_ARGS;
  ret->v_int64 = 0; /* the recording kept state here; this library keeps none */
  *ret_code = 0;
  return 0;
}

/* ---- Kiln extras ---- */

static int kiln_sleep_ms(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  uint64_t end;
  UNUSED_ARGS;
  if (!want(res, "kiln_sleep_ms", num, 1)) return -1;
  end = kiln_time_ns(RT(res)) + (uint64_t)args[0].v_int64 * 1000000u;
  while (kiln_time_ns(RT(res)) < end) {
  }
  return 0;
}

static int kiln_abort_with(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  UNUSED_ARGS;
  if (!want(res, "kiln_abort_with", num, 1)) return -1;
  kiln_abort(RT(res), 0x0500, args[0].v_str);
  return 0;
}

static int kiln_exit(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  UNUSED_ARGS;
  if (!want(res, "kiln_exit", num, 1)) return -1;
  exit((int)args[0].v_int64);
}

static int kiln_crash(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  UNUSED_ARGS;
  raise(SIGSEGV);
  return 0;
}

static int kiln_make_ndarray(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_dl_datatype u8 = {1, 8, 1};
  int64_t shape[1];
  kiln_ndarray *nd;
  int64_t i;
  UNUSED_ARGS;
  if (!want(res, "kiln_make_ndarray", num, 1)) return -1;
  shape[0] = args[0].v_int64;
  nd = kiln_ndarray_empty(RT(res), 1, shape, u8);
  if (nd == NULL) {
    kiln_set_error(RT(res), "kiln_make_ndarray: no room for %lld bytes", (long long)shape[0]);
    return -1;
  }
  for (i = 0; i < shape[0]; ++i) ((uint8_t *)nd->tensor.data)[i] = (uint8_t)(i * 7);
  ret->v_handle = nd;
  *ret_code = 13;
  return 0;
}

static int kiln_empty(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  UNUSED_ARGS;
  return 0;
}

static const kiln_function kFunctions[] = {
    {"kiln_add_int", kiln_add_int},       {"kiln_mul_float", kiln_mul_float},
    {"kiln_strlen", kiln_strlen},         {"kiln_echo_str", kiln_echo_str},
    {"kiln_log", kiln_log_fn},            {"kiln_fail", kiln_fail},
    {"kiln_sum_bytes", kiln_sum_bytes},   {"kiln_nargs", kiln_nargs},
    {"kiln_spin", kiln_spin},             {"kiln_arg_codes", kiln_arg_codes},
    {"kiln_copy", kiln_copy},             {"kiln_last_codes", kiln_last_codes},
    {"kiln_sleep_ms", kiln_sleep_ms},     {"kiln_abort_with", kiln_abort_with},
    {"kiln_exit", kiln_exit},             {"kiln_crash", kiln_crash},
    {"kiln_make_ndarray", kiln_make_ndarray}, {"kiln_empty", kiln_empty},
};

static const kiln_module kTestSystemLib = {"kiln_test", kFunctions, (uint16_t)(sizeof(kFunctions) / sizeof(kFunctions[0])),
                                           NULL};

const kiln_module *kiln_system_lib(void) { return &kTestSystemLib; }
