/* SPDX-License-Identifier: Apache-2.0 */
#include "seccomp-profile.h"

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/socket.h>

#include "arch.h"
#include "json-util.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif

/* s390 passes clone(2)'s flags second. */
#if defined(__s390x__) || defined(__s390__)
#define CLONE_FLAGS_ARG 1
#else
#define CLONE_FLAGS_ARG 0
#endif

#define NAMESPACE_FLAGS                                                                            \
  (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |       \
   CLONE_NEWCGROUP)

/* The name tables are packed by hand. */
/* clang-format off */

/* ---- what ordinary programs use, allowed everywhere */

static const char *const sys_file_io[] = {
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
    "pwritev2", "open", "openat", "openat2", "creat", "close", "close_range", "lseek", "_llseek",
    "dup", "dup2", "dup3", "fcntl", "fcntl64", "flock", "fsync", "fdatasync", "sync", "syncfs",
    "sync_file_range", "fallocate", "ftruncate", "ftruncate64", "truncate", "truncate64",
    "readahead", "fadvise64", "fadvise64_64", "sendfile", "sendfile64", "splice", "tee", "vmsplice",
    "copy_file_range", "ioctl", "pipe", "pipe2", "cachestat", NULL,
};

static const char *const sys_file_meta[] = {
    "stat", "stat64", "lstat", "lstat64", "fstat", "fstat64", "fstatat64", "newfstatat", "statx",
    "statfs", "statfs64", "fstatfs", "fstatfs64", "access", "faccessat", "faccessat2", "readlink",
    "readlinkat", "getdents", "getdents64", "getcwd", "chdir", "fchdir", "mkdir", "mkdirat",
    "mknod", "mknodat", "rmdir", "rename", "renameat", "renameat2", "link", "linkat", "symlink",
    "symlinkat", "unlink", "unlinkat", "chmod", "fchmod", "fchmodat", "fchmodat2", "chown",
    "chown32", "fchown", "fchown32", "fchownat", "lchown", "lchown32", "umask", "utime", "utimes",
    "utimensat", "utimensat_time64", "futimesat", "name_to_handle_at", "getxattr", "lgetxattr",
    "fgetxattr", "getxattrat", "listxattr", "llistxattr", "flistxattr", "listxattrat", "setxattr",
    "lsetxattr", "fsetxattr", "setxattrat", "removexattr", "lremovexattr", "fremovexattr",
    "removexattrat", NULL,
};

static const char *const sys_events[] = {
    "select", "_newselect", "pselect6", "pselect6_time64", "poll", "ppoll", "ppoll_time64",
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait", "epoll_wait_old",
    "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "signalfd", "signalfd4", "timerfd_create",
    "timerfd_settime", "timerfd_settime64", "timerfd_gettime", "timerfd_gettime64", "inotify_init",
    "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "fanotify_mark", "io_setup",
    "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
    NULL,
};

static const char *const sys_memory[] = {
    "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync", "mlock",
    "mlock2", "mlockall", "munlock", "munlockall", "remap_file_pages", "membarrier", "memfd_create",
    "memfd_secret", "pkey_alloc", "pkey_free", "pkey_mprotect", "map_shadow_stack", "mseal", NULL,
};

static const char *const sys_process[] = {
    "execve", "execveat", "exit", "exit_group", "fork", "vfork", "wait4", "waitid", "waitpid",
    "getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
    "getpriority", "setpriority", "sched_yield", "sched_getaffinity", "sched_setaffinity",
    "sched_getattr", "sched_setattr", "sched_getparam", "sched_setparam", "sched_getscheduler",
    "sched_setscheduler", "sched_get_priority_max", "sched_get_priority_min",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "prctl", "set_tid_address",
    "set_robust_list", "get_robust_list", "rseq", "restart_syscall", "getrusage", "getrlimit",
    "setrlimit", "prlimit64", "ugetrlimit", "times", "uname", "sysinfo", "getcpu", "getrandom",
    "capget", "capset", "ioprio_get", "ioprio_set", "pidfd_open", "pidfd_send_signal",
    "process_mrelease", "seccomp", "landlock_create_ruleset", "landlock_add_rule",
    "landlock_restrict_self", "get_thread_area", "set_thread_area", "futex", "futex_time64",
    "futex_waitv", "futex_wait", "futex_wake", "futex_requeue", "kill", "tkill", "tgkill",
    "listmount", "statmount", "uretprobe", "riscv_hwprobe",
    /* Other processes of the same user only, as on the host (Linux >= 4.8
     * checks seccomp after ptrace, so a tracer cannot lift the filter). */
    "ptrace", "process_vm_readv", "process_vm_writev", NULL,
};

/* Changing ids needs CAP_SETUID/CAP_SETGID, which the kernel checks. */
static const char *const sys_ids[] = {
    "getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid", "getegid32",
    "getresuid", "getresuid32", "getresgid", "getresgid32", "getgroups", "getgroups32", "setuid",
    "setuid32", "setgid", "setgid32", "setreuid", "setreuid32", "setregid", "setregid32",
    "setresuid", "setresuid32", "setresgid", "setresgid32", "setgroups", "setgroups32", "setfsuid",
    "setfsuid32", "setfsgid", "setfsgid32", NULL,
};

static const char *const sys_signals_time[] = {
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend",
    "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
    "sigaltstack", "sigreturn", "sigprocmask", "pause", "alarm", "time", "gettimeofday",
    "clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64", "clock_nanosleep",
    "clock_nanosleep_time64", "nanosleep", "getitimer", "setitimer", "timer_create", "timer_delete",
    "timer_settime", "timer_settime64", "timer_gettime", "timer_gettime64", "timer_getoverrun",
    /* reading the clock state; setting it needs CAP_SYS_TIME */
    "adjtimex", "clock_adjtime", "clock_adjtime64", NULL,
};

/* socket(2) itself is allowed per address family below.  socketcall(2)
 * (32-bit x86) hides its arguments behind a pointer and cannot be filtered. */
static const char *const sys_net_ipc[] = {
    "socketcall", "socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname",
    "getpeername", "getsockopt", "setsockopt", "send", "sendto", "sendmsg", "sendmmsg", "recv",
    "recvfrom", "recvmsg", "recvmmsg", "recvmmsg_time64", "shutdown", "ipc", "msgget", "msgsnd",
    "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semtimedop_time64", "semctl", "shmget",
    "shmat", "shmdt", "shmctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedsend_time64",
    "mq_timedreceive", "mq_timedreceive_time64", "mq_notify", "mq_getsetattr", NULL,
};

/* ---- per architecture */

static const char *const sys_x86[] = {"arch_prctl", "modify_ldt", NULL};
static const char *const sys_arm[] = {
    "arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush",
    "set_tls", NULL,
};
static const char *const sys_ppc[] = {"sync_file_range2", "swapcontext", NULL};
static const char *const sys_s390[] = {
    "s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr", NULL,
};
static const char *const sys_riscv[] = {"riscv_flush_icache", NULL};

/* ---- unlocked by a capability */

static const char *const sys_admin[] = {
    "mount", "umount", "umount2", "mount_setattr", "move_mount", "open_tree", "fsopen", "fsconfig",
    "fsmount", "fspick", "unshare", "setns", "clone", "clone3", "sethostname", "setdomainname",
    "bpf", "perf_event_open", "fanotify_init", "lookup_dcookie", "quotactl", "quotactl_fd",
    "syslog", "lsm_get_self_attr", "lsm_set_self_attr", "lsm_list_modules", NULL,
};
static const char *const sys_chroot[] = {"chroot", NULL};
static const char *const sys_boot[] = {"reboot", NULL};
static const char *const sys_module[] = {"init_module", "finit_module", "delete_module", NULL};
static const char *const sys_pacct[] = {"acct", NULL};
static const char *const sys_ptrace[] = {"kcmp", "pidfd_getfd", "process_madvise", NULL};
static const char *const sys_rawio[] = {"iopl", "ioperm", NULL};
static const char *const sys_time[] = {
    "settimeofday", "stime", "clock_settime", "clock_settime64", NULL,
};
static const char *const sys_tty[] = {"vhangup", NULL};
static const char *const sys_nice[] = {
    "get_mempolicy", "set_mempolicy", "mbind", "set_mempolicy_home_node", NULL,
};
static const char *const sys_syslog[] = {"syslog", NULL};
static const char *const sys_bpf[] = {"bpf", NULL};
static const char *const sys_perfmon[] = {"perf_event_open", NULL};
static const char *const sys_dac_search[] = {"open_by_handle_at", NULL};

/* ---- allowed for some arguments only */

static const char *const sys_socket[] = {"socket", NULL};
static const char *const sys_personality[] = {"personality", NULL};
static const char *const sys_clone[] = {"clone", NULL};
static const char *const sys_clone3[] = {"clone3", NULL};

/* clang-format on */

struct seccomp_arg {
  unsigned index;
  uint64_t value, value_two;
  const char *op;
};

/* Every address family but AF_ALG (the kernel crypto API, a large attack
 * surface nothing in a container needs) and AF_VSOCK (host <-> VM sockets,
 * not confined by network namespaces). */
static const struct seccomp_arg socket_below_alg = {0, AF_ALG, 0, "SCMP_CMP_LT"};
static const struct seccomp_arg socket_between = {0, AF_ALG + 1, 0, "SCMP_CMP_EQ"};
static const struct seccomp_arg socket_above_vsock = {0, AF_VSOCK, 0, "SCMP_CMP_GT"};
_Static_assert(AF_ALG + 2 == AF_VSOCK, "one family between AF_ALG and AF_VSOCK");

/* Linux, 32-bit Linux, their uname-2.6 variants, and the query. */
static const struct seccomp_arg persona_linux = {0, PER_LINUX, 0, "SCMP_CMP_EQ"};
static const struct seccomp_arg persona_linux32 = {0, PER_LINUX32, 0, "SCMP_CMP_EQ"};
static const struct seccomp_arg persona_uname26 = {0, UNAME26, 0, "SCMP_CMP_EQ"};
static const struct seccomp_arg persona_linux32_uname26 = {0, PER_LINUX32 | UNAME26, 0,
                                                           "SCMP_CMP_EQ"};
static const struct seccomp_arg persona_query = {0, 0xffffffffu, 0, "SCMP_CMP_EQ"};

/* clone(2) that makes no namespace (threads, fork). */
static const struct seccomp_arg clone_no_namespaces = {CLONE_FLAGS_ARG, NAMESPACE_FLAGS, 0,
                                                       "SCMP_CMP_MASKED_EQ"};

struct seccomp_rule {
  const char *const *names;
  int errno_ret;                 /* 0: allow, else fail with this errno */
  const struct seccomp_arg *arg; /* allowed only with this argument, or NULL */
  unsigned arches;               /* only on these families; 0 = everywhere */
  const char *if_cap;            /* only when the container has this capability */
  const char *unless_cap;        /* only when it does not */
};

static const struct seccomp_rule rules[] = {
    {sys_file_io},
    {sys_file_meta},
    {sys_events},
    {sys_memory},
    {sys_process},
    {sys_ids},
    {sys_signals_time},
    {sys_net_ipc},
    {sys_socket, .arg = &socket_below_alg},
    {sys_socket, .arg = &socket_between},
    {sys_socket, .arg = &socket_above_vsock},
    {sys_personality, .arg = &persona_linux},
    {sys_personality, .arg = &persona_linux32},
    {sys_personality, .arg = &persona_uname26},
    {sys_personality, .arg = &persona_linux32_uname26},
    {sys_personality, .arg = &persona_query},
    {sys_x86, .arches = BUNDLE_ARCH_X86},
    {sys_arm, .arches = BUNDLE_ARCH_ARM},
    {sys_ppc, .arches = BUNDLE_ARCH_PPC},
    {sys_s390, .arches = BUNDLE_ARCH_S390},
    {sys_riscv, .arches = BUNDLE_ARCH_RISCV},
    {sys_admin, .if_cap = "CAP_SYS_ADMIN"},
    {sys_clone, .arg = &clone_no_namespaces, .unless_cap = "CAP_SYS_ADMIN"},
    {sys_clone3, .errno_ret = ENOSYS, .unless_cap = "CAP_SYS_ADMIN"},
    {sys_chroot, .if_cap = "CAP_SYS_CHROOT"},
    {sys_boot, .if_cap = "CAP_SYS_BOOT"},
    {sys_module, .if_cap = "CAP_SYS_MODULE"},
    {sys_pacct, .if_cap = "CAP_SYS_PACCT"},
    {sys_ptrace, .if_cap = "CAP_SYS_PTRACE"},
    {sys_rawio, .if_cap = "CAP_SYS_RAWIO"},
    {sys_time, .if_cap = "CAP_SYS_TIME"},
    {sys_tty, .if_cap = "CAP_SYS_TTY_CONFIG"},
    {sys_nice, .if_cap = "CAP_SYS_NICE"},
    {sys_syslog, .if_cap = "CAP_SYSLOG"},
    {sys_bpf, .if_cap = "CAP_BPF"},
    {sys_perfmon, .if_cap = "CAP_PERFMON"},
    {sys_dac_search, .if_cap = "CAP_DAC_READ_SEARCH"},
};

static bool has_cap(const char *const *caps, const char *cap)
{
  for (size_t i = 0; caps != NULL && caps[i] != NULL; i++)
    if (strcmp(caps[i], cap) == 0)
      return true;
  return false;
}

static bool applies(const struct seccomp_rule *r, const char *const *caps)
{
  if (r->arches != 0 && (r->arches & bundle_host_arch()->family) == 0)
    return false;
  if (r->if_cap != NULL && !has_cap(caps, r->if_cap))
    return false;
  if (r->unless_cap != NULL && has_cap(caps, r->unless_cap))
    return false;
  return true;
}

static json_t *rule_json(const struct seccomp_rule *r)
{
  json_t *o = json_pack("{s:o, s:s}", "names", bundle_json_strv(r->names), "action",
                        r->errno_ret ? "SCMP_ACT_ERRNO" : "SCMP_ACT_ALLOW");
  if (o == NULL)
    return NULL;
  if (r->errno_ret && json_object_set_new(o, "errnoRet", json_integer(r->errno_ret)) < 0)
    goto fail;
  if (r->arg != NULL) {
    json_t *args = json_pack("[{s:I, s:I, s:I, s:s}]", "index", (json_int_t)r->arg->index, "value",
                             (json_int_t)r->arg->value, "valueTwo", (json_int_t)r->arg->value_two,
                             "op", r->arg->op);
    if (json_object_set_new(o, "args", args) < 0)
      goto fail;
  }
  return o;
fail:
  json_decref(o);
  return NULL;
}

json_t *bundle_seccomp_profile(const char *const *caps)
{
  json_auto_t *profile = json_pack("{s:s, s:i}", "defaultAction", "SCMP_ACT_ERRNO",
                                   "defaultErrnoRet", BUNDLE_SECCOMP_DEFAULT_ERRNO);
  if (profile == NULL)
    return NULL;
  const char *const *host_arches = bundle_host_arch()->seccomp_arches;
  if (host_arches[0] != NULL &&
      json_object_set_new(profile, "architectures", bundle_json_strv(host_arches)) < 0)
    return NULL;
  json_t *syscalls = json_array();
  if (json_object_set_new(profile, "syscalls", syscalls) < 0)
    return NULL;
  for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
    if (applies(&rules[i], caps) && json_array_append_new(syscalls, rule_json(&rules[i])) < 0)
      return NULL;
  json_t *ret = profile;
  profile = NULL;
  return ret;
}
