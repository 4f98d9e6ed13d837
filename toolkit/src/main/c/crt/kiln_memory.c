/* Device memory: first-fit over a static arena with an out-of-band table of allocations (so a bad
 * pointer is recognised instead of corrupting a header), and a pool of NDArray objects. */
#include <string.h>

#include "kiln_internal.h"

static uint8_t *arena_base(kiln_runtime *rt) {
  uintptr_t p = (uintptr_t)rt->arena.bytes;
  p = (p + (KILN_ARENA_ALIGN - 1u)) & ~(uintptr_t)(KILN_ARENA_ALIGN - 1u);
  return (uint8_t *)p;
}

void *kiln_alloc(kiln_runtime *rt, size_t nbytes) {
  uint32_t size;
  uint32_t start = 0;
  int i;
  if (nbytes == 0) nbytes = 1;
  if (nbytes > KILN_ARENA_BYTES) return NULL;
  if (rt->num_allocations == KILN_MAX_ALLOCATIONS) return NULL;
  size = (uint32_t)((nbytes + (KILN_ARENA_ALIGN - 1u)) & ~(size_t)(KILN_ARENA_ALIGN - 1u));
  for (i = 0; i <= rt->num_allocations; ++i) {
    uint32_t end = i < rt->num_allocations ? rt->allocations[i].offset : (uint32_t)KILN_ARENA_BYTES;
    if (end >= start && end - start >= size) {
      memmove(&rt->allocations[i + 1], &rt->allocations[i],
              (size_t)(rt->num_allocations - i) * sizeof(rt->allocations[0]));
      rt->allocations[i].offset = start;
      rt->allocations[i].size = size;
      rt->num_allocations++;
      return arena_base(rt) + start;
    }
    if (i < rt->num_allocations) start = rt->allocations[i].offset + rt->allocations[i].size;
  }
  return NULL;
}

int kiln_free(kiln_runtime *rt, void *ptr) {
  uint8_t *base = arena_base(rt);
  int i;
  if ((uint8_t *)ptr < base || (uint8_t *)ptr >= base + KILN_ARENA_BYTES) return KILN_ERR_INVALID_ARG;
  for (i = 0; i < rt->num_allocations; ++i) {
    if (base + rt->allocations[i].offset == (uint8_t *)ptr) {
      memmove(&rt->allocations[i], &rt->allocations[i + 1],
              (size_t)(rt->num_allocations - i - 1) * sizeof(rt->allocations[0]));
      rt->num_allocations--;
      return KILN_OK;
    }
  }
  return KILN_ERR_INVALID_ARG;
}

uint64_t kiln_tensor_bytes(const kiln_dltensor *t) {
  uint64_t n = 1;
  int32_t i;
  for (i = 0; i < t->ndim; ++i) n *= (uint64_t)t->shape[i];
  return n * (((uint64_t)t->dtype.bits * t->dtype.lanes + 7u) / 8u);
}

static kiln_ndarray *ndarray_slot(kiln_runtime *rt, int32_t ndim, const int64_t *shape, kiln_dl_datatype dtype) {
  int i;
  int32_t d;
  if (ndim < 0 || ndim > KILN_MAX_NDIM) return NULL;
  for (i = 0; i < KILN_MAX_NDARRAYS; ++i) {
    kiln_ndarray *a = &rt->ndarrays[i];
    if (a->in_use) continue;
    memset(a, 0, sizeof(*a));
    a->in_use = 1;
    for (d = 0; d < ndim; ++d) a->shape[d] = shape[d];
    a->tensor.device.device_type = KILN_DEVICE_CPU;
    a->tensor.ndim = ndim;
    a->tensor.dtype = dtype;
    a->tensor.shape = a->shape;
    return a;
  }
  return NULL;
}

kiln_ndarray *kiln_ndarray_empty(kiln_runtime *rt, int32_t ndim, const int64_t *shape, kiln_dl_datatype dtype) {
  kiln_ndarray *a = ndarray_slot(rt, ndim, shape, dtype);
  uint64_t nbytes;
  if (a == NULL) return NULL;
  nbytes = kiln_tensor_bytes(&a->tensor);
  a->tensor.data = nbytes <= KILN_ARENA_BYTES ? kiln_alloc(rt, (size_t)nbytes) : NULL;
  if (a->tensor.data == NULL) {
    a->in_use = 0;
    return NULL;
  }
  memset(a->tensor.data, 0, (size_t)nbytes);
  a->owns_data = 1;
  return a;
}

kiln_ndarray *kiln_ndarray_view(kiln_runtime *rt, void *data, int32_t ndim, const int64_t *shape,
                                kiln_dl_datatype dtype) {
  kiln_ndarray *a = ndarray_slot(rt, ndim, shape, dtype);
  if (a != NULL) a->tensor.data = data;
  return a;
}

void kiln_ndarray_release(kiln_runtime *rt, kiln_ndarray *array) {
  if (array == NULL || !array->in_use) return;
  if (array->owns_data) (void)kiln_free(rt, array->tensor.data);
  array->in_use = 0;
}

/* Whether [data + byte_offset, + n) lies in one allocation or one live array's data (used to check
 * host copies). Every quantity comes from the host, so the check is done on integers: no pointer is
 * formed (data + byte_offset could overflow, or be NULL + 0) and no two unrelated pointers are
 * compared, both undefined behaviour in C. */
int kiln_memory_range_valid(kiln_runtime *rt, const void *data, uint64_t byte_offset, uint64_t n) {
  uintptr_t base = (uintptr_t)arena_base(rt);
  uintptr_t start;
  uint64_t p;
  int i;
  if (data == NULL) return 0;
  start = (uintptr_t)data;
  if (byte_offset > (uint64_t)(UINTPTR_MAX - start)) return 0;
  p = (uint64_t)start + byte_offset;
  if (p >= base && p - base < KILN_ARENA_BYTES) {
    for (i = 0; i < rt->num_allocations; ++i) {
      uint64_t a = (uint64_t)base + rt->allocations[i].offset;
      if (p >= a && p - a < rt->allocations[i].size) return n <= rt->allocations[i].size - (p - a);
    }
    return 0;
  }
  for (i = 0; i < KILN_MAX_NDARRAYS; ++i) {
    const kiln_ndarray *nd = &rt->ndarrays[i];
    uint64_t d;
    uint64_t size;
    if (!nd->in_use || nd->tensor.data == NULL) continue;
    d = (uint64_t)(uintptr_t)nd->tensor.data;
    size = kiln_tensor_bytes(&nd->tensor);
    if (p >= d && p - d < size) return n <= size - (p - d);
  }
  return 0;
}

/* Bytes still free in the arena (sum of gaps). */
uint64_t kiln_memory_free_bytes(kiln_runtime *rt) {
  uint64_t used = 0;
  int i;
  for (i = 0; i < rt->num_allocations; ++i) used += rt->allocations[i].size;
  return (uint64_t)KILN_ARENA_BYTES - used;
}
