/*
 * A reader for the graph JSON of TVM's graph executor (microtvm-facts 4.1): nodes, arg_nodes, heads,
 * attrs (dltype, storage_id, shape; other keys skipped), node_row_ptr; keys in any order, unknown keys
 * skipped. It reads the text twice, first to count and then to fill one kiln_alloc block, so it needs
 * no other memory; nesting is bounded by the schema (skipped values: at most 64 levels), never by
 * recursion on the input. Every error names the field, e.g.
 * "graph JSON, nodes[3].attrs.num_inputs: expected an integer (byte 412)".
 */
#ifndef KILN_GRAPH_JSON_H
#define KILN_GRAPH_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "kiln_runtime.h"

typedef struct {
  uint32_t node_id;
  uint32_t index;
} kiln_graph_ref;

typedef struct {
  const char *name;      /* decoded, NUL-terminated */
  const char *func_name; /* tvm_op: attrs.func_name; null nodes: NULL */
  int32_t is_op;
  int32_t num_inputs;  /* entries in inputs */
  int32_t first_input; /* index into kiln_graph.inputs */
  int32_t num_outputs; /* tvm_op: attrs.num_outputs; null nodes: 1 */
} kiln_graph_node;

typedef struct {
  int32_t num_nodes;
  kiln_graph_node *nodes;
  int32_t num_inputs; /* all nodes' inputs together */
  kiln_graph_ref *inputs;
  int32_t num_arg_nodes;
  int32_t *arg_nodes;
  int32_t num_heads;
  kiln_graph_ref *heads;
  int32_t num_row_ptr;
  int32_t *node_row_ptr;
  int32_t num_entries; /* node_row_ptr[num_nodes]; every attrs list has this many items */
  kiln_dl_datatype *dltype;
  int32_t *storage_id;
  int32_t *ndim;
  int64_t *shape; /* KILN_MAX_NDIM per entry */
} kiln_graph;

/* Parses and checks a graph (node references, counts, list lengths). On success *out points at a
 * block from kiln_alloc (release it with kiln_free(rt, *out)). On failure returns non-zero after
 * kiln_set_error(rt, "<fn>: graph JSON, <field>: <problem> (byte N)"). */
int kiln_graph_parse(kiln_runtime *rt, const char *fn, const char *json, size_t len, kiln_graph **out);

#endif /* KILN_GRAPH_JSON_H */
