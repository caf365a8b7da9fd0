/* SPDX-License-Identifier: Apache-2.0 */
#include "argv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void push_owned(struct argv_builder *b, char *s)
{
  if (s == NULL) {
    b->oom = true;
    return;
  }
  if (b->n + 2 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 16;
    char **v = realloc(b->v, cap * sizeof(*v));
    if (v == NULL) {
      free(s);
      b->oom = true;
      return;
    }
    b->v = v;
    b->cap = cap;
  }
  b->v[b->n++] = s;
  b->v[b->n] = NULL;
}

void argv_add(struct argv_builder *b, const char *arg)
{
  push_owned(b, strdup(arg));
}

void argv_addf(struct argv_builder *b, const char *fmt, ...)
{
  char *s = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&s, fmt, ap) < 0)
    s = NULL;
  va_end(ap);
  push_owned(b, s);
}

void argv_add_opt(struct argv_builder *b, const char *opt, const char *value)
{
  if (value == NULL)
    return;
  argv_add(b, opt);
  argv_add(b, value);
}

void argv_addv(struct argv_builder *b, char *const *args)
{
  for (; args && *args; args++)
    argv_add(b, *args);
}

bool argv_failed(const struct argv_builder *b)
{
  return b->oom || b->v == NULL;
}

/* Shell-like quoting, only for humans reading an error or a test diff. */
char *argv_join(const struct argv_builder *b)
{
  size_t len = 1;
  for (size_t i = 0; i < b->n; i++)
    len += strlen(b->v[i]) * 4 + 3;
  char *out = malloc(len), *p = out;
  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < b->n; i++) {
    const char *a = b->v[i];
    bool plain = a[0] != '\0' && strpbrk(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") == NULL;
    if (i > 0)
      *p++ = ' ';
    if (plain) {
      p = stpcpy(p, a);
      continue;
    }
    *p++ = '\'';
    for (; *a; a++) {
      if (*a == '\'')
        p = stpcpy(p, "'\\''");
      else
        *p++ = *a;
    }
    *p++ = '\'';
  }
  *p = '\0';
  return out;
}

void argv_clear(struct argv_builder *b)
{
  for (size_t i = 0; i < b->n; i++)
    free(b->v[i]);
  free(b->v);
  *b = (struct argv_builder){0};
}
