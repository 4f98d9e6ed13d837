/*
 * The system library: the module of packed functions linked into the device program (generated
 * model code: kernels, the AoT entry, metadata getters), and the two pieces of TVM's C runtime API
 * generated code shares with a runtime, so that one generated library links unchanged against this
 * runtime and against microTVM's CRT.
 *
 * Generated code publishes one function table twice over the same names:
 *
 *   static const char kNames[] = "\x02\x00" "tvmgen_default_run\0" "tvmgen_default_get_c_metadata\0";
 *   static const kiln_packed_fn kPointers[2] = {tvmgen_default_run, tvmgen_default_get_c_metadata};
 *   static const kiln_tvm_func_registry kRegistry = {kNames, kPointers};
 *   static const kiln_tvm_module kTvmSystemLib = {&kRegistry};
 *   const kiln_tvm_module *TVMSystemLibEntryPoint(void) { return &kTvmSystemLib; }   <- microTVM's CRT
 *
 *   static const kiln_function kFunctions[2] = {{kNames + 2, ...}, {kNames + 21, ...}};
 *   static const kiln_module kSystemLib = {"default", kFunctions, 2, NULL};
 *   const kiln_module *kiln_system_lib(void) { return &kSystemLib; }                 <- this runtime
 *
 * and the platform main passes kiln_system_lib() to kiln_runtime_init. The host reaches these
 * functions as runtime.SystemLib() -> ModuleGetFunction(name), with handles 0x80008000 + index,
 * in table order (the same on both runtimes). A program without a model links kiln_syslib_empty.c.
 */
#ifndef KILN_SYSLIB_H
#define KILN_SYSLIB_H

#include "kiln_types.h"

const kiln_module *kiln_system_lib(void);

/*
 * microTVM's TVMFuncRegistry (tvm/runtime/crt/func_registry.h), layout for layout: names is the
 * registry blob, a little-endian uint16 count, then each name NUL-terminated, then one more NUL;
 * funcs[i] is the function of the i-th name. The CRT looks a name up by walking the blob.
 */
typedef struct {
  const char *names;
  const kiln_packed_fn *funcs;
} kiln_tvm_func_registry;

/* microTVM's TVMModule (tvm/runtime/crt/module.h). */
typedef struct {
  const kiln_tvm_func_registry *registry;
} kiln_tvm_module;

/* What microTVM's CRT calls to find the model (runtime.SystemLib); generated code defines it. */
const kiln_tvm_module *TVMSystemLibEntryPoint(void);

/*
 * TVM's c_runtime_api.h: the text the host receives when the packed function being called returns
 * non-zero. Generated code calls it before every failing return; this runtime defines it in
 * kiln_tvm_api.c (microTVM's CRT in crt_runtime_api.c).
 */
void TVMAPISetLastError(const char *msg);

#endif /* KILN_SYSLIB_H */
