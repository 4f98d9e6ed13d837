/*
 * Helpers for the packed functions Kiln generates (operators called by the graph executor, the AoT
 * entry tvmgen_<mod>_run, ___tvm_main__): reading a tensor argument and building one. A wrong
 * argument returns KILN_ERR_NUM_ARGUMENTS or KILN_ERR_WRONG_ARG_TYPE after TVMAPISetLastError with
 * one sentence per function saying what it takes (kiln_syslib.h): microTVM's CRT sends the host
 * that text, and so does this runtime.
 */
#ifndef KILN_GENERATED_H
#define KILN_GENERATED_H

#include <stddef.h>
#include <stdint.h>

#include "kiln_errors.h"
#include "kiln_syslib.h"
#include "kiln_types.h"

/*
 * kiln_arg_data is out of line, one copy per file that calls it, in AoT builds: there ___tvm_main__
 * checks the model's tensors once and calls each op's body directly, so the packed operators only
 * run when the host calls one, and inlined, each argument check was about 100 bytes of Cortex-M code
 * (issue 12). The graph executor calls the packed operators on every inference: its operators' file
 * defines KILN_ARG_CHECK_INLINE. `unused`: a file that includes this header and calls none.
 */
#if defined(__GNUC__) && !defined(KILN_ARG_CHECK_INLINE)
#define KILN_ARG_CHECK static __attribute__((noinline, unused))
#else
#define KILN_ARG_CHECK static inline
#endif

/*
 * The data (byte_offset applied) of tensor argument i if it is a tensor of dtype (code, bits, 1 lane)
 * holding exactly `bytes` bytes; otherwise NULL. Type codes 3, 4, 7 and 13 pass the type check, as in
 * TVM's generated kernels, but 4 (null) carries no tensor, so it ends as NULL too.
 */
KILN_ARG_CHECK void *kiln_arg_data(const kiln_value *args, const int *codes, int i, uint8_t code, uint8_t bits,
                                   uint64_t bytes) {
  const kiln_dltensor *t;
  uint64_t n = 1;
  int32_t d;
  if (codes[i] == KILN_TC_NULLPTR) return NULL; /* a null tensor: its value is not a pointer to read */
  if (codes[i] != KILN_TC_DLTENSOR && codes[i] != KILN_TC_NDARRAY && codes[i] != KILN_TC_OPAQUE_HANDLE) return NULL;
  t = (const kiln_dltensor *)args[i].v_handle;
  if (t == NULL || t->data == NULL || t->dtype.code != code || t->dtype.bits != bits || t->dtype.lanes != 1) return NULL;
  if (t->ndim < 0 || (t->ndim > 0 && t->shape == NULL)) return NULL;
  for (d = 0; d < t->ndim; ++d) {
    if (t->shape[d] < 0) return NULL;
    n *= (uint64_t)t->shape[d];
  }
  if (n * ((bits + 7u) / 8u) != bytes) return NULL;
  return (uint8_t *)t->data + t->byte_offset;
}

/* Makes argument (t, v, c) a DLTensor (type code 7) over data, for calls between generated packed functions. */
static inline void kiln_tensor_arg(kiln_dltensor *t, kiln_value *v, int *c, void *data, int32_t ndim,
                                   const int64_t *shape, uint8_t code, uint8_t bits) {
  t->data = data;
  t->device.device_type = KILN_DEVICE_CPU;
  t->device.device_id = 0;
  t->ndim = ndim;
  t->dtype.code = code;
  t->dtype.bits = bits;
  t->dtype.lanes = 1;
  t->shape = (int64_t *)(uintptr_t)shape; /* never written through */
  t->strides = NULL;
  t->byte_offset = 0;
  v->v_handle = t;
  *c = KILN_TC_DLTENSOR;
}

/* A failing argument check: hands TVM's runtime the function's text (what it takes), returns status. */
static inline int kiln_arg_error(const char *text, int status) {
  TVMAPISetLastError(text);
  return status;
}

#endif /* KILN_GENERATED_H */
