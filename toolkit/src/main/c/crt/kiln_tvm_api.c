/*
 * The part of TVM's C runtime API that generated model code calls, so that one generated library
 * links against both this runtime and microTVM's CRT: TVMAPISetLastError(const char *msg), which
 * a failing packed function calls before returning non-zero (c_runtime_api.h).
 *
 * TVM's signature has no runtime argument, so this file keeps the one pointer the runtime has
 * outside the platform's instance: the runtime that kiln_runtime_init set up last (a device program
 * has one). The text lands in that runtime's last_error, which the RPC server sends to the host as
 * the call's exception, exactly as kiln_set_error does.
 */
#include "kiln_internal.h"
#include "kiln_syslib.h"

static kiln_runtime *kiln_tvm_api_runtime;

void kiln_tvm_api_bind(kiln_runtime *rt) { kiln_tvm_api_runtime = rt; }

void TVMAPISetLastError(const char *msg) {
  if (kiln_tvm_api_runtime == NULL) return; /* no runtime yet: nobody could receive the text */
  kiln_set_error(kiln_tvm_api_runtime, "%s", msg != NULL ? msg : "");
}
