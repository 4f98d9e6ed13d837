/*
 * The Kiln device runtime: framing, session and the TVM RPC server subset of microTVM's CRT, over
 * one kiln_runtime struct that holds every buffer and pool (sizes in kiln_config.h). The platform's
 * main defines the one instance (static: it holds the memory arena) and passes it explicitly;
 * the runtime keeps no other state. Bytes are pushed in (kiln_runtime_feed) and written out through
 * kiln_platform_write; there are no threads and no blocking reads inside the runtime.
 *
 * Usage from a platform main:
 *
 *   static kiln_runtime runtime;
 *   kiln_runtime_init(&runtime, &my_platform, kiln_system_lib(), random_byte);
 *   (optional) kiln_register_global(&runtime, "tvm.aot_executor.create", aot_create);
 *   return kiln_runtime_serve(&runtime) == KILN_ERR_SHUTDOWN ? 0 : 2;
 *
 * Generated model code provides the system library: a const kiln_module listing its packed
 * functions, returned by kiln_system_lib() (see kiln_syslib.h).
 */
#ifndef KILN_RUNTIME_H
#define KILN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "kiln_config.h"
#include "kiln_errors.h"
#include "kiln_framing.h"
#include "kiln_types.h"

/* A device-side array object: what a function returning KILN_TC_NDARRAY hands back (as
 * ret_value->v_handle), and what the host releases with FreeHandle(handle, 13). */
typedef struct {
  kiln_dltensor tensor;
  int64_t shape[KILN_MAX_NDIM];
  uint8_t in_use;
  uint8_t owns_data; /* data came from the arena and is freed with the array */
} kiln_ndarray;

typedef struct {
  uint32_t offset; /* from the aligned arena start */
  uint32_t size;   /* rounded up to KILN_ARENA_ALIGN */
} kiln_allocation;

typedef struct {
  const char *name;
  kiln_packed_fn fn;
} kiln_global;

/* A function timed by runtime.RPCTimeEvaluator; its handle is 0xFFFF8000 | (slot + 1). */
typedef struct {
  kiln_packed_fn fn;
  const kiln_module *module;
  int64_t number;
  int64_t repeat;
  int64_t min_repeat_ms;
  int64_t limit_zero_time_iterations;
  uint8_t in_use;
} kiln_time_evaluator;

/* Session states */
enum { KILN_SESSION_NONE = 0, KILN_SESSION_ESTABLISHED = 1 };

typedef struct kiln_runtime {
  void *platform;
  int shutdown;
  /* 1: answer as microTVM v0.18's CRT where it is stricter (kiln_runtime_strict_microtvm) */
  int strict_microtvm;

  /* framing + session */
  kiln_framer framer;
  kiln_unframer unframer;
  uint8_t rx[KILN_MAX_PACKET_BYTES];
  int session_state;
  uint8_t nonce;
  uint16_t session_id;

  /* registry */
  const kiln_module *modules[KILN_MAX_MODULES];
  kiln_global globals[KILN_MAX_GLOBALS];
  int num_globals;

  /* the call in progress */
  const kiln_module *calling_module;
  kiln_value arg_values[KILN_MAX_ARGS];
  int arg_codes[KILN_MAX_ARGS];
  kiln_dltensor arg_tensors[KILN_MAX_ARGS];
  int64_t arg_shapes[KILN_MAX_ARGS][KILN_MAX_NDIM];
  kiln_byte_array arg_bytes[KILN_MAX_ARGS];
  char last_error[KILN_ERROR_BYTES + 1];
  char text[KILN_MAX_PACKET_BYTES];  /* scratch for replies built as text */

  /* time evaluator */
  kiln_time_evaluator evaluators[KILN_MAX_TIME_EVALUATORS];
  uint32_t evaluators_created;
  uint8_t timing_bytes[KILN_MAX_TIME_REPEATS * 8];
  kiln_byte_array timing_result;

  /* memory */
  kiln_allocation allocations[KILN_MAX_ALLOCATIONS]; /* sorted by offset */
  int num_allocations;
  kiln_ndarray ndarrays[KILN_MAX_NDARRAYS];
  uint64_t random_state;

  /* stack high-water: the painted region a platform watches (kiln_stack_watch), or NULL */
  const volatile uint8_t *stack_low;
  size_t stack_bytes;
  union {
    uint64_t align_u64;
    double align_double;
    uint8_t bytes[KILN_ARENA_BYTES + KILN_ARENA_ALIGN];
  } arena;
} kiln_runtime;

/* ---- for the platform's main ---- */

/* Resets everything and sends the boot TerminateSession (fe ff fd 03 00 00 00 00 00 02 66 77).
 * system_lib may be NULL (no model). random_byte seeds the session nonce and random_fill; it should
 * differ between boots. */
void kiln_runtime_init(kiln_runtime *rt, void *platform, const kiln_module *system_lib, uint8_t random_byte);

/* Handles received bytes. Returns KILN_OK, or KILN_ERR_SHUTDOWN once the host sent RPC kShutdown
 * (every later call returns it too and ignores the bytes). */
int kiln_runtime_feed(kiln_runtime *rt, const uint8_t *bytes, size_t n);

/* Reads with kiln_platform_read and feeds until shutdown (returns KILN_ERR_SHUTDOWN) or until the
 * link closes (returns KILN_ERR_SHORT_WRITE). */
int kiln_runtime_serve(kiln_runtime *rt);

/* Makes the device answer as microTVM v0.18's CRT does where the CRT is stricter than Kiln, so a host
 * sees what a real microTVM board would do: DevSetDevice, DevGetAttr and DevGetCurrentStream raise
 * ("SetDevice not supported", "GetAttr not supported", "Syscall not recognized"), and the executors
 * look input names up as the CRT does (AoT: exact C name; graph: exact graph name), an unknown name
 * being a failed CHECK that aborts the device (0x0500). Call after kiln_runtime_init. */
void kiln_runtime_strict_microtvm(kiln_runtime *rt);

/* Adds a global function (an executor's create function, say); handles follow registration order.
 * Returns KILN_OK or KILN_ERR_REGISTRY_FULL. name must outlive the runtime. */
int kiln_register_global(kiln_runtime *rt, const char *name, kiln_packed_fn fn);

/* Installs a module in the first free slot after the system library; *handle_out receives its
 * module handle (index | 0x8000). Returns KILN_OK or KILN_ERR_REGISTRY_FULL. */
int kiln_add_module(kiln_runtime *rt, const kiln_module *module, uint64_t *handle_out);

/* ---- for packed functions (resource_handle is the kiln_runtime*) ---- */

/* Sets the text the host receives if the function returns non-zero (printf-style, cut to
 * KILN_ERROR_BYTES). */
void kiln_set_error(kiln_runtime *rt, const char *format, ...);
/* Sends a kLog message now (printf-style, one trailing newline dropped, cut to KILN_LOG_BYTES). */
void kiln_log(kiln_runtime *rt, const char *format, ...);
/* Sends "kiln abort 0x<code>: <reason>" as a kLog, then calls kiln_platform_abort. Never returns. */
void kiln_abort(kiln_runtime *rt, int32_t code, const char *reason);
uint64_t kiln_time_us(kiln_runtime *rt);
/* The platform's clock in nanoseconds (kiln_platform_time_ns): what the time evaluator measures with. */
uint64_t kiln_time_ns(kiln_runtime *rt);
/* State of the module whose function is being called (kiln_module.state), else NULL. */
void *kiln_module_state(kiln_runtime *rt);

/* ---- device memory ---- */

/* nbytes from the arena, aligned to KILN_ARENA_ALIGN; NULL when full. */
void *kiln_alloc(kiln_runtime *rt, size_t nbytes);
/* KILN_OK, or KILN_ERR_INVALID_ARG if ptr was not returned by kiln_alloc. */
int kiln_free(kiln_runtime *rt, void *ptr);
/* An array with arena data (zeroed), or NULL. */
kiln_ndarray *kiln_ndarray_empty(kiln_runtime *rt, int32_t ndim, const int64_t *shape, kiln_dl_datatype dtype);
/* An array over existing memory (a static buffer of generated code); the data stays the caller's. */
kiln_ndarray *kiln_ndarray_view(kiln_runtime *rt, void *data, int32_t ndim, const int64_t *shape,
                                kiln_dl_datatype dtype);
void kiln_ndarray_release(kiln_runtime *rt, kiln_ndarray *array);
/* Bytes of a compact tensor: product of shape times ceil(bits * lanes / 8). */
uint64_t kiln_tensor_bytes(const kiln_dltensor *t);

/* ---- stack high-water (optional, for platforms that paint their stack) ----
 *
 * A platform fills a region at the far end of its stack with KILN_STACK_PAINT before serving and
 * calls kiln_stack_watch(rt, low, bytes) (lowest address, size; stacks grow down). That registers the
 * global "kiln.runtime.StackHighWater" [] -> Int: bytes of the region ever written, found as the
 * lowest byte that no longer holds the paint. Returns KILN_OK or KILN_ERR_REGISTRY_FULL. */
#define KILN_STACK_PAINT 0xA5u
int kiln_stack_watch(kiln_runtime *rt, const volatile uint8_t *low, size_t bytes);

/* Text prefixes of the kLog messages the host interprets (all other logs are just shown). */
#define KILN_LOG_ABORT_PREFIX "kiln abort "
#define KILN_LOG_DROP_PREFIX "kiln link: dropped "

#endif /* KILN_RUNTIME_H */
