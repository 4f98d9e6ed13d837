/* Registration of the executors' create functions (see kiln_executors.h). */
#include "kiln_executors.h"

int kiln_executors_register(kiln_runtime *rt) {
  int status = kiln_register_global(rt, "tvm.aot_executor.create", kiln_aot_executor_create);
  if (status == KILN_OK) status = kiln_register_global(rt, "tvm.graph_executor.create", kiln_graph_executor_create);
  return status;
}
