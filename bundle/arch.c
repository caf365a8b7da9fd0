/* SPDX-License-Identifier: Apache-2.0 */
#include "arch.h"

#include <stddef.h>

#if defined(__x86_64__)
#define SIF_CODE "02"
#define FAMILY BUNDLE_ARCH_X86
#define SECCOMP "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
#elif defined(__i386__)
#define SIF_CODE "01"
#define FAMILY BUNDLE_ARCH_X86
#define SECCOMP "SCMP_ARCH_X86",
#elif defined(__aarch64__)
#define SIF_CODE "04"
#define FAMILY BUNDLE_ARCH_ARM
#define SECCOMP "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM",
#elif defined(__arm__)
#define SIF_CODE "03"
#define FAMILY BUNDLE_ARCH_ARM
#define SECCOMP "SCMP_ARCH_ARM",
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SIF_CODE "06"
#define FAMILY BUNDLE_ARCH_PPC
#define SECCOMP "SCMP_ARCH_PPC64LE",
#elif defined(__powerpc64__)
#define SIF_CODE "05"
#define FAMILY BUNDLE_ARCH_PPC
#define SECCOMP "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC",
#elif defined(__s390x__)
#define SIF_CODE "11"
#define FAMILY BUNDLE_ARCH_S390
#define SECCOMP "SCMP_ARCH_S390X", "SCMP_ARCH_S390",
#elif defined(__riscv) && __riscv_xlen == 64
#define SIF_CODE "12"
#define FAMILY BUNDLE_ARCH_RISCV
#define SECCOMP "SCMP_ARCH_RISCV64",
#elif defined(__loongarch64)
#define SIF_CODE "13"
#define FAMILY BUNDLE_ARCH_OTHER
#define SECCOMP "SCMP_ARCH_LOONGARCH64",
#else
#define SIF_CODE "00"
#define FAMILY BUNDLE_ARCH_OTHER
#define SECCOMP
#endif

static const char *const host_seccomp[] = {SECCOMP NULL};
static const struct bundle_host_arch host = {
    .sif_code = SIF_CODE, .family = FAMILY, .seccomp_arches = host_seccomp};

const struct bundle_host_arch *bundle_host_arch(void)
{
  return &host;
}
