/* SPDX-License-Identifier: Apache-2.0 */
/* Scope-bound owners for plain C resources.  Hand ownership on with
 * steal_fd()/steal_ptr(). */
#ifndef SIFOCI_CLEANUP_H
#define SIFOCI_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static inline void cleanup_free_fn(void *p)
{
  free(*(void **)p);
}
static inline void cleanup_close_fn(int *fd)
{
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
}
static inline void cleanup_fclose_fn(FILE **f)
{
  if (*f != NULL)
    fclose(*f);
}
static inline void cleanup_dir_fn(DIR **d)
{
  if (*d != NULL)
    closedir(*d);
}
/* A child still alive on early return is killed and reaped. */
static inline void cleanup_pid_fn(pid_t *pid)
{
  if (*pid > 0) {
    int saved = errno;
    kill(*pid, SIGKILL);
    while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
      ;
    errno = saved;
  }
}
static inline void cleanup_strv_fn(char ***v)
{
  if (*v == NULL)
    return;
  for (char **p = *v; *p != NULL; p++)
    free(*p);
  free(*v);
}

#define cleanup_free __attribute__((cleanup(cleanup_free_fn)))
#define cleanup_close __attribute__((cleanup(cleanup_close_fn)))
#define cleanup_fclose __attribute__((cleanup(cleanup_fclose_fn)))
#define cleanup_dir __attribute__((cleanup(cleanup_dir_fn)))
#define cleanup_pid __attribute__((cleanup(cleanup_pid_fn)))
#define cleanup_strv __attribute__((cleanup(cleanup_strv_fn)))

static inline int steal_fd(int *fd)
{
  int r = *fd;
  *fd = -1;
  return r;
}

static inline void *steal_ptr_impl(void *pp)
{
  void **p = pp;
  void *r = *p;
  *p = NULL;
  return r;
}
#define steal_ptr(pp) steal_ptr_impl(pp)

static inline pid_t steal_pid(pid_t *pid)
{
  pid_t r = *pid;
  *pid = -1;
  return r;
}

#endif
