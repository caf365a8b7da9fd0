/* SPDX-License-Identifier: Apache-2.0 */
#include "toml-parse.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cleanup.h"

struct toml_reader {
  const char *p, *end;
  const char *name;
  size_t line;
  json_t *root;
  json_t *table; /* where key = value goes */
  /* the tables a [header] defined, by address: each once.  By the table
   * and not its path, as [a.b] may come again for each [[a]] */
  json_t *defined;
};

static int fail(struct toml_reader *r, oci_error **err, const char *what)
{
  return oci_error_set(err, 0, "'%s': line %zu: %s", r->name, r->line, what);
}

static bool at_eol(const struct toml_reader *r)
{
  return r->p >= r->end || *r->p == '\n';
}

static void skip_blanks(struct toml_reader *r)
{
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\t'))
    r->p++;
}

/* Blanks, an optional comment, then the end of the line (or file). */
static int end_line(struct toml_reader *r, oci_error **err)
{
  skip_blanks(r);
  if (r->p < r->end && *r->p == '#')
    while (r->p < r->end && *r->p != '\n')
      r->p++;
  if (r->p < r->end && *r->p == '\r' && r->p + 1 < r->end && r->p[1] == '\n')
    r->p++;
  if (!at_eol(r))
    return fail(r, err, "unexpected text after the value");
  return 0;
}

static bool bare_key_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

/* A bare key into BUF (NUL-terminated). */
static int read_key(struct toml_reader *r, char *buf, size_t size, oci_error **err)
{
  size_t n = 0;
  while (r->p < r->end && bare_key_char(*r->p)) {
    if (n + 1 >= size)
      return fail(r, err, "key too long");
    buf[n++] = *r->p++;
  }
  buf[n] = '\0';
  if (n == 0)
    return fail(r, err,
                r->p < r->end && (*r->p == '"' || *r->p == '\'')
                    ? "quoted keys are not supported"
                    : "expected a key (letters, digits, '_', '-')");
  return 0;
}

/* The object under PARENT named KEY, made when missing; an array of tables
 * stands for its last table. */
static json_t *child_table(struct toml_reader *r, json_t *parent, const char *key, oci_error **err)
{
  json_t *c = json_object_get(parent, key);
  if (c == NULL) {
    c = json_object();
    if (c == NULL || json_object_set_new(parent, key, c) < 0) {
      oci_error_set(err, ENOMEM, "'%s'", r->name);
      return NULL;
    }
    return c;
  }
  if (json_is_array(c) && json_is_object(json_array_get(c, json_array_size(c) - 1)))
    return json_array_get(c, json_array_size(c) - 1);
  if (!json_is_object(c)) {
    fail(r, err, "a table header names a key that already holds a value");
    return NULL;
  }
  return c;
}

/* [a.b] or [[a.b]] */
static int read_header(struct toml_reader *r, oci_error **err)
{
  bool array = r->p + 1 < r->end && r->p[1] == '[';
  r->p += array ? 2 : 1;
  char keys[BUNDLE_TOML_MAX_DEPTH][64];
  size_t depth = 0;
  for (;;) {
    skip_blanks(r);
    if (depth == BUNDLE_TOML_MAX_DEPTH)
      return fail(r, err, "tables nested too deep");
    if (read_key(r, keys[depth], sizeof(keys[depth]), err) < 0)
      return -1;
    depth++;
    skip_blanks(r);
    if (r->p < r->end && *r->p == '.') {
      r->p++;
      continue;
    }
    break;
  }
  if (r->end - r->p < (array ? 2 : 1) || r->p[0] != ']' || (array && r->p[1] != ']'))
    return fail(r, err, array ? "expected ']]' to close the header" : "expected ']'");
  r->p += array ? 2 : 1;
  json_t *t = r->root;
  for (size_t i = 0; i + 1 < depth; i++)
    if ((t = child_table(r, t, keys[i], err)) == NULL)
      return -1;
  const char *last = keys[depth - 1];
  json_t *existing = json_object_get(t, last);
  if (array) {
    if (existing != NULL && !json_is_array(existing))
      return fail(r, err, "[[array]] names a table or value defined before");
    if (existing == NULL) {
      existing = json_array();
      if (existing == NULL || json_object_set_new(t, last, existing) < 0)
        return oci_error_set(err, ENOMEM, "'%s'", r->name);
    }
    if (json_array_size(existing) >= 4096)
      return fail(r, err, "too many tables in one array");
    json_t *nt = json_object();
    if (nt == NULL || json_array_append_new(existing, nt) < 0)
      return oci_error_set(err, ENOMEM, "'%s'", r->name);
    r->table = nt;
  } else {
    if (existing != NULL && !json_is_object(existing))
      return fail(r, err, "a table header names a key that already holds a value");
    if ((r->table = child_table(r, t, last, err)) == NULL)
      return -1;
    char id[32];
    snprintf(id, sizeof(id), "%p", (void *)r->table);
    if (json_object_get(r->defined, id) != NULL)
      return fail(r, err, "table defined twice");
    if (json_object_set_new(r->defined, id, json_true()) < 0)
      return oci_error_set(err, ENOMEM, "'%s'", r->name);
  }
  return end_line(r, err);
}

static int read_integer(struct toml_reader *r, json_t **ret, oci_error **err)
{
  bool neg = false;
  if (*r->p == '+' || *r->p == '-')
    neg = *r->p++ == '-';
  if (r->p >= r->end || *r->p < '0' || *r->p > '9')
    return fail(r, err, "expected a value (integer, true, false or a string)");
  if (*r->p == '0' && r->p + 1 < r->end && r->p[1] >= '0' && r->p[1] <= '9')
    return fail(r, err, "integers may not have leading zeros");
  uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  bool prev_digit = false;
  while (r->p < r->end) {
    char c = *r->p;
    if (c == '_') {
      if (!prev_digit || r->p + 1 >= r->end || r->p[1] < '0' || r->p[1] > '9')
        return fail(r, err, "'_' must be between digits");
      prev_digit = false;
      r->p++;
      continue;
    }
    if (c < '0' || c > '9')
      break;
    if (v > (limit - (uint64_t)(c - '0')) / 10)
      return fail(r, err, "integer out of range");
    v = v * 10 + (uint64_t)(c - '0');
    prev_digit = true;
    r->p++;
  }
  if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E'))
    return fail(r, err, "floats are not supported here");
  if (r->p < r->end &&
      (*r->p == 'x' || *r->p == 'o' || *r->p == 'b' || *r->p == '-' || *r->p == ':'))
    return fail(r, err, "only decimal integers are supported");
  json_int_t iv = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(json_int_t)v) : (json_int_t)v;
  *ret = json_integer(iv);
  return *ret ? 0 : oci_error_set(err, ENOMEM, "'%s'", r->name);
}

static int put_utf8(char *buf, size_t *n, uint32_t cp)
{
  if (cp < 0x80) {
    buf[(*n)++] = (char)cp;
  } else if (cp < 0x800) {
    buf[(*n)++] = (char)(0xc0 | (cp >> 6));
    buf[(*n)++] = (char)(0x80 | (cp & 0x3f));
  } else {
    buf[(*n)++] = (char)(0xe0 | (cp >> 12));
    buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
    buf[(*n)++] = (char)(0x80 | (cp & 0x3f));
  }
  return 0;
}

static int read_escape(struct toml_reader *r, char *buf, size_t *n, oci_error **err)
{
  if (r->p >= r->end)
    return fail(r, err, "unfinished escape");
  char c = *r->p++;
  const char *from = "\"\\ntrbf", *to = "\"\\\n\t\r\b\f";
  const char *k = strchr(from, c);
  if (c != '\0' && k != NULL) {
    buf[(*n)++] = to[k - from];
    return 0;
  }
  if (c != 'u')
    return fail(r, err, "unknown escape in a string");
  uint32_t cp = 0;
  for (int i = 0; i < 4; i++, r->p++) {
    if (r->p >= r->end)
      return fail(r, err, "\\u needs 4 hex digits");
    char h = *r->p;
    int d = h >= '0' && h <= '9'   ? h - '0'
            : h >= 'a' && h <= 'f' ? h - 'a' + 10
            : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                   : -1;
    if (d < 0)
      return fail(r, err, "\\u needs 4 hex digits");
    cp = cp * 16 + (uint32_t)d;
  }
  if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
    return fail(r, err, "\\u names NUL or a surrogate");
  return put_utf8(buf, n, cp);
}

static int read_string(struct toml_reader *r, json_t **ret, oci_error **err)
{
  char quote = *r->p++;
  if (r->end - r->p >= 2 && r->p[0] == quote && r->p[1] == quote)
    return fail(r, err, "multi-line strings are not supported");
  const char *start = r->p;
  while (r->p < r->end && *r->p != quote && *r->p != '\n')
    r->p += (quote == '"' && *r->p == '\\' && r->p + 1 < r->end) ? 2 : 1;
  if (r->p >= r->end || *r->p != quote)
    return fail(r, err, "unclosed string");
  size_t raw = (size_t)(r->p - start);
  cleanup_free char *buf = malloc(raw + 1);
  if (buf == NULL)
    return oci_error_set(err, ENOMEM, "'%s'", r->name);
  size_t n = 0;
  const char *end = r->p;
  r->p = start;
  while (r->p < end) {
    char c = *r->p++;
    if (c == '\0' || (c > 0 && c < 0x20 && c != '\t') || c == 0x7f)
      return fail(r, err, "a control character in a string");
    if (quote == '"' && c == '\\') {
      if (read_escape(r, buf, &n, err) < 0)
        return -1;
      continue;
    }
    buf[n++] = c;
  }
  r->p = end + 1;
  *ret = json_stringn(buf, n);
  return *ret ? 0 : fail(r, err, "a string that is not UTF-8");
}

static int read_value(struct toml_reader *r, json_t **ret, oci_error **err)
{
  size_t left = (size_t)(r->end - r->p);
  if (left >= 4 && strncmp(r->p, "true", 4) == 0) {
    r->p += 4;
    *ret = json_true();
  } else if (left >= 5 && strncmp(r->p, "false", 5) == 0) {
    r->p += 5;
    *ret = json_false();
  } else if (left > 0 && (*r->p == '"' || *r->p == '\'')) {
    return read_string(r, ret, err);
  } else if (left > 0 && (*r->p == '[' || *r->p == '{')) {
    return fail(r, err, "arrays and inline tables are not supported (use [[table]] sections)");
  } else if (left == 0 || at_eol(r)) {
    return fail(r, err, "a key without a value");
  } else {
    return read_integer(r, ret, err);
  }
  if (r->p < r->end && bare_key_char(*r->p))
    return fail(r, err, "expected a value (integer, true, false or a string)");
  return 0;
}

static int read_pair(struct toml_reader *r, oci_error **err)
{
  char key[64];
  if (read_key(r, key, sizeof(key), err) < 0)
    return -1;
  skip_blanks(r);
  if (r->p < r->end && *r->p == '.')
    return fail(r, err, "dotted keys are not supported (use a [table] header)");
  if (r->p >= r->end || *r->p != '=')
    return fail(r, err, "expected '=' after the key");
  r->p++;
  skip_blanks(r);
  if (json_object_get(r->table, key) != NULL)
    return fail(r, err, "key defined twice");
  json_t *v = NULL;
  if (read_value(r, &v, err) < 0)
    return -1;
  if (json_object_set_new(r->table, key, v) < 0)
    return oci_error_set(err, ENOMEM, "'%s'", r->name);
  return end_line(r, err);
}

int bundle_toml_parse(const char *text, size_t len, const char *name, json_t **ret, oci_error **err)
{
  struct toml_reader r = {text, text + len, name, 1, json_object(), NULL, json_object()};
  r.table = r.root;
  int rc = 0;
  if (r.root == NULL || r.defined == NULL)
    rc = oci_error_set(err, ENOMEM, "'%s'", name);
  if (rc == 0 && memchr(text, '\0', len) != NULL)
    rc = oci_error_set(err, 0, "'%s': holds a NUL byte", name);
  while (rc == 0 && r.p < r.end) {
    skip_blanks(&r);
    if (r.p < r.end && *r.p == '[')
      rc = read_header(&r, err);
    else if (r.p < r.end && *r.p != '#' && *r.p != '\n' && *r.p != '\r')
      rc = read_pair(&r, err); /* which says what is wrong with a line no key starts */
    else
      rc = end_line(&r, err);
    if (rc == 0 && r.p < r.end) {
      r.p++; /* the newline */
      r.line++;
    }
  }
  json_decref(r.defined);
  if (rc < 0) {
    json_decref(r.root);
    return -1;
  }
  *ret = r.root;
  return 0;
}
