/* The graph JSON reader: a schema-directed parser run twice (count, then fill one block). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kiln_executor_util.h"
#include "kiln_graph_json.h"

#define PATH_BYTES 96
#define PROBLEM_BYTES 112
#define MAX_SKIP_DEPTH 64
#define NO_POSITION ((size_t)-1)
#define MAX_COUNT 0x7FFFFFF

/* top-level and attrs fields, one bit each, to find missing and repeated ones */
enum {
  SEEN_NODES = 1 << 0,
  SEEN_ARG_NODES = 1 << 1,
  SEEN_HEADS = 1 << 2,
  SEEN_ATTRS = 1 << 3,
  SEEN_ROW_PTR = 1 << 4,
  SEEN_DLTYPE = 1 << 5,
  SEEN_STORAGE_ID = 1 << 6,
  SEEN_SHAPE = 1 << 7
};

typedef struct {
  const char *s;
  size_t len;
  size_t pos;
  int fill; /* 0: count, 1: store into g */
  kiln_graph *g;
  char *strings;
  size_t string_bytes; /* pass 1: needed; pass 2: used */
  /* pass 1: counts; pass 2: cursors */
  int32_t nodes, inputs, arg_nodes, heads, row_ptr, dltype, storage_id, shape;
  unsigned seen;
  char path[PATH_BYTES];
  size_t path_len;
  char problem[PROBLEM_BYTES];
  size_t problem_pos;
  int failed;
} parser;

static int fail_at(parser *p, size_t pos, const char *format, ...) {
  va_list ap;
  if (p->failed) return -1;
  p->failed = 1;
  p->problem_pos = pos;
  va_start(ap, format);
  (void)vsnprintf(p->problem, sizeof(p->problem), format, ap);
  va_end(ap);
  return -1;
}

#define FAIL(p, ...) fail_at((p), (p)->pos, __VA_ARGS__)

/* Appends to the field path; returns the length to restore with path_pop. */
static size_t path_push(parser *p, const char *format, ...) {
  size_t old = p->path_len;
  va_list ap;
  va_start(ap, format);
  (void)vsnprintf(p->path + old, sizeof(p->path) - old, format, ap);
  va_end(ap);
  p->path_len = strlen(p->path);
  return old;
}

static void path_pop(parser *p, size_t old) {
  p->path_len = old;
  p->path[old] = '\0';
}

/* ---- tokens ---- */

static int peek(parser *p) {
  while (p->pos < p->len) {
    char c = p->s[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return (unsigned char)c;
    p->pos++;
  }
  return -1;
}

static int expect(parser *p, char c, const char *what) {
  if (peek(p) != (unsigned char)c) return FAIL(p, "expected %s", what);
  p->pos++;
  return 0;
}

/* Inside a container whose opener was consumed: 1 if an element follows (its comma consumed),
 * 0 once the closer was consumed, -1 on error. */
static int next(parser *p, char close, int *first) {
  int c = peek(p);
  if (c == (unsigned char)close) {
    p->pos++;
    return 0;
  }
  if (!*first) {
    if (c != ',') return FAIL(p, "expected ',' or '%c'", close);
    p->pos++;
  }
  *first = 0;
  return 1;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* A string; *raw and *n span the text between the quotes, escapes checked but not decoded. */
static int string_raw(parser *p, const char **raw, size_t *n, const char *what) {
  size_t start;
  if (peek(p) != '"') return FAIL(p, "expected %s", what);
  start = ++p->pos;
  while (p->pos < p->len) {
    unsigned char c = (unsigned char)p->s[p->pos];
    if (c == '"') {
      *raw = p->s + start;
      *n = p->pos - start;
      p->pos++;
      return 0;
    }
    if (c < 0x20) return FAIL(p, "control character 0x%02x inside a string", (unsigned)c);
    if (c == '\\') {
      int k;
      if (++p->pos >= p->len) break;
      switch (p->s[p->pos]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
          break;
        case 'u':
          for (k = 1; k <= 4; ++k) {
            if (p->pos + (size_t)k >= p->len || hex_digit(p->s[p->pos + (size_t)k]) < 0) {
              return FAIL(p, "\\u must be followed by 4 hex digits");
            }
          }
          p->pos += 4;
          break;
        default:
          return FAIL(p, "invalid escape \\%c", p->s[p->pos]);
      }
    }
    p->pos++;
  }
  return fail_at(p, start - 1, "unterminated string");
}

static unsigned hex4(const char *s) {
  return (unsigned)(hex_digit(s[0]) << 12 | hex_digit(s[1]) << 8 | hex_digit(s[2]) << 4 | hex_digit(s[3]));
}

/* Decodes a checked raw string into out (NULL: only count); returns the byte count, or -1 for a
 * lone surrogate or a NUL character. */
static long decode(const char *raw, size_t n, char *out) {
  size_t i = 0;
  long o = 0;
  while (i < n) {
    unsigned long cp;
    char c = raw[i];
    if (c != '\\') {
      if (out != NULL) out[o] = c;
      o++;
      i++;
      continue;
    }
    c = raw[i + 1];
    i += 2;
    switch (c) {
      case 'b': cp = '\b'; break;
      case 'f': cp = '\f'; break;
      case 'n': cp = '\n'; break;
      case 'r': cp = '\r'; break;
      case 't': cp = '\t'; break;
      case 'u':
        cp = hex4(raw + i);
        i += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return -1;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          unsigned long low;
          if (i + 6 > n || raw[i] != '\\' || raw[i + 1] != 'u') return -1;
          low = hex4(raw + i + 2);
          if (low < 0xDC00 || low > 0xDFFF) return -1;
          cp = 0x10000ul + ((cp - 0xD800ul) << 10) + (low - 0xDC00ul);
          i += 6;
        }
        break;
      default: cp = (unsigned char)c; break;
    }
    if (cp == 0) return -1;
    if (cp < 0x80) {
      if (out != NULL) out[o] = (char)cp;
      o += 1;
    } else if (cp < 0x800) {
      if (out != NULL) {
        out[o] = (char)(0xC0 | (cp >> 6));
        out[o + 1] = (char)(0x80 | (cp & 0x3F));
      }
      o += 2;
    } else if (cp < 0x10000) {
      if (out != NULL) {
        out[o] = (char)(0xE0 | (cp >> 12));
        out[o + 1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[o + 2] = (char)(0x80 | (cp & 0x3F));
      }
      o += 3;
    } else {
      if (out != NULL) {
        out[o] = (char)(0xF0 | (cp >> 18));
        out[o + 1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[o + 2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[o + 3] = (char)(0x80 | (cp & 0x3F));
      }
      o += 4;
    }
  }
  return o;
}

/* A string copied (decoded, NUL-terminated) into the block; *out is NULL while counting. */
static int string_copy(parser *p, const char **out, const char *what) {
  const char *raw;
  size_t n;
  size_t start = p->pos;
  long d;
  *out = NULL;
  if (string_raw(p, &raw, &n, what) != 0) return -1;
  d = decode(raw, n, NULL);
  if (d < 0) return fail_at(p, start, "invalid \\u escape (a lone surrogate or \\u0000)");
  if (p->fill) {
    char *dst = p->strings + p->string_bytes;
    (void)decode(raw, n, dst);
    dst[d] = '\0';
    *out = dst;
  }
  p->string_bytes += (size_t)d + 1u;
  return 0;
}

/* Digits of an integer in s[0..n): 0 on success. */
static int digits_value(const char *s, size_t n, int64_t *out) {
  int64_t v = 0;
  size_t i = 0;
  int neg = 0;
  if (n > 0 && s[0] == '-') {
    neg = 1;
    i = 1;
  }
  if (i == n) return -1;
  for (; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    if (v > (INT64_MAX - (s[i] - '0')) / 10) return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = neg ? -v : v;
  return 0;
}

static int in_range(parser *p, size_t start, int64_t v, int64_t lo, int64_t hi, const char *what) {
  if (v < lo || v > hi) {
    return fail_at(p, start, "%s %lld is out of range %lld..%lld", what, (long long)v, (long long)lo, (long long)hi);
  }
  return 0;
}

/* A JSON integer (no fraction, no exponent) in lo..hi. */
static int integer(parser *p, int64_t lo, int64_t hi, int64_t *out, const char *what) {
  size_t start;
  int c = peek(p);
  start = p->pos;
  if (c == '-') p->pos++;
  while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
  if (p->pos < p->len && (p->s[p->pos] == '.' || p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
    return fail_at(p, start, "expected %s, found a fraction or exponent", what);
  }
  if (digits_value(p->s + start, p->pos - start, out) != 0) {
    p->pos = start;
    return FAIL(p, "expected %s", what);
  }
  return in_range(p, start, *out, lo, hi, what);
}

/* An integer written as a number or as a string ("1"), as node attrs are. */
static int integer_attr(parser *p, int64_t lo, int64_t hi, int64_t *out, const char *what) {
  const char *raw;
  size_t n, start;
  if (peek(p) != '"') return integer(p, lo, hi, out, what);
  start = p->pos;
  if (string_raw(p, &raw, &n, what) != 0) return -1;
  if (digits_value(raw, n, out) != 0) return fail_at(p, start, "expected %s, found \"%.*s\"", what, (int)(n > 24 ? 24 : n), raw);
  return in_range(p, start, *out, lo, hi, what);
}

static int literal(parser *p, const char *word) {
  size_t n = strlen(word);
  if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) return FAIL(p, "expected a value");
  p->pos += n;
  return 0;
}

/* Skips one value of any kind without recursion; nesting deeper than MAX_SKIP_DEPTH is an error. */
static int skip_value(parser *p) {
  uint64_t objects = 0; /* bit d: level d is an object */
  int depth = 0;
  int want_value = 1;
  const char *raw;
  size_t n;
  for (;;) {
    int c;
    if (want_value) {
      c = peek(p);
      if (c == '{' || c == '[') {
        if (depth == MAX_SKIP_DEPTH) return FAIL(p, "values nested deeper than %d levels", MAX_SKIP_DEPTH);
        if (c == '{') {
          objects |= (uint64_t)1 << depth;
        } else {
          objects &= ~((uint64_t)1 << depth);
        }
        depth++;
        p->pos++;
        if (peek(p) == (c == '{' ? '}' : ']')) { /* empty container */
          p->pos++;
          depth--;
          want_value = 0;
        } else if (c == '{') {
          if (string_raw(p, &raw, &n, "a field name in quotes") != 0 || expect(p, ':', "':' after a field name") != 0) {
            return -1;
          }
        }
        continue;
      }
      if (c == '"') {
        if (string_raw(p, &raw, &n, "a value") != 0) return -1;
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        size_t start = p->pos;
        if (c == '-') p->pos++;
        while (p->pos < p->len && p->s[p->pos] != '\0' && strchr("0123456789.eE+-", p->s[p->pos]) != NULL) p->pos++;
        if (p->pos == start + (c == '-' ? 1u : 0u)) return FAIL(p, "expected a value");
      } else if (c == 't') {
        if (literal(p, "true") != 0) return -1;
      } else if (c == 'f') {
        if (literal(p, "false") != 0) return -1;
      } else if (c == 'n') {
        if (literal(p, "null") != 0) return -1;
      } else {
        return FAIL(p, "expected a value");
      }
      want_value = 0;
    }
    if (depth == 0) return 0;
    c = peek(p);
    if (c == ',') {
      p->pos++;
      if ((objects >> (depth - 1)) & 1u) {
        if (string_raw(p, &raw, &n, "a field name in quotes") != 0 || expect(p, ':', "':' after a field name") != 0) {
          return -1;
        }
      }
      want_value = 1;
    } else if (c == (((objects >> (depth - 1)) & 1u) ? '}' : ']')) {
      p->pos++;
      depth--;
    } else {
      return FAIL(p, "expected ',' or '%c'", ((objects >> (depth - 1)) & 1u) ? '}' : ']');
    }
  }
}

static int key(parser *p, const char **k, size_t *n) {
  if (string_raw(p, k, n, "a field name in quotes") != 0) return -1;
  return expect(p, ':', "':' after a field name");
}

static int key_is(const char *k, size_t n, const char *name) { return strlen(name) == n && memcmp(k, name, n) == 0; }

static int once(parser *p, unsigned bit) {
  if (p->seen & bit) return FAIL(p, "the field appears twice");
  p->seen |= bit;
  return 0;
}

/* ---- schema ---- */

/* [node_id, output_index] or [node_id, output_index, version] */
static int entry_ref(parser *p, kiln_graph_ref *out) {
  int64_t id, index, version;
  if (expect(p, '[', "'[' (a [node_id, output_index, version] entry)") != 0) return -1;
  if (integer(p, 0, MAX_COUNT, &id, "a node id") != 0) return -1;
  if (expect(p, ',', "',' and an output index") != 0) return -1;
  if (integer(p, 0, MAX_COUNT, &index, "an output index") != 0) return -1;
  if (peek(p) == ',') {
    p->pos++;
    if (integer(p, 0, INT64_MAX, &version, "a version") != 0) return -1;
  }
  if (expect(p, ']', "']' closing the entry") != 0) return -1;
  out->node_id = (uint32_t)id;
  out->index = (uint32_t)index;
  return 0;
}

/* A list of entries into refs (may be NULL while counting) at *cursor. */
static int entry_list(parser *p, kiln_graph_ref *refs, int32_t *cursor, int32_t *count) {
  int first = 1, r;
  *count = 0;
  if (expect(p, '[', "'[' (a list of entries)") != 0) return -1;
  while ((r = next(p, ']', &first)) > 0) {
    kiln_graph_ref ref;
    size_t mark = path_push(p, "[%ld]", (long)*count);
    if (entry_ref(p, &ref) != 0) return -1;
    path_pop(p, mark);
    if (*cursor >= MAX_COUNT) return FAIL(p, "too many entries");
    if (p->fill) refs[*cursor] = ref;
    (*cursor)++;
    (*count)++;
  }
  return r;
}

static int int_list(parser *p, int32_t *values, int32_t *cursor, int64_t lo) {
  int first = 1, r;
  int32_t i = 0;
  if (expect(p, '[', "'[' (a list of integers)") != 0) return -1;
  while ((r = next(p, ']', &first)) > 0) {
    int64_t v;
    size_t mark = path_push(p, "[%ld]", (long)i);
    if (integer(p, lo, MAX_COUNT, &v, "an integer") != 0) return -1;
    path_pop(p, mark);
    if (*cursor >= MAX_COUNT) return FAIL(p, "too many items");
    if (p->fill) values[*cursor] = (int32_t)v;
    (*cursor)++;
    i++;
  }
  return r;
}

/* A node's attrs: func_name, num_inputs, num_outputs, flatten_data; other keys skipped. */
static int node_attrs(parser *p, kiln_graph_node *node, int64_t *attr_inputs, int64_t *attr_outputs, unsigned *have) {
  int first = 1, r;
  const char *k;
  size_t kn;
  if (expect(p, '{', "'{' (the node's attrs object)") != 0) return -1;
  while ((r = next(p, '}', &first)) > 0) {
    size_t mark;
    int64_t flatten;
    if (key(p, &k, &kn) != 0) return -1;
    if (key_is(k, kn, "func_name")) {
      mark = path_push(p, ".func_name");
      if (string_copy(p, &node->func_name, "a function name in quotes") != 0) return -1;
      *have |= 1u;
    } else if (key_is(k, kn, "num_inputs")) {
      mark = path_push(p, ".num_inputs");
      if (integer_attr(p, 0, MAX_COUNT, attr_inputs, "an integer") != 0) return -1;
      *have |= 2u;
    } else if (key_is(k, kn, "num_outputs")) {
      mark = path_push(p, ".num_outputs");
      /* 0 is allowed: an operator run for its effect only (ASSIGN_VARIABLE, CALL_ONCE) */
      if (integer_attr(p, 0, MAX_COUNT, attr_outputs, "an integer") != 0) return -1;
      *have |= 4u;
    } else if (key_is(k, kn, "flatten_data")) {
      mark = path_push(p, ".flatten_data");
      if (integer_attr(p, 0, 1, &flatten, "0 or 1") != 0) return -1;
    } else {
      if (skip_value(p) != 0) return -1;
      continue;
    }
    path_pop(p, mark);
  }
  return r;
}

static int node(parser *p, int32_t index) {
  kiln_graph_node n;
  int64_t attr_inputs = 0, attr_outputs = 1;
  unsigned have_attrs = 0;
  int have_op = 0, have_inputs = 0, first = 1, r;
  const char *k, *raw;
  size_t kn, rn, mark;
  memset(&n, 0, sizeof(n));
  n.first_input = p->inputs;
  if (expect(p, '{', "'{' (a node object)") != 0) return -1;
  while ((r = next(p, '}', &first)) > 0) {
    if (key(p, &k, &kn) != 0) return -1;
    if (key_is(k, kn, "op")) {
      mark = path_push(p, ".op");
      if (string_raw(p, &raw, &rn, "\"null\" or \"tvm_op\"") != 0) return -1;
      if (key_is(raw, rn, "null")) {
        n.is_op = 0;
      } else if (key_is(raw, rn, "tvm_op")) {
        n.is_op = 1;
      } else {
        return FAIL(p, "expected \"null\" or \"tvm_op\", found \"%.*s\"", (int)(rn > 24 ? 24 : rn), raw);
      }
      have_op = 1;
    } else if (key_is(k, kn, "name")) {
      mark = path_push(p, ".name");
      if (string_copy(p, &n.name, "a name in quotes") != 0) return -1;
      if (!p->fill) n.name = "";
    } else if (key_is(k, kn, "inputs")) {
      mark = path_push(p, ".inputs");
      if (have_inputs) return FAIL(p, "the field appears twice");
      have_inputs = 1;
      n.first_input = p->inputs;
      if (entry_list(p, p->fill ? p->g->inputs : NULL, &p->inputs, &n.num_inputs) != 0) return -1;
    } else if (key_is(k, kn, "attrs") || key_is(k, kn, "attr")) {
      mark = path_push(p, ".attrs");
      if (node_attrs(p, &n, &attr_inputs, &attr_outputs, &have_attrs) != 0) return -1;
    } else {
      if (skip_value(p) != 0) return -1;
      continue;
    }
    path_pop(p, mark);
  }
  if (r < 0) return -1;
  if (!have_op) return FAIL(p, "missing required field \"op\"");
  if (n.name == NULL) return FAIL(p, "missing required field \"name\"");
  if (n.is_op) {
    if (!(have_attrs & 1u)) return FAIL(p, "a tvm_op needs attrs.func_name");
    if (!(have_attrs & 2u)) return FAIL(p, "a tvm_op needs attrs.num_inputs");
    if (!(have_attrs & 4u)) return FAIL(p, "a tvm_op needs attrs.num_outputs");
    if (attr_inputs != n.num_inputs) {
      return FAIL(p, "attrs.num_inputs is %lld but inputs has %ld entries", (long long)attr_inputs, (long)n.num_inputs);
    }
    n.num_outputs = (int32_t)attr_outputs;
  } else {
    if (n.num_inputs != 0) return FAIL(p, "a \"null\" node (an input) has %ld inputs; expected none", (long)n.num_inputs);
    n.func_name = NULL;
    n.num_outputs = 1;
  }
  if (p->fill) p->g->nodes[index] = n;
  return 0;
}

static int nodes(parser *p) {
  int first = 1, r;
  if (expect(p, '[', "'[' (the list of nodes)") != 0) return -1;
  while ((r = next(p, ']', &first)) > 0) {
    size_t mark = path_push(p, "[%ld]", (long)p->nodes);
    if (p->nodes >= MAX_COUNT) return FAIL(p, "too many nodes");
    if (node(p, p->nodes) != 0) return -1;
    path_pop(p, mark);
    p->nodes++;
  }
  return r;
}

/* ["<tag>", <list>]: checks the tag, leaves the position at the list. */
static int tagged(parser *p, const char *tag) {
  const char *raw;
  size_t n;
  if (expect(p, '[', "'[' (a [type tag, values] pair)") != 0) return -1;
  if (string_raw(p, &raw, &n, "a type tag in quotes") != 0) return -1;
  if (!key_is(raw, n, tag)) return FAIL(p, "the type tag is \"%.*s\"; expected \"%s\"", (int)(n > 24 ? 24 : n), raw, tag);
  return expect(p, ',', "',' and the list of values");
}

static int dltypes(parser *p) {
  int first = 1, r;
  int32_t i = 0;
  if (expect(p, '[', "'[' (a list of dtype strings)") != 0) return -1;
  while ((r = next(p, ']', &first)) > 0) {
    const char *raw;
    size_t n, start, mark = path_push(p, "[%ld]", (long)i);
    kiln_dl_datatype t;
    start = p->pos;
    if (string_raw(p, &raw, &n, "a dtype string") != 0) return -1;
    if (kiln_exec_parse_dtype(raw, n, &t) != 0) {
      return fail_at(p, start, "unknown dtype \"%.*s\"; expected e.g. int8, uint8, int32, float32", (int)(n > 24 ? 24 : n),
                     raw);
    }
    path_pop(p, mark);
    if (p->dltype >= MAX_COUNT) return FAIL(p, "too many items");
    if (p->fill) p->g->dltype[p->dltype] = t;
    p->dltype++;
    i++;
  }
  return r;
}

static int shapes(parser *p) {
  int first = 1, r;
  int32_t i = 0;
  if (expect(p, '[', "'[' (a list of shapes)") != 0) return -1;
  while ((r = next(p, ']', &first)) > 0) {
    int inner_first = 1, q;
    int32_t d = 0;
    size_t mark = path_push(p, "[%ld]", (long)i);
    if (p->shape >= MAX_COUNT) return FAIL(p, "too many items");
    if (expect(p, '[', "'[' (a shape: a list of dimensions)") != 0) return -1;
    while ((q = next(p, ']', &inner_first)) > 0) {
      int64_t dim;
      if (d == KILN_MAX_NDIM) return FAIL(p, "more than %d dimensions (KILN_MAX_NDIM)", (int)KILN_MAX_NDIM);
      if (integer(p, 0, INT64_MAX / 256, &dim, "a dimension") != 0) return -1;
      if (p->fill) p->g->shape[(size_t)p->shape * KILN_MAX_NDIM + (size_t)d] = dim;
      d++;
    }
    if (q < 0) return -1;
    if (p->fill) p->g->ndim[p->shape] = d;
    path_pop(p, mark);
    p->shape++;
    i++;
  }
  return r;
}

static int graph_attrs(parser *p) {
  int first = 1, r;
  const char *k;
  size_t kn, mark;
  if (expect(p, '{', "'{' (the attrs object)") != 0) return -1;
  while ((r = next(p, '}', &first)) > 0) {
    if (key(p, &k, &kn) != 0) return -1;
    if (key_is(k, kn, "dltype")) {
      mark = path_push(p, ".dltype");
      if (once(p, SEEN_DLTYPE) != 0 || tagged(p, "list_str") != 0 || dltypes(p) != 0) return -1;
    } else if (key_is(k, kn, "storage_id")) {
      mark = path_push(p, ".storage_id");
      if (once(p, SEEN_STORAGE_ID) != 0 || tagged(p, "list_int") != 0) return -1;
      if (int_list(p, p->fill ? p->g->storage_id : NULL, &p->storage_id, 0) != 0) return -1;
    } else if (key_is(k, kn, "shape")) {
      mark = path_push(p, ".shape");
      if (once(p, SEEN_SHAPE) != 0 || tagged(p, "list_shape") != 0 || shapes(p) != 0) return -1;
    } else {
      if (skip_value(p) != 0) return -1; /* device_index, storage_scope, ... */
      continue;
    }
    if (expect(p, ']', "']' closing the [type tag, values] pair") != 0) return -1;
    path_pop(p, mark);
  }
  return r;
}

static int graph(parser *p) {
  int first = 1, r;
  const char *k;
  size_t kn, mark;
  int32_t count;
  if (expect(p, '{', "'{' (the graph is a JSON object)") != 0) return -1;
  while ((r = next(p, '}', &first)) > 0) {
    if (key(p, &k, &kn) != 0) return -1;
    if (key_is(k, kn, "nodes")) {
      mark = path_push(p, "nodes");
      if (once(p, SEEN_NODES) != 0 || nodes(p) != 0) return -1;
    } else if (key_is(k, kn, "arg_nodes")) {
      mark = path_push(p, "arg_nodes");
      if (once(p, SEEN_ARG_NODES) != 0) return -1;
      if (int_list(p, p->fill ? p->g->arg_nodes : NULL, &p->arg_nodes, 0) != 0) return -1;
    } else if (key_is(k, kn, "heads")) {
      mark = path_push(p, "heads");
      if (once(p, SEEN_HEADS) != 0) return -1;
      if (entry_list(p, p->fill ? p->g->heads : NULL, &p->heads, &count) != 0) return -1;
    } else if (key_is(k, kn, "attrs")) {
      mark = path_push(p, "attrs");
      if (once(p, SEEN_ATTRS) != 0 || graph_attrs(p) != 0) return -1;
    } else if (key_is(k, kn, "node_row_ptr")) {
      mark = path_push(p, "node_row_ptr");
      if (once(p, SEEN_ROW_PTR) != 0) return -1;
      if (int_list(p, p->fill ? p->g->node_row_ptr : NULL, &p->row_ptr, 0) != 0) return -1;
    } else {
      if (skip_value(p) != 0) return -1; /* metadata, ... */
      continue;
    }
    path_pop(p, mark);
  }
  if (r < 0) return -1;
  if (peek(p) != -1) return FAIL(p, "unexpected text after the graph object");
  if (!(p->seen & SEEN_NODES)) return FAIL(p, "missing required field \"nodes\"");
  if (!(p->seen & SEEN_ARG_NODES)) return FAIL(p, "missing required field \"arg_nodes\"");
  if (!(p->seen & SEEN_HEADS)) return FAIL(p, "missing required field \"heads\"");
  if (!(p->seen & SEEN_ATTRS)) return FAIL(p, "missing required field \"attrs\"");
  if (!(p->seen & SEEN_ROW_PTR)) return FAIL(p, "missing required field \"node_row_ptr\"");
  path_push(p, "attrs");
  if (!(p->seen & SEEN_DLTYPE)) return FAIL(p, "missing required field \"dltype\"");
  if (!(p->seen & SEEN_STORAGE_ID)) return FAIL(p, "missing required field \"storage_id\"");
  if (!(p->seen & SEEN_SHAPE)) return FAIL(p, "missing required field \"shape\"");
  path_pop(p, 0);
  return 0;
}

/* ---- checks on the filled graph ---- */

static int fail_field(parser *p, const char *format, ...) {
  va_list ap;
  if (p->failed) return -1;
  p->failed = 1;
  p->problem_pos = NO_POSITION;
  va_start(ap, format);
  (void)vsnprintf(p->problem, sizeof(p->problem), format, ap);
  va_end(ap);
  return -1;
}

static int check_ref(parser *p, const kiln_graph *g, kiln_graph_ref ref, int32_t before) {
  if ((int64_t)ref.node_id >= before) {
    return fail_field(p, "node %lu is not %s", (unsigned long)ref.node_id,
                      before == g->num_nodes ? "a node of the graph" : "an earlier node");
  }
  if ((int32_t)ref.index >= g->nodes[ref.node_id].num_outputs) {
    return fail_field(p, "node %lu has %ld output(s); output index %lu does not exist", (unsigned long)ref.node_id,
                      (long)g->nodes[ref.node_id].num_outputs, (unsigned long)ref.index);
  }
  return 0;
}

static int check(parser *p, kiln_graph *g) {
  int32_t i, j;
  path_pop(p, 0);
  if (g->num_row_ptr != g->num_nodes + 1) {
    path_push(p, "node_row_ptr");
    return fail_field(p, "has %ld items; with %ld nodes it needs %ld", (long)g->num_row_ptr, (long)g->num_nodes,
                      (long)g->num_nodes + 1);
  }
  for (i = 0; i < g->num_nodes; ++i) {
    int64_t expected = i == 0 ? 0 : (int64_t)g->node_row_ptr[i - 1] + g->nodes[i - 1].num_outputs;
    if (g->node_row_ptr[i] != expected) {
      path_push(p, "node_row_ptr[%ld]", (long)i);
      return fail_field(p, "is %ld; node outputs so far make it %lld", (long)g->node_row_ptr[i], (long long)expected);
    }
    for (j = 0; j < g->nodes[i].num_inputs; ++j) {
      path_push(p, "nodes[%ld].inputs[%ld]", (long)i, (long)j);
      if (check_ref(p, g, g->inputs[g->nodes[i].first_input + j], i) != 0) return -1;
      path_pop(p, 0);
    }
  }
  if ((int64_t)g->node_row_ptr[g->num_nodes] !=
      (g->num_nodes == 0 ? 0 : (int64_t)g->node_row_ptr[g->num_nodes - 1] + g->nodes[g->num_nodes - 1].num_outputs)) {
    path_push(p, "node_row_ptr[%ld]", (long)g->num_nodes);
    return fail_field(p, "is %ld; it must count all node outputs", (long)g->node_row_ptr[g->num_nodes]);
  }
  g->num_entries = g->node_row_ptr[g->num_nodes];
  if (p->dltype != g->num_entries || p->storage_id != g->num_entries || p->shape != g->num_entries) {
    const char *which = p->dltype != g->num_entries ? "dltype" : p->storage_id != g->num_entries ? "storage_id" : "shape";
    int32_t n = p->dltype != g->num_entries ? p->dltype : p->storage_id != g->num_entries ? p->storage_id : p->shape;
    path_push(p, "attrs.%s", which);
    return fail_field(p, "has %ld items; the graph has %ld entries (node_row_ptr)", (long)n, (long)g->num_entries);
  }
  for (i = 0; i < g->num_entries; ++i) {
    if (g->storage_id[i] >= g->num_entries) {
      path_push(p, "attrs.storage_id[%ld]", (long)i);
      return fail_field(p, "is %ld; storage ids must be below the number of entries (%ld)", (long)g->storage_id[i],
                        (long)g->num_entries);
    }
  }
  for (i = 0; i < g->num_arg_nodes; ++i) {
    path_push(p, "arg_nodes[%ld]", (long)i);
    if (g->arg_nodes[i] >= g->num_nodes) return fail_field(p, "node %ld does not exist", (long)g->arg_nodes[i]);
    if (g->nodes[g->arg_nodes[i]].is_op) return fail_field(p, "node %ld is a tvm_op, not an input", (long)g->arg_nodes[i]);
    path_pop(p, 0);
  }
  for (i = 0; i < g->num_heads; ++i) {
    path_push(p, "heads[%ld]", (long)i);
    if (check_ref(p, g, g->heads[i], g->num_nodes) != 0) return -1;
    path_pop(p, 0);
  }
  return 0;
}

/* ---- driver ---- */

static size_t align8(size_t n) { return (n + 7u) & ~(size_t)7u; }

static void report(kiln_runtime *rt, const char *fn, const parser *p) {
  if (p->problem_pos == NO_POSITION) {
    kiln_set_error(rt, "%s: graph JSON, %s: %s", fn, p->path_len > 0 ? p->path : "top level", p->problem);
  } else {
    kiln_set_error(rt, "%s: graph JSON, %s: %s (byte %lu)", fn, p->path_len > 0 ? p->path : "top level", p->problem,
                   (unsigned long)p->problem_pos);
  }
}

int kiln_graph_parse(kiln_runtime *rt, const char *fn, const char *json, size_t len, kiln_graph **out) {
  parser p;
  size_t total, at;
  uint8_t *block;
  kiln_graph *g;
  memset(&p, 0, sizeof(p));
  p.s = json;
  p.len = len;
  *out = NULL;
  if (graph(&p) != 0) {
    report(rt, fn, &p);
    return KILN_ERR_INVALID_ARG;
  }
  /* one block: the graph, then each array, then the strings */
  total = align8(sizeof(kiln_graph));
  total += align8((size_t)p.nodes * sizeof(kiln_graph_node));
  total += align8((size_t)p.inputs * sizeof(kiln_graph_ref));
  total += align8((size_t)p.arg_nodes * sizeof(int32_t));
  total += align8((size_t)p.heads * sizeof(kiln_graph_ref));
  total += align8((size_t)p.row_ptr * sizeof(int32_t));
  total += align8((size_t)p.dltype * sizeof(kiln_dl_datatype));
  total += align8((size_t)p.storage_id * sizeof(int32_t));
  total += align8((size_t)p.shape * sizeof(int32_t));
  total += (size_t)p.shape * KILN_MAX_NDIM * sizeof(int64_t);
  total += p.string_bytes;
  block = (uint8_t *)kiln_alloc(rt, total);
  if (block == NULL) {
    kiln_set_error(rt, "%s: no room for the parsed graph (%lu bytes of device memory)", fn, (unsigned long)total);
    return KILN_ERR_NO_MEMORY;
  }
  memset(block, 0, total);
  g = (kiln_graph *)block;
  at = align8(sizeof(kiln_graph));
  g->num_nodes = p.nodes;
  g->nodes = (kiln_graph_node *)(block + at);
  at += align8((size_t)p.nodes * sizeof(kiln_graph_node));
  g->num_inputs = p.inputs;
  g->inputs = (kiln_graph_ref *)(block + at);
  at += align8((size_t)p.inputs * sizeof(kiln_graph_ref));
  g->num_arg_nodes = p.arg_nodes;
  g->arg_nodes = (int32_t *)(block + at);
  at += align8((size_t)p.arg_nodes * sizeof(int32_t));
  g->num_heads = p.heads;
  g->heads = (kiln_graph_ref *)(block + at);
  at += align8((size_t)p.heads * sizeof(kiln_graph_ref));
  g->num_row_ptr = p.row_ptr;
  g->node_row_ptr = (int32_t *)(block + at);
  at += align8((size_t)p.row_ptr * sizeof(int32_t));
  g->dltype = (kiln_dl_datatype *)(block + at);
  at += align8((size_t)p.dltype * sizeof(kiln_dl_datatype));
  g->storage_id = (int32_t *)(block + at);
  at += align8((size_t)p.storage_id * sizeof(int32_t));
  g->ndim = (int32_t *)(block + at);
  at += align8((size_t)p.shape * sizeof(int32_t));
  g->shape = (int64_t *)(block + at);
  at += (size_t)p.shape * KILN_MAX_NDIM * sizeof(int64_t);
  /* second pass: same text, same counts, now stored */
  {
    parser counted = p;
    memset(&p, 0, sizeof(p));
    p.s = json;
    p.len = len;
    p.fill = 1;
    p.g = g;
    p.strings = (char *)(block + at);
    if (graph(&p) != 0 || p.nodes != counted.nodes || p.inputs != counted.inputs || p.string_bytes != counted.string_bytes) {
      if (!p.failed) (void)fail_field(&p, "the second reading disagrees with the first (internal error)");
      report(rt, fn, &p);
      (void)kiln_free(rt, block);
      return KILN_ERR_INVALID_ARG;
    }
  }
  if (check(&p, g) != 0) {
    report(rt, fn, &p);
    (void)kiln_free(rt, block);
    return KILN_ERR_INVALID_ARG;
  }
  *out = g;
  return 0;
}
