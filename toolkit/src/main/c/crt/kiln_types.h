/*
 * The value types of TVM's packed C calling convention, defined here so that generated code and the
 * runtime need no TVM header. Layouts match DLPack and TVM's C ABI (a kiln_value is 8 bytes), so a
 * kernel compiled against TVM's headers can be registered as is.
 */
#ifndef KILN_TYPES_H
#define KILN_TYPES_H

#include <stddef.h>
#include <stdint.h>

/* Type codes (TVMArgTypeCode), i32 on the wire. */
enum {
  KILN_TC_INT = 0,            /* kDLInt: v_int64 */
  KILN_TC_UINT = 1,           /* kDLUInt: v_int64 */
  KILN_TC_FLOAT = 2,          /* kDLFloat: v_float64 */
  KILN_TC_OPAQUE_HANDLE = 3,  /* v_handle */
  KILN_TC_NULLPTR = 4,
  KILN_TC_DATA_TYPE = 5,      /* v_type */
  KILN_TC_DEVICE = 6,         /* v_device */
  KILN_TC_DLTENSOR = 7,       /* v_handle -> kiln_dltensor */
  KILN_TC_OBJECT = 8,
  KILN_TC_MODULE = 9,         /* v_handle = module handle */
  KILN_TC_PACKED_FUNC = 10,   /* v_handle = function handle */
  KILN_TC_STR = 11,           /* v_str, NUL-terminated */
  KILN_TC_BYTES = 12,         /* v_handle -> kiln_byte_array */
  KILN_TC_NDARRAY = 13,       /* v_handle -> kiln_ndarray (returns only) */
  KILN_TC_BOOL = 15           /* v_int64 0/1 (TVM v0.18) */
};

/* DLDataTypeCode */
enum { KILN_DL_INT = 0, KILN_DL_UINT = 1, KILN_DL_FLOAT = 2, KILN_DL_BFLOAT = 4, KILN_DL_BOOL = 6 };

/* DLDeviceType kDLCPU, the only device a microcontroller runtime serves. */
#define KILN_DEVICE_CPU 1

typedef struct {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
} kiln_dl_datatype;

typedef struct {
  int32_t device_type;
  int32_t device_id;
} kiln_dl_device;

/* DLTensor. strides must be NULL (compact row-major). */
typedef struct {
  void *data;
  kiln_dl_device device;
  int32_t ndim;
  kiln_dl_datatype dtype;
  int64_t *shape;
  int64_t *strides;
  uint64_t byte_offset;
} kiln_dltensor;

/* TVMByteArray */
typedef struct {
  const char *data;
  size_t size;
} kiln_byte_array;

/* TVMValue */
typedef union {
  int64_t v_int64;
  double v_float64;
  void *v_handle;
  const char *v_str;
  kiln_dl_datatype v_type;
  kiln_dl_device v_device;
} kiln_value;

/*
 * A packed function (TVMBackendPackedCFunc). Returns 0 on success; on failure a non-zero status,
 * ideally after kiln_set_error(). resource_handle is the calling kiln_runtime*.
 * Strings, byte arrays and tensors in args stay valid only until the function returns.
 */
typedef int (*kiln_packed_fn)(kiln_value *args, int *type_codes, int num_args, kiln_value *ret_value,
                              int *ret_type_code, void *resource_handle);

/* One entry of a function table: generated code emits a const array of these. */
typedef struct {
  const char *name;
  kiln_packed_fn fn;
} kiln_function;

/*
 * A module: a named, constant table of functions plus optional state for its functions
 * (kiln_module_state() returns it during a call). The system library is module 0.
 */
typedef struct {
  const char *name;
  const kiln_function *functions;
  uint16_t num_functions;
  void *state;
} kiln_module;

#endif /* KILN_TYPES_H */
