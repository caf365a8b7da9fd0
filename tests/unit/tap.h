/* SPDX-License-Identifier: Apache-2.0 */
/* A minimal TAP producer for C unit tests. */
#ifndef SIFOCI_TAP_H
#define SIFOCI_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define TAP_OK(cond, ...)                                                                          \
  do {                                                                                             \
    int tap_c_ = !!(cond);                                                                         \
    tap_n++;                                                                                       \
    printf("%s %d - ", tap_c_ ? "ok" : "not ok", tap_n);                                           \
    printf(__VA_ARGS__);                                                                           \
    printf("\n");                                                                                  \
    if (!tap_c_) {                                                                                 \
      tap_failed++;                                                                                \
      printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);                              \
    }                                                                                              \
  } while (0)

#define TAP_IS_INT(got, want, ...)                                                                 \
  do {                                                                                             \
    long long tap_g_ = (long long)(got), tap_w_ = (long long)(want);                               \
    TAP_OK(tap_g_ == tap_w_, __VA_ARGS__);                                                         \
    if (tap_g_ != tap_w_)                                                                          \
      printf("#   got %lld, expected %lld\n", tap_g_, tap_w_);                                     \
  } while (0)

#define TAP_IS_STR(got, want, ...)                                                                 \
  do {                                                                                             \
    const char *tap_g_ = (got), *tap_w_ = (want);                                                  \
    int tap_eq_ = tap_g_ && tap_w_ && strcmp(tap_g_, tap_w_) == 0;                                 \
    TAP_OK(tap_eq_, __VA_ARGS__);                                                                  \
    if (!tap_eq_)                                                                                  \
      printf("#   got '%s', expected '%s'\n", tap_g_ ? tap_g_ : "(null)",                          \
             tap_w_ ? tap_w_ : "(null)");                                                          \
  } while (0)

static inline int tap_done(void)
{
  printf("1..%d\n", tap_n);
  return tap_failed ? 1 : 0;
}

#endif
