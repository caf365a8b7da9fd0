/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host's architecture, once, for everything that depends on it: the
 * SIF code an image must carry to run here, the family a seccomp rule can
 * be limited to, and the seccomp architectures the filter covers (the
 * native one and the 32-bit ABIs its kernel also runs).
 */
#ifndef SIFOCI_ARCH_H
#define SIFOCI_ARCH_H

/* Architecture families a seccomp rule can be limited to. */
enum bundle_arch_family {
  BUNDLE_ARCH_X86 = 1u << 0, /* x86_64, x32, i386 */
  BUNDLE_ARCH_ARM = 1u << 1, /* aarch64, arm */
  BUNDLE_ARCH_PPC = 1u << 2,
  BUNDLE_ARCH_S390 = 1u << 3,
  BUNDLE_ARCH_RISCV = 1u << 4,
  BUNDLE_ARCH_OTHER = 1u << 5,
};

struct bundle_host_arch {
  const char *sif_code; /* "02" for x86_64, ...; "00" when unknown */
  enum bundle_arch_family family;
  const char *const *seccomp_arches; /* NULL-terminated; empty: the runtime's default */
};

const struct bundle_host_arch *bundle_host_arch(void);

#endif
