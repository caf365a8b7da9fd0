/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Untrusted text made safe for a terminal: IDs, paths, image descriptor
 * names and labels may hold a newline (which would split a one-line error)
 * or an escape sequence (which the terminal would act on).  Control bytes
 * become C-style escapes: \n, \t, \r, else \xHH; so do DEL, the C1 controls
 * (U+0080..U+009F, which some terminals honour even UTF-8-encoded) and every
 * byte that is not part of valid UTF-8.  Printable text, including valid
 * UTF-8, is kept as it is.
 */
#ifndef SIFOCI_TEXT_ESCAPE_H
#define SIFOCI_TEXT_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* S escaped, newly allocated (NULL on OOM). */
char *text_escape(const char *s);

/* The escaped length of S (without the NUL); equal to strlen(S) when it
 * needs no escaping. */
size_t text_escaped_len(const char *s);

#endif
