/*
 * The TVM RPC server subset that microTVM's CRT implements, one packet per kNormal message:
 * CallFunc, GetGlobalFunc, FreeHandle, device syscalls, chunked copies and shutdown. Replies are
 * byte-identical to microTVM's on the good path. Unlike microTVM, a malformed packet, an unknown
 * code or wrong syscall arguments get a kException naming the problem and the device keeps serving.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kiln_internal.h"

/* RPC codes */
enum {
  RPC_SHUTDOWN = 1,
  RPC_INIT_SERVER = 2,
  RPC_CALL_FUNC = 3,
  RPC_RETURN = 4,
  RPC_EXCEPTION = 5,
  RPC_COPY_FROM_REMOTE = 6,
  RPC_COPY_TO_REMOTE = 7,
  RPC_COPY_ACK = 8,
  RPC_GET_GLOBAL_FUNC = 9,
  RPC_FREE_HANDLE = 10,
  RPC_DEV_SET_DEVICE = 11,
  RPC_DEV_GET_ATTR = 12,
  RPC_DEV_ALLOC_DATA = 13,
  RPC_DEV_FREE_DATA = 14,
  RPC_DEV_STREAM_SYNC = 15,
  RPC_COPY_AMONG_REMOTE = 16,
  RPC_DEV_ALLOC_DATA_WITH_SCOPE = 17,
  RPC_DEV_CREATE_STREAM = 18,
  RPC_DEV_FREE_STREAM = 19,
  RPC_DEV_SET_STREAM = 20,
  RPC_DEV_GET_CURRENT_STREAM = 21
};

#define RPC_OVERHEAD (3u + 8u) /* session header + RPC length */

/* ---- reading ---- */

typedef struct {
  uint8_t *p;
  uint32_t n;
  uint32_t pos;
  const char *error;
} reader;

static int need(reader *r, uint64_t k) {
  if (r->error != NULL) return 0;
  if ((uint64_t)(r->n - r->pos) < k) {
    r->error = "the packet ends early";
    return 0;
  }
  return 1;
}

static uint64_t rd_u64(reader *r) {
  uint64_t v;
  if (!need(r, 8)) return 0;
  v = kiln_le_u64(r->p + r->pos);
  r->pos += 8;
  return v;
}

static int32_t rd_i32(reader *r) {
  uint32_t v;
  if (!need(r, 4)) return 0;
  v = kiln_le_u32(r->p + r->pos);
  r->pos += 4;
  return (int32_t)v;
}

static void *as_pointer(reader *r, uint64_t v) {
  if ((uint64_t)(uintptr_t)v != v && r->error == NULL) r->error = "a pointer does not fit this device";
  return (void *)(uintptr_t)v;
}

static void rd_tensor(reader *r, kiln_dltensor *t, int64_t *shape) {
  int32_t i;
  uint8_t *q;
  t->data = as_pointer(r, rd_u64(r));
  t->device.device_type = rd_i32(r);
  t->device.device_id = rd_i32(r);
  t->ndim = rd_i32(r);
  if (!need(r, 4)) return;
  q = r->p + r->pos;
  t->dtype.code = q[0];
  t->dtype.bits = q[1];
  t->dtype.lanes = (uint16_t)(q[2] | (q[3] << 8));
  r->pos += 4;
  if (r->error == NULL && (t->ndim < 0 || t->ndim > KILN_MAX_NDIM)) {
    r->error = "a tensor has more dimensions than KILN_MAX_NDIM";
    return;
  }
  for (i = 0; i < t->ndim; ++i) shape[i] = (int64_t)rd_u64(r);
  t->shape = shape;
  t->strides = NULL;
  t->byte_offset = rd_u64(r);
}

/* Decodes a packed sequence into rt->arg_*; strings are NUL-terminated in place. */
static int rd_args(kiln_runtime *rt, reader *r, int *num_out) {
  int32_t num = rd_i32(r);
  int32_t i;
  if (r->error != NULL) return 0;
  if (num < 0 || num > KILN_MAX_ARGS) {
    r->error = "more arguments than KILN_MAX_ARGS";
    return 0;
  }
  for (i = 0; i < num; ++i) rt->arg_codes[i] = rd_i32(r);
  for (i = 0; i < num && r->error == NULL; ++i) {
    kiln_value *v = &rt->arg_values[i];
    switch (rt->arg_codes[i]) {
      case KILN_TC_INT:
      case KILN_TC_UINT:
      case KILN_TC_BOOL:
        v->v_int64 = (int64_t)rd_u64(r);
        break;
      case KILN_TC_FLOAT: {
        uint64_t bits = rd_u64(r);
        memcpy(&v->v_float64, &bits, sizeof(bits));
        break;
      }
      case KILN_TC_OPAQUE_HANDLE:
      case KILN_TC_MODULE:
      case KILN_TC_PACKED_FUNC:
        v->v_handle = as_pointer(r, rd_u64(r));
        break;
      case KILN_TC_NULLPTR:
        v->v_handle = NULL;
        break;
      case KILN_TC_DATA_TYPE:
        if (!need(r, 8)) break;
        v->v_type.code = r->p[r->pos];
        v->v_type.bits = r->p[r->pos + 1];
        v->v_type.lanes = (uint16_t)(r->p[r->pos + 2] | (r->p[r->pos + 3] << 8));
        r->pos += 8;
        break;
      case KILN_TC_DEVICE:
        v->v_device.device_type = rd_i32(r);
        v->v_device.device_id = rd_i32(r);
        break;
      case KILN_TC_DLTENSOR:
        rd_tensor(r, &rt->arg_tensors[i], rt->arg_shapes[i]);
        v->v_handle = &rt->arg_tensors[i];
        break;
      case KILN_TC_STR: {
        uint64_t len = rd_u64(r);
        char *s;
        if (!need(r, len)) break;
        /* move over the 8 length bytes already read, then terminate: stays inside this argument */
        s = (char *)(r->p + r->pos - 8);
        memmove(s, r->p + r->pos, (size_t)len);
        s[len] = '\0';
        r->pos += (uint32_t)len;
        v->v_str = s;
        break;
      }
      case KILN_TC_BYTES: {
        uint64_t len = rd_u64(r);
        if (!need(r, len)) break;
        rt->arg_bytes[i].data = (const char *)(r->p + r->pos);
        rt->arg_bytes[i].size = (size_t)len;
        r->pos += (uint32_t)len;
        v->v_handle = &rt->arg_bytes[i];
        break;
      }
      default:
        r->error = "an argument has a type code that cannot be sent (8, 13, 14 or unknown)";
        break;
    }
  }
  *num_out = num;
  return r->error == NULL;
}

/* ---- writing replies ---- */

static void send_u64(kiln_runtime *rt, uint64_t v) {
  uint8_t b[8];
  kiln_put_u64(b, v);
  kiln_send_bytes(rt, b, 8);
}

static void send_u32(kiln_runtime *rt, uint32_t v) {
  uint8_t b[4];
  kiln_put_u32(b, v);
  kiln_send_bytes(rt, b, 4);
}

static void send_tensor(kiln_runtime *rt, const kiln_dltensor *t) {
  uint8_t dtype[4];
  int32_t i;
  send_u64(rt, (uint64_t)(uintptr_t)t->data);
  send_u32(rt, (uint32_t)t->device.device_type);
  send_u32(rt, (uint32_t)t->device.device_id);
  send_u32(rt, (uint32_t)t->ndim);
  dtype[0] = t->dtype.code;
  dtype[1] = t->dtype.bits;
  dtype[2] = (uint8_t)(t->dtype.lanes & 0xFFu);
  dtype[3] = (uint8_t)(t->dtype.lanes >> 8);
  kiln_send_bytes(rt, dtype, 4);
  for (i = 0; i < t->ndim; ++i) send_u64(rt, (uint64_t)t->shape[i]);
  send_u64(rt, t->byte_offset);
}

static uint64_t value_size(int code, const kiln_value *v) {
  switch (code) {
    case KILN_TC_NULLPTR:
      return 0;
    case KILN_TC_DLTENSOR:
      return 32u + 8u * (uint64_t)((const kiln_dltensor *)v->v_handle)->ndim;
    case KILN_TC_STR:
      return 8u + (v->v_str != NULL ? strlen(v->v_str) : 0u);
    case KILN_TC_BYTES:
      return 8u + ((const kiln_byte_array *)v->v_handle)->size;
    default:
      return 8;
  }
}

static void send_value(kiln_runtime *rt, int code, const kiln_value *v) {
  switch (code) {
    case KILN_TC_NULLPTR:
      return;
    case KILN_TC_FLOAT: {
      uint64_t bits;
      memcpy(&bits, &v->v_float64, sizeof(bits));
      send_u64(rt, bits);
      return;
    }
    case KILN_TC_OPAQUE_HANDLE:
    case KILN_TC_MODULE:
    case KILN_TC_PACKED_FUNC:
      send_u64(rt, (uint64_t)(uintptr_t)v->v_handle);
      return;
    case KILN_TC_DATA_TYPE: {
      uint8_t b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      b[0] = v->v_type.code;
      b[1] = v->v_type.bits;
      b[2] = (uint8_t)(v->v_type.lanes & 0xFFu);
      b[3] = (uint8_t)(v->v_type.lanes >> 8);
      kiln_send_bytes(rt, b, 8);
      return;
    }
    case KILN_TC_DEVICE:
      send_u32(rt, (uint32_t)v->v_device.device_type);
      send_u32(rt, (uint32_t)v->v_device.device_id);
      return;
    case KILN_TC_DLTENSOR:
      send_tensor(rt, (const kiln_dltensor *)v->v_handle);
      return;
    case KILN_TC_STR: {
      size_t len = v->v_str != NULL ? strlen(v->v_str) : 0u;
      send_u64(rt, len);
      kiln_send_bytes(rt, v->v_str, len);
      return;
    }
    case KILN_TC_BYTES: {
      const kiln_byte_array *b = (const kiln_byte_array *)v->v_handle;
      send_u64(rt, b->size);
      kiln_send_bytes(rt, b->data, b->size);
      return;
    }
    default:
      send_u64(rt, (uint64_t)v->v_int64);
      return;
  }
}

void kiln_rpc_send_exception(kiln_runtime *rt, const char *message) {
  size_t len = strlen(message);
  const size_t max = KILN_MAX_PACKET_BYTES - RPC_OVERHEAD - 20u;
  if (len > max) len = max;
  kiln_send_begin(rt, KILN_MSG_NORMAL, rt->session_id, (uint32_t)(8u + 20u + len));
  send_u64(rt, 20u + len);
  send_u32(rt, RPC_EXCEPTION);
  send_u32(rt, 1);
  send_u32(rt, KILN_TC_STR);
  send_u64(rt, len);
  kiln_send_bytes(rt, message, len);
  kiln_send_end(rt);
}

/* printf into rt->text, then a kException. */
static void send_exception_f(kiln_runtime *rt, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  (void)vsnprintf(rt->text, sizeof(rt->text), format, ap);
  va_end(ap);
  kiln_rpc_send_exception(rt, rt->text);
}

/* A kReturn of num values. */
static void send_return(kiln_runtime *rt, int num, const int *codes, const kiln_value *values) {
  uint64_t body = 8u + 4u * (uint64_t)num;
  int i;
  for (i = 0; i < num; ++i) body += value_size(codes[i], &values[i]);
  if (RPC_OVERHEAD + body > KILN_MAX_PACKET_BYTES) {
    send_exception_f(rt, "the return value needs a %lu-byte packet; the limit is %lu bytes",
                     (unsigned long)(RPC_OVERHEAD + body), (unsigned long)KILN_MAX_PACKET_BYTES);
    return;
  }
  kiln_send_begin(rt, KILN_MSG_NORMAL, rt->session_id, (uint32_t)(8u + body));
  send_u64(rt, body);
  send_u32(rt, RPC_RETURN);
  send_u32(rt, (uint32_t)num);
  for (i = 0; i < num; ++i) send_u32(rt, (uint32_t)codes[i]);
  for (i = 0; i < num; ++i) send_value(rt, codes[i], &values[i]);
  kiln_send_end(rt);
}

static void send_void(kiln_runtime *rt) {
  int code = KILN_TC_NULLPTR;
  kiln_value v;
  v.v_handle = NULL;
  send_return(rt, 1, &code, &v);
}

static void send_handle(kiln_runtime *rt, void *handle) {
  int code = KILN_TC_OPAQUE_HANDLE;
  kiln_value v;
  v.v_handle = handle;
  send_return(rt, 1, &code, &v);
}

static void send_int(kiln_runtime *rt, int64_t value) {
  int code = KILN_TC_INT;
  kiln_value v;
  v.v_int64 = value;
  send_return(rt, 1, &code, &v);
}

/* A CallFunc result: [kDLInt original code][value as sent], NDArrays as three values. */
static void send_call_result(kiln_runtime *rt, int ret_code, kiln_value *ret) {
  int codes[3];
  kiln_value values[3];
  codes[0] = KILN_TC_INT;
  values[0].v_int64 = ret_code;
  switch (ret_code) {
    case KILN_TC_NDARRAY: {
      kiln_ndarray *nd = (kiln_ndarray *)ret->v_handle;
      codes[1] = KILN_TC_DLTENSOR;
      values[1].v_handle = &nd->tensor;
      codes[2] = KILN_TC_OPAQUE_HANDLE;
      values[2].v_handle = nd;
      send_return(rt, 3, codes, values);
      return;
    }
    case KILN_TC_MODULE:
    case KILN_TC_PACKED_FUNC:
    case KILN_TC_OBJECT:
      codes[1] = KILN_TC_OPAQUE_HANDLE;
      break;
    default:
      codes[1] = ret_code;
      break;
  }
  values[1] = *ret;
  send_return(rt, 2, codes, values);
}

/* ---- handles and lookup ---- */

static uint64_t function_handle(unsigned module_index, unsigned function_index) {
  return ((uint64_t)(module_index | 0x8000u) << 16) | (function_index | 0x8000u);
}

/* Finds the function a handle names; on failure writes the reason into rt->text and returns NULL. */
static kiln_packed_fn resolve(kiln_runtime *rt, uint64_t handle, const kiln_module **module, const char **name) {
  unsigned m = (unsigned)((handle >> 16) & 0x7FFFu);
  unsigned f = (unsigned)(handle & 0x7FFFu);
  *module = NULL;
  if ((handle >> 32) != 0 || (handle & 0x80008000u) != 0x80008000u) {
    (void)snprintf(rt->text, sizeof(rt->text), "0x%llx is not a function handle of this device",
                   (unsigned long long)handle);
    return NULL;
  }
  if (m == KILN_MAX_MODULES) {
    if (f < (unsigned)rt->num_globals) {
      *name = rt->globals[f].name;
      return rt->globals[f].fn;
    }
  } else if (m < KILN_MAX_MODULES && rt->modules[m] != NULL) {
    if (f < rt->modules[m]->num_functions) {
      *module = rt->modules[m];
      *name = rt->modules[m]->functions[f].name;
      return rt->modules[m]->functions[f].fn;
    }
  } else {
    (void)snprintf(rt->text, sizeof(rt->text), "function handle 0x%llx names module slot %u, which is empty",
                   (unsigned long long)handle, m);
    return NULL;
  }
  (void)snprintf(rt->text, sizeof(rt->text), "function handle 0x%llx: no function #%u", (unsigned long long)handle, f);
  return NULL;
}

static const kiln_module *module_of(kiln_runtime *rt, uint64_t handle, unsigned *index) {
  unsigned m = (unsigned)(handle & 0x7FFFu);
  if ((handle & ~(uint64_t)0x7FFFu) != 0x8000u || m >= KILN_MAX_MODULES) return NULL;
  *index = m;
  return rt->modules[m];
}

/* ---- argument checks for syscalls and built-ins ---- */

/* sig: one letter per argument: i int/uint/bool, h handle, d device, t dtype, T tensor,
 * s string, S string or null, m module. */
static int code_fits(char s, int code) {
  switch (s) {
    case 'i': return code == KILN_TC_INT || code == KILN_TC_UINT || code == KILN_TC_BOOL;
    case 'h': return code == KILN_TC_OPAQUE_HANDLE || code == KILN_TC_NULLPTR;
    case 'd': return code == KILN_TC_DEVICE;
    case 't': return code == KILN_TC_DATA_TYPE;
    case 'T': return code == KILN_TC_DLTENSOR;
    case 's': return code == KILN_TC_STR;
    case 'S': return code == KILN_TC_STR || code == KILN_TC_NULLPTR;
    case 'm': return code == KILN_TC_MODULE || code == KILN_TC_OPAQUE_HANDLE;
    default: return 0;
  }
}

/* Checks the decoded arguments; on mismatch sets rt->text to a sentence and returns 0. */
static int check_args(kiln_runtime *rt, const char *what, int num, const char *sig, const char *described) {
  int want = (int)strlen(sig);
  int i;
  if (num != want) {
    (void)snprintf(rt->text, sizeof(rt->text), "%s expects %d arguments (%s), got %d", what, want, described, num);
    return 0;
  }
  for (i = 0; i < num; ++i) {
    if (!code_fits(sig[i], rt->arg_codes[i])) {
      (void)snprintf(rt->text, sizeof(rt->text), "%s expects (%s); argument %d has type code %d", what, described,
                     i, rt->arg_codes[i]);
      return 0;
    }
  }
  return 1;
}

static int device_ok(kiln_runtime *rt, const char *what, kiln_dl_device d) {
  if (d.device_type == KILN_DEVICE_CPU && d.device_id == 0) return 1;
  (void)snprintf(rt->text, sizeof(rt->text), "%s: device {%ld, %ld} does not exist; this device is {1, 0} (CPU)",
                 what, (long)d.device_type, (long)d.device_id);
  return 0;
}

static int tensor_range_ok(kiln_runtime *rt, const char *what, const kiln_dltensor *t, uint64_t nbytes) {
  /* checked before any pointer is formed from the host's address and offset */
  if (kiln_memory_range_valid(rt, t->data, t->byte_offset, nbytes)) return 1;
  (void)snprintf(rt->text, sizeof(rt->text),
                 "%s: %llu bytes at 0x%llx + %llu are not memory from DevAllocData or a live NDArray", what,
                 (unsigned long long)nbytes, (unsigned long long)(uintptr_t)t->data,
                 (unsigned long long)t->byte_offset);
  return 0;
}

/* ---- syscalls ---- */

static void syscall(kiln_runtime *rt, int code, int num) {
  kiln_value *a = rt->arg_values;
  switch (code) {
    case RPC_GET_GLOBAL_FUNC: {
      int i;
      if (!check_args(rt, "GetGlobalFunc", num, "s", "Str name")) break;
      for (i = 0; i < rt->num_globals; ++i) {
        if (strcmp(rt->globals[i].name, a[0].v_str) == 0) {
          send_handle(rt, (void *)(uintptr_t)function_handle(KILN_MAX_MODULES, (unsigned)i));
          return;
        }
      }
      send_handle(rt, NULL); /* microTVM answers a miss with handle 0; the host names the choices */
      return;
    }
    case RPC_FREE_HANDLE: {
      int i;
      if (!check_args(rt, "FreeHandle", num, "hi", "Opaque handle, Int type code")) break;
      if (a[1].v_int64 == KILN_TC_NDARRAY) {
        for (i = 0; i < KILN_MAX_NDARRAYS; ++i) {
          if (&rt->ndarrays[i] == a[0].v_handle && rt->ndarrays[i].in_use) {
            kiln_ndarray_release(rt, &rt->ndarrays[i]);
            send_void(rt);
            return;
          }
        }
        (void)snprintf(rt->text, sizeof(rt->text), "FreeHandle: 0x%llx is not a live NDArray",
                       (unsigned long long)(uintptr_t)a[0].v_handle);
        break;
      }
      send_void(rt); /* functions and modules live as long as the device */
      return;
    }
    case RPC_DEV_SET_DEVICE:
      if (rt->strict_microtvm) { /* microTVM's MinRPC server */
        (void)snprintf(rt->text, sizeof(rt->text), "SetDevice not supported");
        break;
      }
      if (!check_args(rt, "DevSetDevice", num, "d", "Device") || !device_ok(rt, "DevSetDevice", a[0].v_device)) break;
      send_void(rt);
      return;
    case RPC_DEV_GET_ATTR:
      if (rt->strict_microtvm) {
        (void)snprintf(rt->text, sizeof(rt->text), "GetAttr not supported");
        break;
      }
      if (!check_args(rt, "DevGetAttr", num, "di", "Device, Int kind")) break;
      if (a[0].v_device.device_type != KILN_DEVICE_CPU || a[0].v_device.device_id != 0) {
        if (a[1].v_int64 == 0) {
          send_int(rt, 0); /* kExist: no such device */
          return;
        }
        (void)device_ok(rt, "DevGetAttr", a[0].v_device);
        break;
      }
      switch (a[1].v_int64) {
        case 0: send_int(rt, 1); return;                                    /* kExist */
        case 1: send_int(rt, 1); return;                                    /* kMaxThreadsPerBlock */
        case 2: send_int(rt, 1); return;                                    /* kWarpSize */
        case 14: send_int(rt, (int64_t)KILN_ARENA_BYTES); return;          /* kTotalGlobalMemory */
        case 15: send_int(rt, (int64_t)kiln_memory_free_bytes(rt)); return; /* kAvailableGlobalMemory */
        default:
          (void)snprintf(rt->text, sizeof(rt->text),
                         "DevGetAttr: attribute kind %lld is not supported; supported: 0 exist, 1 max threads per "
                         "block, 2 warp size, 14 total memory, 15 available memory",
                         (long long)a[1].v_int64);
          break;
      }
      break;
    case RPC_DEV_ALLOC_DATA: {
      void *p;
      int64_t nbytes = a[1].v_int64;
      int64_t align = a[2].v_int64;
      if (!check_args(rt, "DevAllocData", num, "diit", "Device, Int nbytes, Int alignment, DataType hint") ||
          !device_ok(rt, "DevAllocData", a[0].v_device))
        break;
      if (nbytes < 0 || align <= 0 || (align & (align - 1)) != 0 || align > (int64_t)KILN_ARENA_ALIGN) {
        (void)snprintf(rt->text, sizeof(rt->text),
                       "DevAllocData: nbytes %lld, alignment %lld; alignment must be a power of two <= %u",
                       (long long)nbytes, (long long)align, (unsigned)KILN_ARENA_ALIGN);
        break;
      }
      p = (uint64_t)nbytes <= KILN_ARENA_BYTES ? kiln_alloc(rt, (size_t)nbytes) : NULL;
      if (p == NULL) {
        (void)snprintf(rt->text, sizeof(rt->text), "DevAllocData: no room for %lld bytes (%llu of %lu bytes free)",
                       (long long)nbytes, (unsigned long long)kiln_memory_free_bytes(rt),
                       (unsigned long)KILN_ARENA_BYTES);
        break;
      }
      send_handle(rt, p);
      return;
    }
    case RPC_DEV_ALLOC_DATA_WITH_SCOPE: {
      void *p;
      uint64_t nbytes;
      if (!check_args(rt, "DevAllocDataWithScope", num, "TS", "DLTensor template, Str scope or null")) break;
      nbytes = kiln_tensor_bytes(&rt->arg_tensors[0]);
      p = nbytes <= KILN_ARENA_BYTES ? kiln_alloc(rt, (size_t)nbytes) : NULL;
      if (p == NULL) {
        (void)snprintf(rt->text, sizeof(rt->text),
                       "DevAllocDataWithScope: no room for %llu bytes (%llu of %lu bytes free)",
                       (unsigned long long)nbytes, (unsigned long long)kiln_memory_free_bytes(rt),
                       (unsigned long)KILN_ARENA_BYTES);
        break;
      }
      send_handle(rt, p);
      return;
    }
    case RPC_DEV_FREE_DATA:
      if (!check_args(rt, "DevFreeData", num, "dh", "Device, Opaque pointer")) break;
      if (kiln_free(rt, a[1].v_handle) != KILN_OK) {
        (void)snprintf(rt->text, sizeof(rt->text), "DevFreeData: 0x%llx was not handed out by DevAllocData",
                       (unsigned long long)(uintptr_t)a[1].v_handle);
        break;
      }
      send_void(rt);
      return;
    case RPC_DEV_STREAM_SYNC:
    case RPC_DEV_FREE_STREAM:
    case RPC_DEV_SET_STREAM:
      if (!check_args(rt, "a stream syscall", num, "dh", "Device, Opaque stream")) break;
      send_void(rt);
      return;
    case RPC_DEV_CREATE_STREAM:
    case RPC_DEV_GET_CURRENT_STREAM:
      if (rt->strict_microtvm && code == RPC_DEV_GET_CURRENT_STREAM) { /* added in TVM v0.16, unknown to MinRPC */
        (void)snprintf(rt->text, sizeof(rt->text), "Syscall not recognized");
        break;
      }
      if (!check_args(rt, "a stream syscall", num, "d", "Device")) break;
      send_handle(rt, NULL);
      return;
    case RPC_COPY_AMONG_REMOTE: {
      uint64_t nbytes;
      if (!check_args(rt, "CopyAmongRemote", num, "TTh", "DLTensor from, DLTensor to, Opaque stream")) break;
      nbytes = kiln_tensor_bytes(&rt->arg_tensors[0]);
      if (!tensor_range_ok(rt, "CopyAmongRemote source", &rt->arg_tensors[0], nbytes) ||
          !tensor_range_ok(rt, "CopyAmongRemote destination", &rt->arg_tensors[1], nbytes))
        break;
      memmove((uint8_t *)rt->arg_tensors[1].data + rt->arg_tensors[1].byte_offset,
              (uint8_t *)rt->arg_tensors[0].data + rt->arg_tensors[0].byte_offset, (size_t)nbytes);
      send_void(rt);
      return;
    }
    default:
      (void)snprintf(rt->text, sizeof(rt->text), "unknown RPC code %d", code);
      break;
  }
  kiln_rpc_send_exception(rt, rt->text);
}

/* ---- packets ---- */

static void run_time_evaluator(kiln_runtime *rt, unsigned slot, int num);

static void call_func(kiln_runtime *rt, reader *r) {
  uint64_t handle = rd_u64(r);
  const kiln_module *module;
  const char *name = "?";
  kiln_packed_fn fn;
  kiln_value ret;
  int ret_code = KILN_TC_NULLPTR;
  int num = 0;
  int status;
  if (!rd_args(rt, r, &num)) {
    send_exception_f(rt, "malformed CallFunc packet: %s", r->error);
    return;
  }
  if ((handle >> 16) == 0xFFFFu && (handle & 0x8000u) != 0) {
    unsigned slot = (unsigned)(handle & 0x7FFFu) - 1u;
    if (slot < KILN_MAX_TIME_EVALUATORS && rt->evaluators[slot].in_use) {
      run_time_evaluator(rt, slot, num);
      return;
    }
    send_exception_f(rt, "0x%llx is not a time evaluator of this device", (unsigned long long)handle);
    return;
  }
  fn = resolve(rt, handle, &module, &name);
  if (fn == NULL) {
    kiln_rpc_send_exception(rt, rt->text);
    return;
  }
  ret.v_int64 = 0;
  rt->last_error[0] = '\0';
  rt->calling_module = module;
  status = fn(rt->arg_values, rt->arg_codes, num, &ret, &ret_code, rt);
  rt->calling_module = NULL;
  if (status != 0) {
    if (rt->last_error[0] != '\0') {
      kiln_rpc_send_exception(rt, rt->last_error);
    } else {
      send_exception_f(rt, "%s failed with status %d (0x%04x)", name, status, (unsigned)status);
    }
    return;
  }
  send_call_result(rt, ret_code, &ret);
}

static void copy(kiln_runtime *rt, reader *r, int to_remote) {
  const char *what = to_remote ? "CopyToRemote" : "CopyFromRemote";
  kiln_dltensor *t = &rt->arg_tensors[0];
  uint64_t nbytes;
  rd_tensor(r, t, rt->arg_shapes[0]);
  nbytes = rd_u64(r);
  if (to_remote) (void)need(r, nbytes);
  if (r->error != NULL) {
    send_exception_f(rt, "malformed %s packet: %s", what, r->error);
    return;
  }
  if (!tensor_range_ok(rt, what, t, nbytes)) {
    kiln_rpc_send_exception(rt, rt->text);
    return;
  }
  if (to_remote) {
    memcpy((uint8_t *)t->data + t->byte_offset, r->p + r->pos, (size_t)nbytes);
    send_void(rt);
    return;
  }
  if (RPC_OVERHEAD + 4u + nbytes > KILN_MAX_PACKET_BYTES) {
    send_exception_f(rt, "CopyFromRemote of %llu bytes needs a %llu-byte packet; the limit is %lu bytes",
                     (unsigned long long)nbytes, (unsigned long long)(RPC_OVERHEAD + 4u + nbytes),
                     (unsigned long)KILN_MAX_PACKET_BYTES);
    return;
  }
  kiln_send_begin(rt, KILN_MSG_NORMAL, rt->session_id, (uint32_t)(8u + 4u + nbytes));
  send_u64(rt, 4u + nbytes);
  send_u32(rt, RPC_COPY_ACK);
  kiln_send_bytes(rt, (const uint8_t *)t->data + t->byte_offset, (size_t)nbytes);
  kiln_send_end(rt);
}

void kiln_rpc_handle(kiln_runtime *rt, uint8_t *packet, uint32_t n) {
  reader r;
  uint64_t len;
  int32_t code;
  if (n < 8) {
    send_exception_f(rt, "malformed RPC packet: %lu bytes, shorter than its 8-byte length", (unsigned long)n);
    return;
  }
  len = kiln_le_u64(packet);
  if (len == 0) return; /* keep-alive */
  if (len != (uint64_t)(n - 8)) {
    send_exception_f(rt, "malformed RPC packet: it declares %llu bytes, the message carries %lu",
                     (unsigned long long)len, (unsigned long)(n - 8));
    return;
  }
  r.p = packet + 8;
  r.n = (uint32_t)len;
  r.pos = 0;
  r.error = NULL;
  code = rd_i32(&r);
  if (r.error != NULL) {
    kiln_rpc_send_exception(rt, "malformed RPC packet: no code");
    return;
  }
  switch (code) {
    case RPC_SHUTDOWN:
      rt->shutdown = 1; /* no reply, like microTVM */
      return;
    case RPC_INIT_SERVER:
      send_void(rt);
      return;
    case RPC_CALL_FUNC:
      call_func(rt, &r);
      return;
    case RPC_COPY_TO_REMOTE:
      copy(rt, &r, 1);
      return;
    case RPC_COPY_FROM_REMOTE:
      copy(rt, &r, 0);
      return;
    default:
      break;
  }
  if (code >= RPC_GET_GLOBAL_FUNC && code <= RPC_DEV_GET_CURRENT_STREAM) {
    int num = 0;
    if (!rd_args(rt, &r, &num)) {
      send_exception_f(rt, "malformed syscall %d packet: %s", (int)code, r.error);
      return;
    }
    syscall(rt, code, num);
    return;
  }
  send_exception_f(rt, "unknown RPC code %d", (int)code);
}

/* ---- built-in global functions ---- */

static int fail(kiln_runtime *rt, int status) {
  kiln_set_error(rt, "%s", rt->text);
  return status;
}

static int builtin_system_lib(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  (void)args;
  (void)codes;
  (void)num;
  (void)res;
  ret->v_handle = (void *)(uintptr_t)0x8000u;
  *ret_code = KILN_TC_MODULE;
  return 0;
}

static int builtin_module_get_function(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code,
                                       void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  const kiln_module *m;
  unsigned index = 0;
  uint16_t f;
  (void)codes;
  if (!check_args(rt, "ModuleGetFunction", num, "msi", "Module, Str name, Int query_imports")) {
    return fail(rt, KILN_ERR_NUM_ARGUMENTS);
  }
  m = module_of(rt, (uint64_t)(uintptr_t)args[0].v_handle, &index);
  if (m == NULL) {
    (void)snprintf(rt->text, sizeof(rt->text), "ModuleGetFunction: 0x%llx is not a module of this device",
                   (unsigned long long)(uintptr_t)args[0].v_handle);
    return fail(rt, KILN_ERR_INVALID_ARG);
  }
  for (f = 0; f < m->num_functions; ++f) {
    if (strcmp(m->functions[f].name, args[1].v_str) == 0) {
      ret->v_handle = (void *)(uintptr_t)function_handle(index, f);
      *ret_code = KILN_TC_PACKED_FUNC;
      return 0;
    }
  }
  ret->v_handle = NULL;
  *ret_code = KILN_TC_NULLPTR; /* like microTVM: a miss is not an error */
  return 0;
}

/* runtime.RPCTimeEvaluator(Module, Str name, Int device_type, Int device_id, Int number, Int repeat,
 * Int min_repeat_ms, Int limit_zero_time_iterations, Int cooldown_interval_ms, Int repeats_to_cooldown,
 * Int cache_flush_bytes, Str f_preproc): the TVM v0.14+ form; cooldown, cache flush and preproc are
 * ignored, as on microTVM. Returns a function handle 0xFFFF8000 | (slot + 1). */
static int builtin_time_evaluator(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  const kiln_module *m;
  unsigned index = 0;
  uint16_t f;
  kiln_time_evaluator *ev;
  unsigned slot;
  (void)codes;
  if (!check_args(rt, "runtime.RPCTimeEvaluator", num, "msiiiiiiiiis",
                  "Module, Str name, Int device type, Int device id, Int number, Int repeat, Int min_repeat_ms, "
                  "Int limit_zero_time_iterations, Int cooldown_interval_ms, Int repeats_to_cooldown, "
                  "Int cache_flush_bytes, Str f_preproc")) {
    return fail(rt, KILN_ERR_NUM_ARGUMENTS);
  }
  m = module_of(rt, (uint64_t)(uintptr_t)args[0].v_handle, &index);
  if (m == NULL) {
    (void)snprintf(rt->text, sizeof(rt->text), "runtime.RPCTimeEvaluator: 0x%llx is not a module of this device",
                   (unsigned long long)(uintptr_t)args[0].v_handle);
    return fail(rt, KILN_ERR_INVALID_ARG);
  }
  if (args[4].v_int64 < 1 || args[4].v_int64 > KILN_MAX_TIME_NUMBER || args[5].v_int64 < 1
      || args[5].v_int64 > KILN_MAX_TIME_REPEATS || args[6].v_int64 < 0 || args[6].v_int64 > KILN_MAX_MIN_REPEAT_MS) {
    (void)snprintf(rt->text, sizeof(rt->text),
                   "runtime.RPCTimeEvaluator: number %lld, repeat %lld, min_repeat_ms %lld; need 1 <= number <= %ld, "
                   "1 <= repeat <= %d, 0 <= min_repeat_ms <= %d",
                   (long long)args[4].v_int64, (long long)args[5].v_int64, (long long)args[6].v_int64,
                   (long)KILN_MAX_TIME_NUMBER, KILN_MAX_TIME_REPEATS, KILN_MAX_MIN_REPEAT_MS);
    return fail(rt, KILN_ERR_INVALID_ARG);
  }
  for (f = 0; f < m->num_functions; ++f) {
    if (strcmp(m->functions[f].name, args[1].v_str) == 0) break;
  }
  if (f == m->num_functions) {
    (void)snprintf(rt->text, sizeof(rt->text), "runtime.RPCTimeEvaluator: no function '%s' in module %s",
                   args[1].v_str, m->name != NULL ? m->name : "?");
    return fail(rt, KILN_ERR_NAME_NOT_FOUND);
  }
  slot = rt->evaluators_created++ % KILN_MAX_TIME_EVALUATORS;
  ev = &rt->evaluators[slot];
  ev->fn = m->functions[f].fn;
  ev->module = m;
  ev->number = args[4].v_int64;
  ev->repeat = args[5].v_int64;
  ev->min_repeat_ms = args[6].v_int64;
  ev->limit_zero_time_iterations = args[7].v_int64;
  ev->in_use = 1;
  ret->v_handle = (void *)(uintptr_t)(0xFFFF8000u | (slot + 1u));
  *ret_code = KILN_TC_PACKED_FUNC;
  return 0;
}

/* Calls an evaluator with the target's arguments: one warm-up call, then per repeat `number` calls
 * (grown until they take min_repeat_ms); replies kTVMBytes of `repeat` LE doubles, seconds per call. */
static void run_time_evaluator(kiln_runtime *rt, unsigned slot, int num) {
  kiln_time_evaluator *ev = &rt->evaluators[slot];
  kiln_value ret;
  int ret_code = KILN_TC_NULLPTR;
  int64_t r;
  int codes[2];
  kiln_value values[2];
  rt->last_error[0] = '\0';
  rt->calling_module = ev->module;
  if (ev->fn(rt->arg_values, rt->arg_codes, num, &ret, &ret_code, rt) != 0) {
    rt->calling_module = NULL;
    kiln_rpc_send_exception(rt, rt->last_error[0] != '\0' ? rt->last_error : "time evaluator: the function failed");
    return;
  }
  for (r = 0; r < ev->repeat; ++r) {
    int64_t number = ev->number;
    int64_t zero_readings = 0;
    uint64_t elapsed_ns;
    double seconds;
    uint64_t bits;
    for (;;) {
      int64_t i;
      uint64_t start = kiln_time_ns(rt);
      for (i = 0; i < number; ++i) {
        if (ev->fn(rt->arg_values, rt->arg_codes, num, &ret, &ret_code, rt) != 0) {
          rt->calling_module = NULL;
          kiln_rpc_send_exception(rt, rt->last_error[0] != '\0' ? rt->last_error : "time evaluator: the function failed");
          return;
        }
      }
      elapsed_ns = kiln_time_ns(rt) - start;
      if (number >= KILN_MAX_TIME_NUMBER) break; /* as many calls as a round may make */
      if (elapsed_ns == 0 && zero_readings < ev->limit_zero_time_iterations) {
        zero_readings++;
        number = number * 2 < KILN_MAX_TIME_NUMBER ? number * 2 : KILN_MAX_TIME_NUMBER;
        continue;
      }
      if (ev->min_repeat_ms <= 0 || elapsed_ns >= (uint64_t)ev->min_repeat_ms * 1000000u || elapsed_ns == 0) break;
      {
        double grown = (double)number * 1.618;
        double needed = (double)ev->min_repeat_ms * 1e6 / ((double)elapsed_ns / (double)number) + 1.0;
        double next = grown > needed ? grown : needed;
        number = next < (double)KILN_MAX_TIME_NUMBER ? (int64_t)next : KILN_MAX_TIME_NUMBER;
      }
    }
    seconds = (double)elapsed_ns / 1e9 / (double)number;
    memcpy(&bits, &seconds, sizeof(bits));
    kiln_put_u64(rt->timing_bytes + 8 * r, bits);
  }
  rt->calling_module = NULL;
  rt->timing_result.data = (const char *)rt->timing_bytes;
  rt->timing_result.size = (size_t)(8 * ev->repeat);
  codes[0] = KILN_TC_INT;
  values[0].v_int64 = KILN_TC_BYTES;
  codes[1] = KILN_TC_BYTES;
  values[1].v_handle = &rt->timing_result;
  send_return(rt, 2, codes, values);
}

static int builtin_max_packet_size(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  (void)args;
  (void)codes;
  (void)num;
  (void)res;
  ret->v_int64 = (int64_t)KILN_MAX_PACKET_BYTES - 11;
  *ret_code = KILN_TC_INT;
  return 0;
}

static int builtin_random_fill(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  kiln_dltensor *t;
  uint64_t n, i;
  uint8_t *p;
  (void)ret;
  (void)ret_code;
  if (!check_args(rt, "tvm.contrib.random.random_fill", num, "T", "DLTensor")) return fail(rt, KILN_ERR_NUM_ARGUMENTS);
  (void)codes;
  t = (kiln_dltensor *)args[0].v_handle;
  n = kiln_tensor_bytes(t);
  if (!tensor_range_ok(rt, "random_fill", t, n)) return fail(rt, KILN_ERR_INVALID_ARG);
  p = (uint8_t *)t->data + t->byte_offset;
  for (i = 0; i < n; ++i) {
    /* xorshift64* */
    uint64_t x = rt->random_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rt->random_state = x;
    p[i] = (uint8_t)((x * 0x2545F4914F6CDD1Dull) >> 56);
  }
  return 0;
}

/* Appends name + '\n' to rt->text; returns 0 when full (then ends the text with "...\n"). */
static int list_append(kiln_runtime *rt, size_t *used, const char *name) {
  const size_t limit = KILN_MAX_PACKET_BYTES - 64u; /* leaves room for the reply's headers */
  size_t len = strlen(name);
  if (*used + len + 1 + 4 > limit || *used + len + 1 + 4 > sizeof(rt->text)) {
    memcpy(rt->text + *used, "...\n", 4);
    *used += 4;
    return 0;
  }
  memcpy(rt->text + *used, name, len);
  rt->text[*used + len] = '\n';
  *used += len + 1;
  return 1;
}

static int builtin_list_functions(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  kiln_runtime *rt = (kiln_runtime *)res;
  size_t used = 0;
  int i;
  if (num == 0) {
    for (i = 0; i < rt->num_globals && list_append(rt, &used, rt->globals[i].name); ++i) {
    }
  } else {
    unsigned index = 0;
    const kiln_module *m;
    uint16_t f;
    if (num != 1 || (codes[0] != KILN_TC_MODULE && codes[0] != KILN_TC_OPAQUE_HANDLE)) {
      (void)snprintf(rt->text, sizeof(rt->text), "kiln.rpc.ListFunctions takes no argument or one Module");
      return fail(rt, KILN_ERR_NUM_ARGUMENTS);
    }
    m = module_of(rt, (uint64_t)(uintptr_t)args[0].v_handle, &index);
    if (m != NULL) {
      for (f = 0; f < m->num_functions && list_append(rt, &used, m->functions[f].name); ++f) {
      }
    }
  }
  rt->text[used] = '\0';
  ret->v_str = rt->text;
  *ret_code = KILN_TC_STR;
  return 0;
}

void kiln_rpc_register_builtins(kiln_runtime *rt) {
  /* this order gives microTVM's handles: 0x80028000 + index */
  (void)kiln_register_global(rt, "runtime.SystemLib", builtin_system_lib);
  (void)kiln_register_global(rt, "tvm.rpc.server.ModuleGetFunction", builtin_module_get_function);
  (void)kiln_register_global(rt, "runtime.RPCTimeEvaluator", builtin_time_evaluator);
  (void)kiln_register_global(rt, "tvm.rpc.server.GetCRTMaxPacketSize", builtin_max_packet_size);
  (void)kiln_register_global(rt, "tvm.contrib.random.random_fill", builtin_random_fill);
  (void)kiln_register_global(rt, "kiln.rpc.ListFunctions", builtin_list_functions);
}
