/* Helpers shared by the executors (not for generated code or platforms): argument checks, array
 * views and checked copies, dtype strings, metadata lookup, module installation. Every function
 * that fails has already called kiln_set_error with a sentence naming the caller's function. */
#ifndef KILN_EXECUTOR_UTIL_H
#define KILN_EXECUTOR_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "kiln_metadata.h"
#include "kiln_runtime.h"

/* Name of an executor module (kiln_module.name), used to recognise one in a module slot. */
#define KILN_AOT_MODULE_NAME "aot_executor"
#define KILN_GRAPH_MODULE_NAME "graph_executor"

/* Non-zero for the integer type codes (Int, UInt, Bool). */
int kiln_exec_is_int(int code);

/* The DLTensor of a tensor argument (type code 3, 7 or 13 with a non-NULL handle), else NULL. */
kiln_dltensor *kiln_exec_tensor_arg(const kiln_value *v, int code);

/* The module named by a module argument (code 9, or 3 holding a module handle), else NULL. */
const kiln_module *kiln_exec_module_arg(kiln_runtime *rt, const kiln_value *v, int code);

/* The function called `name` in module m, or NULL. */
kiln_packed_fn kiln_exec_find_function(const kiln_module *m, const char *name);

/* Checks min <= num <= max; else the error "<fn> expects <usage>, got N arguments". */
int kiln_exec_check_count(kiln_runtime *rt, const char *fn, int num, int min, int max, const char *usage);
/* A getter taking no arguments that answers the integer n (get_num_inputs, get_num_outputs). */
int kiln_exec_return_count(kiln_runtime *rt, const char *fn, int num, int64_t n, kiln_value *ret, int *ret_code);

/* Parses a TVM dtype string ((int|uint|float|bfloat)<bits>[x<lanes>] or bool) of len bytes. 0 on success. */
int kiln_exec_parse_dtype(const char *s, size_t len, kiln_dl_datatype *out);

/* Writes e.g. "int8", "float32x4" into buf (always NUL-terminated). */
void kiln_exec_format_dtype(kiln_dl_datatype t, char *buf, size_t n);

/* Bytes of a compact array (shape product times ceil(bits * lanes / 8)); 0 on success, -1 on overflow
 * or a negative dimension. */
int kiln_exec_array_bytes(int32_t ndim, const int64_t *shape, kiln_dl_datatype dtype, uint64_t *bytes);

/* Copies a host-given array into dst (an executor buffer of the given shape and dtype): the dtype
 * and element count must match and the array must be device memory. what names the target. */
int kiln_exec_copy_in(kiln_runtime *rt, const char *what, void *dst, int32_t ndim, const int64_t *shape,
                      kiln_dl_datatype dtype, const kiln_dltensor *src);

/* Copies an executor buffer into a host-given array, with the same checks. */
int kiln_exec_copy_out(kiln_runtime *rt, const char *what, const void *src, int32_t ndim, const int64_t *shape,
                       kiln_dl_datatype dtype, kiln_dltensor *dst);

/* Returns an NDArray view of an executor buffer (*ret_code = 13); the host releases it with
 * FreeHandle(handle, 13), which leaves the buffer alone. */
int kiln_exec_return_view(kiln_runtime *rt, const char *what, void *data, int32_t ndim, const int64_t *shape,
                          kiln_dl_datatype dtype, kiln_value *ret, int *ret_code);

/* 0 if a module slot is free for a new executor, else the error naming the existing one. */
int kiln_exec_require_free_slot(kiln_runtime *rt, const char *fn);

/* Installs an executor module and returns its handle (*ret_code = 9). */
int kiln_exec_install(kiln_runtime *rt, const char *fn, const kiln_module *module, kiln_value *ret, int *ret_code);

/* Calls a `*_get_c_metadata` function of lib directly; NULL (error set) if it is missing or bad. */
const kiln_metadata *kiln_exec_call_metadata(kiln_runtime *rt, const char *fn, const kiln_module *lib,
                                             const char *getter);

/* The Kiln metadata of lib if it has exactly one `*_get_c_metadata` function with a Kiln extension,
 * else NULL (no error: the metadata is optional for the graph executor). */
const kiln_metadata *kiln_exec_find_any_metadata(kiln_runtime *rt, const kiln_module *lib);

/*
 * Strict microTVM mode (kiln_runtime_strict_microtvm): microTVM's CRT finds an input name with a
 * CHECK, so an unknown name aborts the device. Logs what the CRT logs, "<file>: Check failed:
 * <condition>: cannot find '<name>' among input." (file as the CRT's, line left out), then aborts
 * with 0x0500. Never returns.
 */
void kiln_exec_strict_no_input(kiln_runtime *rt, const char *crt_file, const char *condition, const char *name);

/* Index of the metadata input/output called name (model name first, then C name), or -1. */
int kiln_exec_md_find(const kiln_metadata *md, int outputs, const char *name);

/* A name of input/output i from metadata: kind 0 the C name, 1 the model name (C name without
 * the Kiln extension). */
const char *kiln_exec_md_name(const kiln_metadata *md, int outputs, int64_t i, int64_t kind);

/* ---- run_individual: per-operator time on the device (microTVM's debug executor) ----
 *
 * run_individual [Int number, Int repeat, Int min_repeat_ms(, Int limit_zero_time_iterations,
 * Int cooldown_interval_ms, Int repeats_to_cooldown)] -> Bytes: i64 count, then count x repeat LE
 * doubles (seconds per operator, operator-major, as TVM's GraphExecutorDebug::RunIndividual), then
 * Kiln's addition TVM's reader ignores: repeat doubles, seconds per whole run measured around the
 * same runs (so the operators sum to at most the run). One warm-up run; each repeat runs `number`
 * times, grown like runtime.RPCTimeEvaluator until it lasts min_repeat_ms. Cooldown is ignored. */

/* Runs the model once, adding each operator's microseconds to op_us[0 .. count-1]. */
typedef int (*kiln_exec_profiled_run)(kiln_runtime *rt, void *self, double *op_us);

/* The whole of run_individual for an executor with `count` operators (graph: nodes). The result
 * block is *block (kiln_alloc, freed at the next call); *bytes points into it. */
int kiln_exec_run_individual(kiln_runtime *rt, kiln_value *args, int *codes, int num, int32_t count,
                             kiln_exec_profiled_run run_once, void *self, void **block, kiln_byte_array *bytes,
                             kiln_value *ret, int *ret_code);

#endif /* KILN_EXECUTOR_UTIL_H */
