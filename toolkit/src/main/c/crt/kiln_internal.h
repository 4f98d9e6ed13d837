/* Declarations shared by the runtime's own files; not for generated code or platforms. */
#ifndef KILN_INTERNAL_H
#define KILN_INTERNAL_H

#include "kiln_runtime.h"

/* session message types */
#define KILN_MSG_START_SESSION_INIT 0x00u
#define KILN_MSG_START_SESSION_REPLY 0x01u
#define KILN_MSG_TERMINATE_SESSION 0x02u
#define KILN_MSG_LOG 0x03u
#define KILN_MSG_NORMAL 0x10u

/* kiln_memory.c */
int kiln_memory_range_valid(kiln_runtime *rt, const void *data, uint64_t byte_offset, uint64_t n);
uint64_t kiln_memory_free_bytes(kiln_runtime *rt);

/* kiln_runtime.c: sending */
void kiln_send_begin(kiln_runtime *rt, uint8_t message_type, uint16_t session_id, uint32_t body_len);
void kiln_send_bytes(kiln_runtime *rt, const void *bytes, size_t n);
void kiln_send_end(kiln_runtime *rt);
/* A "kiln link: dropped ..." log. */
void kiln_report_drop(kiln_runtime *rt, const char *format, ...);

/* kiln_tvm_api.c: the runtime TVMAPISetLastError writes to (set by kiln_runtime_init) */
void kiln_tvm_api_bind(kiln_runtime *rt);

/* kiln_rpc_server.c */
void kiln_rpc_handle(kiln_runtime *rt, uint8_t *packet, uint32_t n);
void kiln_rpc_send_exception(kiln_runtime *rt, const char *message);
void kiln_rpc_register_builtins(kiln_runtime *rt);

/* little-endian helpers */
static inline uint64_t kiln_le_u64(const uint8_t *p) {
  uint64_t v = 0;
  int i;
  for (i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
static inline uint32_t kiln_le_u32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void kiln_put_u64(uint8_t *p, uint64_t v) {
  int i;
  for (i = 0; i < 8; ++i) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void kiln_put_u32(uint8_t *p, uint32_t v) {
  int i;
  for (i = 0; i < 4; ++i) p[i] = (uint8_t)(v >> (8 * i));
}

#endif /* KILN_INTERNAL_H */
