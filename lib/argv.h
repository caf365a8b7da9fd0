/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A growable NULL-terminated argv for the programs we spawn (runtime,
 * monitor).  Command lines are built from pieces, never by string
 * concatenation, so an argument with spaces or quotes stays one argument.
 * Allocation failure is sticky: check argv_failed() once at the end.
 */
#ifndef SIFOCI_ARGV_BUILDER_H
#define SIFOCI_ARGV_BUILDER_H

#include <stdbool.h>
#include <stddef.h>

struct argv_builder {
  char **v; /* NULL-terminated once anything was added */
  size_t n, cap;
  bool oom;
};

void argv_add(struct argv_builder *b, const char *arg);
void argv_addf(struct argv_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "--opt" "value", only when value != NULL */
void argv_add_opt(struct argv_builder *b, const char *opt, const char *value);
void argv_addv(struct argv_builder *b, char *const *args);
bool argv_failed(const struct argv_builder *b);
/* The argv as one line for messages and tests ("a b 'c d'"); allocated. */
char *argv_join(const struct argv_builder *b);
void argv_clear(struct argv_builder *b);

static inline void argv_clear_fn(struct argv_builder *b)
{
  argv_clear(b);
}
#define cleanup_argv __attribute__((cleanup(argv_clear_fn)))

#endif
