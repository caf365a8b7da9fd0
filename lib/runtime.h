/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runtime adapter: the only place that knows how runc and crun are
 * invoked and how they differ, used by oci, oci-runc and oci-monitor alike.
 * rt-find.c finds the runtime and tells runc from crun, rt-argv.c builds
 * every command line, rt-message.c reads what the runtime said.  Nothing
 * here executes, so tests/unit/lib/test-rt-argv.c covers it all.
 */
#ifndef SIFOCI_RUNTIME_H
#define SIFOCI_RUNTIME_H

#include <jansson.h>
#include <stdbool.h>

#include "argv.h"
#include "error.h"

enum rt_kind {
  RT_RUNC, /* runc, or an unknown runtime: runc's CLI is the de facto standard */
  RT_CRUN,
  RT_KIND_MAX,
};

struct rt_runtime {
  enum rt_kind kind;
  char *name; /* "runc", "crun", or the basename of a path */
  char *path; /* absolute */
};

/* SPEC is "runc", "crun", another name looked up in PATH (and the sbin
 * directories root's PATH may lack), or a path.  The kind is that of the
 * file the name resolves to, links followed. */
int rt_resolve(const char *spec, struct rt_runtime *ret, oci_error **err);
/* The runtime recorded in a container's state.json: no lookup, but it must
 * still be an executable. */
int rt_from_record(const char *name, const char *path, struct rt_runtime *ret, oci_error **err);
enum rt_kind rt_kind_of(const char *path);
void rt_clear(struct rt_runtime *rt);
static inline void rt_clearp(struct rt_runtime *rt)
{
  rt_clear(rt);
}
#define cleanup_rt __attribute__((cleanup(rt_clearp)))

/* One call's context: the container's private runtime root (ROOT/ID/runtime)
 * and the runtime log (ROOT/ID/runtime.log, or NULL). */
struct rt_call {
  const struct rt_runtime *rt;
  char *const *globals; /* more global options, before the verb; may be NULL */
  const char *state_root;
  const char *log_path;
  bool log_json; /* --log-format json, for a log we parse */
  const char *id;
};

enum rt_op {
  RT_OP_START,
  RT_OP_STATE,
  RT_OP_PAUSE,
  RT_OP_RESUME,
  RT_OP_DELETE,
  RT_OP_DELETE_FORCE,
  RT_OP_MAX,
};

struct rt_exec_opts {
  bool tty, detach;
  char **env;        /* K=V, NULL-terminated, may be NULL */
  char **config_env; /* the container's process.env (config.json), may be NULL */
  const char *cwd;   /* may be NULL */
  const char *user;  /* U[:G], may be NULL */
  char **args;       /* command and arguments, NULL-terminated */
};

int rt_argv_op(const struct rt_call *c, enum rt_op op, struct argv_builder *b, oci_error **err);
int rt_argv_kill(const struct rt_call *c, int signum, struct argv_builder *b, oci_error **err);
int rt_argv_exec(const struct rt_call *c, const struct rt_exec_opts *o, struct argv_builder *b,
                 oci_error **err);
/* RESOURCES is a file, or "-" for the runtime's stdin (runc and crun both
 * read `-r -` from stdin). */
int rt_argv_update(const struct rt_call *c, const char *resources, struct argv_builder *b,
                   oci_error **err);
/* `create --bundle B --pid-file P [--console-socket S] ID`: CONSOLE_SOCKET
 * NULL for a container without a terminal. */
int rt_argv_create(const struct rt_call *c, const char *bundle, const char *pid_file,
                   const char *console_socket, struct argv_builder *b, oci_error **err);
/* `run --detach --bundle B --pid-file P [--console-socket S] ID`: create and
 * start in one runtime process (`oci run`); it returns once the container's
 * process runs, and the container stays until `delete`. */
int rt_argv_run(const struct rt_call *c, const char *bundle, const char *pid_file,
                const char *console_socket, struct argv_builder *b, oci_error **err);

/* "TERM", "SIGTERM", "term", "15", "RTMIN+2", "SIGRTMAX-1" -> number.
 * Returns 0 or a usage-style error. */
int rt_parse_signal(const char *text, int *ret_signum, oci_error **err);

/* The message in what a runtime printed (stderr, or its --log): the last
 * error-level record, else the last non-empty line; a logrus text record
 * (`time=... level=error msg="..."`) or a JSON one ({"level", "msg"}) is
 * reduced to its message.  One line, allocated; NULL when there is
 * nothing. */
char *rt_error_message(const char *text, size_t len);
/* The same, error-level records only: NULL when there is none. */
char *rt_log_error_message(const char *text, size_t len);

/* `exec` outcome: STATUS is what the runtime exited with, STDERR_MSG the
 * last line it (or the command) printed, LOG_MSG an error record from the
 * runtime's log.  Returns the status `oci exec` should exit with: 127 not
 * found, 126 not executable, 125 other runtime failure, else STATUS. */
int rt_exec_status(enum rt_kind kind, int status, const char *stderr_msg, const char *log_msg);

/* Bring a runtime's state JSON to one shape (crun gives rootfs relative to
 * the bundle; runc gives it absolute). */
void rt_normalize_state(enum rt_kind kind, json_t *state);

/* Does a runtime error message mean "no such container"? */
bool rt_says_not_found(enum rt_kind kind, const char *msg);

#endif
