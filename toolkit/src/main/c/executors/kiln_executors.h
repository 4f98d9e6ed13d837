/*
 * The device-side executors, modules of the Kiln runtime created by two global functions:
 *
 *   tvm.graph_executor.create  [Str graph_json, Module system_lib, Int device_type 1, Int device_id 0]
 *   tvm.aot_executor.create    [Module system_lib, Device {1, 0}, Str module_name]
 *
 * Both return a module (type code 9) whose functions the host finds with
 * tvm.rpc.server.ModuleGetFunction. One executor exists per boot (the runtime has
 * KILN_MAX_MODULES - 1 executor slots; a second create is an error, never a crash). Executor state
 * lives in one or two kiln_alloc blocks; running allocates nothing.
 *
 * Functions of both modules (args as type codes; "Int|Str" = an index or a name; a name is the
 * exact model name or the C name):
 *   set_input        [Int|Str, DLTensor]        copies the array in (dtype and element count must match)
 *   get_input        [Int|Str]                  NDArray view of the input buffer (release with FreeHandle 13)
 *   get_output       [Int] -> NDArray view;  [Int, DLTensor] copies the output into the array
 *   run              []
 *   get_num_inputs   [] -> Int                  get_num_outputs [] -> Int
 *   get_input_index  [Str] -> Int, -1 for an unknown name (like TVM's C++ executors)
 *   get_input_name   [Int] -> Str (AoT: C name, as microTVM; graph: the graph JSON name);
 *                    [Int, Int kind] kind 0: C name, 1: model name
 *   get_output_name  [Int] -> Str model name; [Int, Int kind] as above
 *   load_params      [Bytes]  graph only: a TVM params blob (Kiln's is empty: constants are linked)
 *   run_individual   [Int number, Int repeat, Int min_repeat_ms(, 3 more Ints)] -> Bytes: per-operator
 *                    seconds in microTVM's debug-executor layout (kiln_executor_util.h)
 * Errors (unknown name, index out of range, wrong argument types) return non-zero with
 * kiln_set_error text; nothing data-dependent aborts.
 */
#ifndef KILN_EXECUTORS_H
#define KILN_EXECUTORS_H

#include "kiln_runtime.h"

/* Registers tvm.aot_executor.create and tvm.graph_executor.create as global functions (in that
 * order). Call once after kiln_runtime_init. Returns KILN_OK or KILN_ERR_REGISTRY_FULL. */
int kiln_executors_register(kiln_runtime *rt);

int kiln_aot_executor_create(kiln_value *args, int *type_codes, int num_args, kiln_value *ret, int *ret_code,
                             void *resource_handle);
int kiln_graph_executor_create(kiln_value *args, int *type_codes, int num_args, kiln_value *ret, int *ret_code,
                               void *resource_handle);

/* The graph JSON linked into the program (NUL-terminated; empty when none is). A board whose packet
 * cannot carry the JSON gets it here, and the host calls tvm.graph_executor.create with an empty
 * string: the device program builder (dev.kiln.project.DeviceProgram) generates this definition. */
extern const char kiln_linked_graph_json[];

#endif /* KILN_EXECUTORS_H */
