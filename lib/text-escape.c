/* SPDX-License-Identifier: Apache-2.0 */
#include "text-escape.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The length of the valid UTF-8 sequence at S (2..4), 0 when there is none:
 * overlong forms, surrogates and code points past U+10FFFF are invalid. */
static size_t utf8_seq_len(const unsigned char *s, uint32_t *ret_cp)
{
  size_t n;
  uint32_t cp, min;
  if (s[0] >= 0xc2 && s[0] <= 0xdf)
    n = 2, cp = s[0] & 0x1f, min = 0x80;
  else if (s[0] >= 0xe0 && s[0] <= 0xef)
    n = 3, cp = s[0] & 0x0f, min = 0x800;
  else if (s[0] >= 0xf0 && s[0] <= 0xf4)
    n = 4, cp = s[0] & 0x07, min = 0x10000;
  else
    return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
      return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  *ret_cp = cp;
  return n;
}

/* Walk S: with OUT, write the escaped form; either way return its length. */
static size_t escape_into(const char *s, char *out)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s;
  size_t len = 0;
  while (*p) {
    uint32_t cp = 0;
    size_t keep = 0, esc = 0; /* bytes kept as they are, bytes escaped */
    if (*p >= 0x20 && *p < 0x7f) {
      keep = 1;
    } else if (*p < 0x80) {
      esc = 1;
    } else {
      size_t n = utf8_seq_len(p, &cp);
      if (n == 0)
        esc = 1;
      else if (cp <= 0x9f) /* a C1 control, UTF-8-encoded */
        esc = n;
      else
        keep = n;
    }
    if (keep) {
      if (out)
        memcpy(out + len, p, keep);
      len += keep;
      p += keep;
      continue;
    }
    for (size_t i = 0; i < esc; i++, p++) {
      char named = *p == '\n' ? 'n' : *p == '\t' ? 't' : *p == '\r' ? 'r' : '\0';
      if (named) {
        if (out) {
          out[len] = '\\';
          out[len + 1] = named;
        }
        len += 2;
      } else {
        if (out) {
          out[len] = '\\';
          out[len + 1] = 'x';
          out[len + 2] = hex[*p >> 4];
          out[len + 3] = hex[*p & 0xf];
        }
        len += 4;
      }
    }
  }
  if (out)
    out[len] = '\0';
  return len;
}

size_t text_escaped_len(const char *s)
{
  return escape_into(s, NULL);
}

char *text_escape(const char *s)
{
  char *out = malloc(escape_into(s, NULL) + 1);
  if (out != NULL)
    escape_into(s, out);
  return out;
}
