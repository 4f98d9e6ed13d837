/*
 * A stand-in for microTVM v0.18's C runtime, written from shared/docs/microtvm-facts.md only (no
 * Kiln header is included: TVM's types are declared here as TVM defines them), to prove that a
 * Model Library Format archive from Kiln links and runs inside microTVM's CRT:
 *
 *   - TVM's C runtime API that generated code may call: TVMAPISetLastError, TVMBackendAllocWorkspace,
 *     TVMBackendFreeWorkspace, TVMPlatformAbort, TVMPlatformMemoryAllocate/Free, TVMPlatformTimer*;
 *   - the system-library lookup the CRT does (func_registry.c): TVMSystemLibEntryPoint() gives a
 *     TVMModule whose TVMFuncRegistry names blob is a little-endian uint16 count, then NUL-terminated
 *     names, then one more NUL, and whose funcs array is in name order; a name is found by walking
 *     the blob with strcmp, and its index must be below the count;
 *   - the two executors' calling conventions: the graph executor calls each tvm_op's func_name with
 *     its input and output entries (facts 4.4; the node plan comes from the archive's graph JSON in
 *     mlf_plan.h, which the test writes), the AoT executor reads the metadata through
 *     tvmgen_default_get_c_metadata (TVMMetadata, facts 5.1), passes inputs, outputs and one DLTensor
 *     per declared workspace pool to tvmgen_default_run as type code 7 (facts 5.2).
 * mlf_plan.h (written by the test) defines PLAN_BAD_FUNC, an operator to call wrongly, and for a
 * graph build PLAN_GRAPH and the node plan.
 *
 * Usage: driver graph IN OUT | driver aot IN OUT | driver aot-extra-arg | driver bad-calls
 * Prints each failed call on stderr with the library's last-error text. Exit 0 when the runs succeed
 * and the deliberate bad calls (aot-extra-arg, bad-calls) are refused.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlf_plan.h"

/* ---- TVM's types (dlpack.h, c_runtime_api.h, crt/func_registry.h, crt/module.h, metadata_types.h) ---- */
typedef struct { uint8_t code; uint8_t bits; uint16_t lanes; } DLDataType;
typedef struct { int32_t device_type; int32_t device_id; } DLDevice;
typedef struct {
  void *data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t *shape;
  int64_t *strides;
  uint64_t byte_offset;
} DLTensor;
typedef union {
  int64_t v_int64;
  double v_float64;
  void *v_handle;
  const char *v_str;
  DLDataType v_type;
  DLDevice v_device;
} TVMValue;
typedef int (*TVMBackendPackedCFunc)(TVMValue *args, int *type_codes, int num_args, TVMValue *out_ret_value,
                                     int *out_ret_tcode, void *resource_handle);
typedef struct { const char *names; const TVMBackendPackedCFunc *funcs; } TVMFuncRegistry;
typedef struct { const TVMFuncRegistry *registry; } TVMModule;
typedef struct { const char *name; const int64_t *shape; int64_t num_shape; DLDataType dtype; } TVMTensorInfo;
typedef struct { const char *name_hint; int64_t byte_offset; int64_t data_len; const void *data_bytes; } TVMConstantInfo;
typedef struct {
  int64_t version;
  const TVMTensorInfo *inputs;
  int64_t num_inputs;
  const TVMTensorInfo *outputs;
  int64_t num_outputs;
  const TVMTensorInfo *workspace_pools;
  int64_t num_workspace_pools;
  const TVMConstantInfo *constant_pools;
  int64_t num_constant_pools;
  const char *mod_name;
} TVMMetadata;

enum { kTVMOpaqueHandle = 3, kTVMNullptr = 4, kTVMDLTensorHandle = 7 };
enum { kTvmErrorFunctionNameNotFound = 0x0100, kTvmErrorFunctionIndexInvalid = 0x0101, kTvmErrorPlatformNoMemory = 0x0503 };

/* What the generated library must define: microTVM's system library entry point. */
const TVMModule *TVMSystemLibEntryPoint(void);

/* ---- the CRT API the library may call ---- */
static char g_last_error[1024];
static int g_backend_calls;

void TVMAPISetLastError(const char *msg);
void TVMAPISetLastError(const char *msg) {
  strncpy(g_last_error, msg, sizeof(g_last_error) - 1);
  g_last_error[sizeof(g_last_error) - 1] = '\0';
}

static unsigned char g_heap[1 << 20];
static size_t g_heap_used;

int TVMPlatformMemoryAllocate(size_t num_bytes, DLDevice dev, void **out_ptr);
int TVMPlatformMemoryAllocate(size_t num_bytes, DLDevice dev, void **out_ptr) {
  size_t rounded = (num_bytes + 255u) / 256u * 256u; /* the host template's 256-byte pages */
  (void)dev;
  if (g_heap_used + rounded > sizeof(g_heap)) return kTvmErrorPlatformNoMemory;
  *out_ptr = g_heap + g_heap_used;
  g_heap_used += rounded;
  return 0;
}

int TVMPlatformMemoryFree(void *ptr, DLDevice dev);
int TVMPlatformMemoryFree(void *ptr, DLDevice dev) {
  (void)ptr;
  (void)dev;
  return 0;
}

void *TVMBackendAllocWorkspace(int device_type, int device_id, uint64_t nbytes, int dtype_code_hint, int dtype_bits_hint);
void *TVMBackendAllocWorkspace(int device_type, int device_id, uint64_t nbytes, int dtype_code_hint, int dtype_bits_hint) {
  void *p = NULL;
  DLDevice dev;
  dev.device_type = device_type;
  dev.device_id = device_id;
  (void)dtype_code_hint;
  (void)dtype_bits_hint;
  g_backend_calls++;
  return TVMPlatformMemoryAllocate((size_t)nbytes, dev, &p) == 0 ? p : NULL;
}

int TVMBackendFreeWorkspace(int device_type, int device_id, void *ptr);
int TVMBackendFreeWorkspace(int device_type, int device_id, void *ptr) {
  (void)device_type;
  (void)device_id;
  (void)ptr;
  g_backend_calls++;
  return 0;
}

void TVMPlatformAbort(int code);
void TVMPlatformAbort(int code) {
  fprintf(stderr, "TVMPlatformAbort: %d\n", code);
  exit(9);
}

int TVMPlatformTimerStart(void);
int TVMPlatformTimerStart(void) { return 0; }
int TVMPlatformTimerStop(double *elapsed_time_seconds);
int TVMPlatformTimerStop(double *elapsed_time_seconds) {
  *elapsed_time_seconds = 0.0;
  return 0;
}

/* ---- the CRT's registry lookup (TVMFuncRegistry_Lookup / GetNumFuncs) ---- */
static uint16_t registry_count(const TVMFuncRegistry *reg) {
  const unsigned char *b = (const unsigned char *)reg->names;
  return (uint16_t)(b[0] | (b[1] << 8)); /* little-endian uint16 */
}

static int registry_lookup(const TVMFuncRegistry *reg, const char *name, TVMBackendPackedCFunc *out) {
  const char *p = reg->names + 2;
  uint16_t idx = 0;
  for (; *p != '\0'; p += strlen(p) + 1, idx++) {
    if (strcmp(p, name) == 0) {
      if (idx >= registry_count(reg)) return kTvmErrorFunctionIndexInvalid;
      *out = reg->funcs[idx];
      return 0;
    }
  }
  return kTvmErrorFunctionNameNotFound;
}

static TVMBackendPackedCFunc lookup(const char *name) {
  TVMBackendPackedCFunc f = NULL;
  int rc = registry_lookup(TVMSystemLibEntryPoint()->registry, name, &f);
  if (rc != 0) {
    fprintf(stderr, "lookup of %s failed: 0x%04x\n", name, (unsigned)rc);
    exit(3);
  }
  return f;
}

static int call(TVMBackendPackedCFunc f, const char *name, TVMValue *args, int *codes, int n) {
  TVMValue ret;
  int ret_code = kTVMNullptr;
  int rc;
  g_last_error[0] = '\0';
  ret.v_handle = NULL;
  rc = f(args, codes, n, &ret, &ret_code, NULL);
  if (rc != 0) fprintf(stderr, "%s returned %d: %s\n", name, rc, g_last_error);
  return rc;
}

static void read_file(const char *path, void *buf, size_t n) {
  FILE *f = fopen(path, "rb");
  if (f == NULL || fread(buf, 1, n, f) != n) {
    fprintf(stderr, "cannot read %zu bytes from %s\n", n, path);
    exit(4);
  }
  fclose(f);
}

static void write_file(const char *path, const void *buf, size_t n) {
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(buf, 1, n, f) != n) exit(5);
  fclose(f);
}

static size_t bytes_of(const int64_t *shape, int64_t ndim, DLDataType t) {
  size_t n = (size_t)(t.bits + 7u) / 8u;
  int64_t d;
  for (d = 0; d < ndim; d++) n *= (size_t)shape[d];
  return n;
}

static void *alloc(size_t n) {
  void *p = NULL;
  DLDevice cpu = {1, 0};
  if (TVMPlatformMemoryAllocate(n, cpu, &p) != 0) exit(6);
  memset(p, 0, n);
  return p;
}

#ifdef PLAN_GRAPH
/* ---- graph: the plan of the archive's graph JSON, each node called through the registry ---- */
static int run_graph(const char *in_path, const char *out_path) {
  void *storage[PLAN_NUM_STORAGE];
  DLTensor entries[PLAN_NUM_ENTRIES];
  int s, e, n;
  for (s = 0; s < PLAN_NUM_STORAGE; s++) storage[s] = alloc((size_t)plan_storage_bytes[s]);
  for (e = 0; e < PLAN_NUM_ENTRIES; e++) {
    DLTensor *t = &entries[e];
    t->data = storage[plan_entry_sid[e]];
    t->device.device_type = 1;
    t->device.device_id = 0;
    t->ndim = plan_entry_ndim[e];
    t->dtype.code = (uint8_t)plan_entry_code[e];
    t->dtype.bits = (uint8_t)plan_entry_bits[e];
    t->dtype.lanes = 1;
    t->shape = (int64_t *)(uintptr_t)plan_entry_shape[e];
    t->strides = NULL;
    t->byte_offset = 0;
  }
  read_file(in_path, entries[plan_input_entry].data,
            bytes_of(entries[plan_input_entry].shape, entries[plan_input_entry].ndim, entries[plan_input_entry].dtype));
  for (n = 0; n < PLAN_NUM_NODES; n++) {
    TVMValue args[PLAN_MAX_ARGS];
    int codes[PLAN_MAX_ARGS];
    int a;
    for (a = 0; a < plan_node_num_args[n]; a++) {
      args[a].v_handle = &entries[plan_node_args[n][a]];
      codes[a] = kTVMDLTensorHandle;
    }
    if (call(lookup(plan_node_func[n]), plan_node_func[n], args, codes, plan_node_num_args[n]) != 0) return 7;
  }
  write_file(out_path, entries[plan_output_entry].data,
             bytes_of(entries[plan_output_entry].shape, entries[plan_output_entry].ndim, entries[plan_output_entry].dtype));
  return 0;
}
#endif

/* ---- AoT: metadata through the registry, then tvmgen_default_run with exactly the declared slots ---- */
static const TVMMetadata *metadata(void) {
  TVMValue ret;
  int ret_code = kTVMNullptr;
  TVMBackendPackedCFunc get = lookup("tvmgen_default_get_c_metadata");
  ret.v_handle = NULL;
  if (get(NULL, NULL, 0, &ret, &ret_code, NULL) != 0 || ret_code != kTVMOpaqueHandle) {
    fprintf(stderr, "tvmgen_default_get_c_metadata failed (type code %d)\n", ret_code);
    exit(8);
  }
  return (const TVMMetadata *)ret.v_handle;
}

static int run_aot(const char *in_path, const char *out_path, int extra_args) {
  const TVMMetadata *md = metadata();
  TVMValue args[16];
  int codes[16];
  DLTensor tensors[16];
  int64_t n = md->num_inputs + md->num_outputs + md->num_workspace_pools;
  int64_t i;
  printf("mod_name=%s version=%lld num_inputs=%lld num_outputs=%lld num_workspace_pools=%lld num_constant_pools=%lld\n",
         md->mod_name, (long long)md->version, (long long)md->num_inputs, (long long)md->num_outputs,
         (long long)md->num_workspace_pools, (long long)md->num_constant_pools);
  if (n + extra_args > 16) return 10;
  for (i = 0; i < md->num_inputs + md->num_outputs; i++) {
    const TVMTensorInfo *info = i < md->num_inputs ? &md->inputs[i] : &md->outputs[i - md->num_inputs];
    DLTensor *t = &tensors[i];
    t->data = alloc(bytes_of(info->shape, info->num_shape, info->dtype));
    t->device.device_type = 1;
    t->device.device_id = 0;
    t->ndim = (int32_t)info->num_shape;
    t->dtype = info->dtype;
    t->shape = (int64_t *)(uintptr_t)info->shape;
    t->strides = NULL;
    t->byte_offset = 0;
    printf("%s[%lld]: %s\n", i < md->num_inputs ? "input" : "output",
           (long long)(i < md->num_inputs ? i : i - md->num_inputs), info->name);
  }
  /* the CRT leaves the workspace-pool slots (and here the extra ones) uninitialised */
  for (i = md->num_inputs + md->num_outputs; i < n + extra_args; i++) memset(&tensors[i], 0xA5, sizeof(DLTensor));
  for (i = 0; i < n + extra_args; i++) {
    args[i].v_handle = &tensors[i];
    codes[i] = kTVMDLTensorHandle;
  }
  if (in_path != NULL) read_file(in_path, tensors[0].data, bytes_of(tensors[0].shape, tensors[0].ndim, tensors[0].dtype));
  if (call(lookup("tvmgen_default_run"), "tvmgen_default_run", args, codes, (int)(n + extra_args)) != 0) return 7;
  if (out_path != NULL) {
    const DLTensor *o = &tensors[md->num_inputs];
    write_file(out_path, o->data, bytes_of(o->shape, o->ndim, o->dtype));
  }
  return 0;
}

/* ---- failures must carry the library's text ---- */
static int bad_calls(void) {
  DLTensor t;
  TVMValue args[2];
  int codes[2] = {kTVMDLTensorHandle, kTVMDLTensorHandle};
  memset(&t, 0, sizeof(t));
  args[0].v_handle = &t;
  args[1].v_handle = &t;
  /* an operator with one argument instead of two, then with an empty tensor */
  if (call(lookup(PLAN_BAD_FUNC), PLAN_BAD_FUNC, args, codes, 1) == 0) return 11;
  if (call(lookup(PLAN_BAD_FUNC), PLAN_BAD_FUNC, args, codes, 2) == 0) return 12;
  return 0;
}

int main(int argc, char **argv) {
  int rc;
#ifdef PLAN_GRAPH
  if (argc == 4 && strcmp(argv[1], "graph") == 0) rc = run_graph(argv[2], argv[3]);
  else
#endif
  if (argc == 4 && strcmp(argv[1], "aot") == 0) rc = run_aot(argv[2], argv[3], 0);
  else if (argc == 2 && strcmp(argv[1], "aot-extra-arg") == 0) rc = run_aot(NULL, NULL, 1) == 7 ? 0 : 13; /* must be refused */
  else if (argc == 2 && strcmp(argv[1], "bad-calls") == 0) rc = bad_calls();
  else {
    fprintf(stderr, "usage: driver graph IN OUT | aot IN OUT | aot-extra-arg | bad-calls\n");
    return 2;
  }
  printf("registry count %u, backend calls %d\n", (unsigned)registry_count(TVMSystemLibEntryPoint()->registry),
         g_backend_calls);
  return rc;
}
