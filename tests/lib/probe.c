/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe: a static helper put into test images (make-fixtures.sh) to ask the
 * kernel things busybox cannot: which syscalls a seccomp profile lets
 * through, whether a setuid bit took effect, whether a device node opens.
 * Prints one word (or the ids) on stdout: "ok", or the errno name.
 *
 *   probe ids              "ruid euid"
 *   probe open PATH        open(PATH, O_RDONLY)
 *   probe SYSCALL          one of the names in `probes` below
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#define KEYCTL_GET_KEYRING_ID 0
#define KEY_SPEC_SESSION_KEYRING -3

static int report(long r)
{
  if (r >= 0) {
    puts("ok");
    return 0;
  }
  const char *name = strerrorname_np(errno);
  puts(name ? name : "E?");
  return 1;
}

static long do_socket(int family)
{
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0)
    close(fd);
  return fd;
}

static long p_unshare_user(void)
{
  return unshare(CLONE_NEWUSER);
}
static long p_unshare_uts(void)
{
  return unshare(CLONE_NEWUTS);
}
static long p_keyctl(void)
{
  return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
}
static long p_clone3(void)
{
  return syscall(SYS_clone3, NULL, 0);
}
static long p_personality_norandom(void)
{
  return personality(ADDR_NO_RANDOMIZE);
}
static long p_personality_linux32(void)
{
  return personality(PER_LINUX32);
}
static long p_socket_inet(void)
{
  return do_socket(AF_INET);
}
static long p_socket_unix(void)
{
  return do_socket(AF_UNIX);
}
static long p_socket_vsock(void)
{
  return do_socket(AF_VSOCK);
}
static long p_socket_alg(void)
{
  return do_socket(AF_ALG);
}
static long p_chroot(void)
{
  return chroot("/");
}
static long p_userfaultfd(void)
{
  return syscall(SYS_userfaultfd, 0);
}

static const struct {
  const char *name;
  long (*fn)(void);
} probes[] = {
    {"unshare-user", p_unshare_user},
    {"unshare-uts", p_unshare_uts},
    {"keyctl", p_keyctl},
    {"clone3", p_clone3},
    {"personality-norandom", p_personality_norandom},
    {"personality-linux32", p_personality_linux32},
    {"socket-inet", p_socket_inet},
    {"socket-unix", p_socket_unix},
    {"socket-vsock", p_socket_vsock},
    {"socket-alg", p_socket_alg},
    {"chroot", p_chroot},
    {"userfaultfd", p_userfaultfd},
};

int main(int argc, char **argv)
{
  if (argc == 2 && strcmp(argv[1], "ids") == 0) {
    printf("%d %d\n", (int)getuid(), (int)geteuid());
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "open") == 0) {
    int fd = open(argv[2], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    return report(fd);
  }
  for (size_t i = 0; argc == 2 && i < sizeof(probes) / sizeof(probes[0]); i++)
    if (strcmp(argv[1], probes[i].name) == 0) {
      errno = 0;
      return report(probes[i].fn());
    }
  fprintf(stderr, "usage: probe ids | open PATH | SYSCALL\n");
  return 2;
}
