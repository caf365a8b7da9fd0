/* SPDX-License-Identifier: Apache-2.0 */
/* oci run: the monitor creates and starts the container in one runtime
 * call (`run --detach`) with us already attached, then we wait; the
 * container is removed after its exit and its status is ours.  -d: the
 * same call, no attach.  From a bundle (-b BUNDLE ID) or from an image
 * (IMAGE [ARGS...], ephemeral.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach-client.h"
#include "attach-status.h"
#include "cleanup.h"
#include "cmd-create.h"
#include "ephemeral.h"
#include "mount-flags.h"
#include "monitor-launch.h"
#include "rootless.h"
#include "runtime.h"
#include "signals.h"
#include "terminal.h"

#define RUN_MONITOR_EXIT_WAIT_MS 10000

enum { OPT_DETACH_KEYS = CLI_OPT_LONG + 10, OPT_NAME };

static const struct cli_option run_options[] = {
    {"detach", 'd', NULL, "start in the background and return"},
    {"interactive", 'i', NULL, "accepted and ignored: stdin is always forwarded"},
    {"detach-keys", OPT_DETACH_KEYS, "SEQ", "detach sequence (default ctrl-p,ctrl-q; '' for none)"},
    {"name", OPT_NAME, "ID",
     "with IMAGE: the container's ID (default: the image's name and a\n"
     "random suffix, said on stderr)"},
    {NULL, 0, NULL, NULL},
};

static int run_connected(void *data, oci_error **err)
{
  struct container *ct = data;
  (void)err;
  /* running and recorded: other oci commands (kill, exec, state) may act
   * on it now */
  ctr_unlock(ct->c);
  return 0;
}

/* The runtime could not find or execute process.args[0]: 127 / 126, as
 * `oci exec` and podman say (the runtime's create tells, before start). */
static void classify_create_failure(const char *runtime, oci_error *e)
{
  struct rt_runtime rt = {0};
  if (e == NULL || e->kind != OCI_ERR_FAILED || rt_resolve(runtime, &rt, NULL) < 0)
    return;
  int status = rt_exec_status(rt.kind, 1, e->msg, NULL);
  rt_clear(&rt);
  if (status == 127)
    e->kind = OCI_ERR_NOT_FOUND;
  else if (status == 126)
    e->kind = OCI_ERR_NOT_EXECUTABLE;
}

/* Undo a run that failed before its container ran: the container, its
 * monitor, its state dir. */
static void run_cleanup(struct container *ct)
{
  cleanup_error oci_error *e = NULL;
  if (ctr_lock(ct->c, CTR_LOCK_EXCLUSIVE, &e) == 0)
    container_destroy(ct, true, &e);
}

/* Our stdout or stderr (FD) for the monitor to write the container's
 * output to itself, one copy less than frames through the socket: a pipe
 * opened anew, nonblocking (so the description our shell shares stays as
 * it was), or a regular file as it is.  -1 for anything else (a terminal
 * keeps the frames, and our raw mode and detach keys with them). */
static int run_direct_fd(int fd)
{
  struct stat st;
  if (fstat(fd, &st) < 0)
    return -1;
  if (S_ISREG(st.st_mode))
    return fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (!S_ISFIFO(st.st_mode))
    return -1;
  char path[32];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  return open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
}

/* The foreground run's connection, made before the monitor starts: its
 * end goes to the monitor (O), with our stdout and stderr where it can
 * write them directly; ours is RET_SOCK.  The size of our terminal goes
 * into the container's config, since the process starts before a RESIZE
 * could reach its pty. */
static int run_prepare_attach(struct container_create_opts *o, int *ret_sock, oci_error **err)
{
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
    return oci_error_set(err, errno, "run '%s': socketpair", o->id);
  *ret_sock = sp[0];
  o->with_attach_fd = true;
  o->attach_fd = sp[1];
  o->attach_out_fd[0] = run_direct_fd(1);
  o->attach_out_fd[1] = run_direct_fd(2);
  int tty = term_find_tty();
  uint16_t rows, cols;
  if (tty >= 0 && term_get_size(tty, &rows, &cols)) {
    o->console_rows = rows;
    o->console_cols = cols;
  }
  return 0;
}

/* After the create: the monitor has its copies. */
static void run_close_attach_fds(struct container_create_opts *o)
{
  if (!o->with_attach_fd)
    return;
  close(o->attach_fd);
  for (int i = 0; i < 2; i++)
    if (o->attach_out_fd[i] >= 0)
      close(o->attach_out_fd[i]);
}

static int run(struct container_create_opts *o, bool detach, struct attach_opts *ao,
               oci_error **err)
{
  cleanup_container struct container ct = {0};
  cleanup_close int sock = -1;
  pid_t pid;
  const char *note = rootless_mapping_note(); /* what a single-ID mapping limits */
  if (note != NULL)
    fprintf(stderr, "oci: %s\n", note);
  if (!detach && run_prepare_attach(o, &sock, err) < 0)
    return -1;
  int r = container_create(o, &ct, &pid, err);
  run_close_attach_fds(o);
  if (r < 0) {
    classify_create_failure(o->runtime, *err);
    return -1;
  }
  if (detach) {
    fprintf(stderr, "Container %s created with PID %ld\n", o->id, (long)pid);
    return 0;
  }
  cleanup_close int pidfd = (int)pidfd_open(pid, 0);
  pid_t mon = ctr_monitor_pid(ct.c);
  cleanup_close int monfd = mon > 0 ? (int)pidfd_open(mon, 0) : -1;
  ao->connected = run_connected;
  ao->data = &ct;
  ao->forward_pidfd = pidfd;
  ao->hold = true; /* we are its stdout: it waits for us, as for a pipe */
  ao->use_sock = true;
  ao->sock = steal_fd(&sock); /* the session's */
  struct attach_result res;
  if (attach_session(ct.c->dirfd, o->id, ao, &res, err) < 0) {
    run_cleanup(&ct);
    return -1;
  }
  /* In run mode the monitor removes the container after its exit.  Its
   * runtime delete is not waited for: to state and list the container is
   * gone already (ctr_run_is_leaving), and what would race it (a create
   * of the ID, delete, umount) waits for it.  A bundle made from an image
   * is: its mounts are for everyone to see, and go before we return. */
  if (res.how == ATTACH_EXITED && mon > 0 && o->maker != NULL)
    monitor_wait_exit(monfd, mon, RUN_MONITOR_EXIT_WAIT_MS);
  else if (res.how == ATTACH_EXITED)
    ctr_note_run_returned(ct.c);
  r = attach_status(&ct, o->id, &res, err);
  return r < 0 ? -1 : r;
}

static const char extra_args_hint[] =
    "the command comes from config.json (process.args); use 'oci exec ID CMD...' for another one "
    "in the running container, or 'oci run IMAGE CMD...'";

/* -b BUNDLE ID, the form that always was, or IMAGE [ARGS...]: the
 * bundle option among the options before the first operand, or anywhere
 * when that operand names nothing that exists (`oci run ID -b B`). */
static bool bundle_form(const struct cli_context *ctx, int argc, char **argv)
{
  bool seen = false;
  int i = cli_find_operand(ctx, argc, argv, 1, 'b', &seen);
  struct stat st;
  if (seen || i >= argc || stat(argv[i], &st) == 0)
    return seen;
  for (int j = i + 1; j < argc; j = cli_find_operand(ctx, argc, argv, j, 'b', &seen) + 1)
    ;
  return seen;
}

static int cmd_run(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  struct container_create_opts o = {0};
  struct cli_ephemeral e = {0};
  struct attach_opts ao = {0};
  const char *keys = NULL, *name = NULL;
  bool detach = false, from_bundle = bundle_form(ctx, argc, argv);
  int c, r = -1;
  /* a word after the ID is named before getopt trips on an option of its */
  if (from_bundle)
    cli_permute_options(ctx, 1, extra_args_hint);
  while ((c = cli_next_option(ctx, argc, argv, err)) > 0) {
    if (c == 'd')
      detach = true;
    else if (c == OPT_DETACH_KEYS)
      keys = optarg;
    else if (c == OPT_NAME)
      name = optarg;
    else if (!cli_create_option(c, optarg, &o) &&
             cli_mount_request_option(ctx, &e.req, c, optarg, err) < 0)
      goto out;
  }
  if (c < 0)
    goto out;
  if (from_bundle && (e.req.any || name)) {
    cli_usage_error(ctx, err, "%s needs an image: oci run [OPTIONS] IMAGE [ARGS...]",
                    name ? "--name" : "a mount option");
    goto out;
  }
  if (from_bundle && cli_create_finish(ctx, argc, argv, &o, extra_args_hint, err) < 0)
    goto out;
  if (!from_bundle) {
    if (cli_check_args(ctx, argc - optind, err) < 0)
      goto out;
    int first = optind + 1 + (optind + 1 < argc && strcmp(argv[optind + 1], "--") == 0);
    e.args = first < argc ? argv + first : NULL;
    e.n_args = first < argc ? (size_t)(argc - first) : 0;
    if (cli_ephemeral_prepare(ctx, &e, argv[optind], name, &o, err) < 0)
      goto out;
  }
  if (attach_parse_detach_keys(keys, &ao, err) < 0 ||
      cli_create_preflight(ctx, &o, !detach, err) < 0)
    goto out;
  o.run_mode = !detach;
  o.start = true;
  /* From here on the signals run forwards wait for the attach session to
   * pass them on (a ^C during the create aborts it: container_create). */
  sigset_t fwd, old;
  sigemptyset(&fwd);
  signals_add_forwarded(&fwd);
  sigprocmask(SIG_BLOCK, &fwd, &old);
  r = run(&o, detach, &ao, err);
  sigprocmask(SIG_SETMASK, &old, NULL);
out:
  cli_ephemeral_clear(&e);
  return r;
}

const struct cli_verb cli_verb_run = {
    .name = "run",
    .usage = "-b BUNDLE [OPTIONS] ID | [OPTIONS] [MOUNT OPTIONS] IMAGE [--] [ARGS...]",
    .summary = "create, start and attach to a container; remove it when it exits",
    .options = {cli_create_options, run_options, cli_mount_options, cli_mount_flags_mounts,
                cli_mount_flags_process, cli_mount_flags_privileges, cli_mount_flags_limits,
                cli_mount_flags_devices},
    .option_titles = {NULL, NULL, "Mount options (with IMAGE)", CLI_MOUNT_FLAG_TITLES},
    .min_args = 1,
    .max_args = -1,
    /* IMAGE's ARGS are the container's, options too (bundle_form: a
     * bundle's ID may have options after it, as it always could) */
    .flags = CLI_OPTS_END_AT_ID | CLI_RUN_STATUS,
    .handler = cmd_run,
};
