/*
 * The system library: the module of packed functions linked into the device program (generated
 * model code: kernels, the AoT entry, metadata getters). Generated code defines
 *
 *   static const kiln_function kFunctions[] = {
 *     {"tvmgen_default_run", tvmgen_default_run},
 *     {"tvmgen_default_get_c_metadata", tvmgen_default_get_c_metadata},
 *   };
 *   static const kiln_module kSystemLib = {"default", kFunctions, 2, NULL};
 *   const kiln_module *kiln_system_lib(void) { return &kSystemLib; }
 *
 * and the platform main passes kiln_system_lib() to kiln_runtime_init. The host reaches these
 * functions as runtime.SystemLib() -> ModuleGetFunction(name), with handles 0x80008000 + index,
 * in table order. A program without a model links kiln_syslib_empty.c.
 */
#ifndef KILN_SYSLIB_H
#define KILN_SYSLIB_H

#include "kiln_types.h"

const kiln_module *kiln_system_lib(void);

#endif /* KILN_SYSLIB_H */
