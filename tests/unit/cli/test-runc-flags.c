/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rp_crun_argv, the runc -> crun command-line rewrite of oci-runc, as a
 * table: each row is a runc command line and either the exact crun argv
 * it becomes or the refusal (its kind and the start of its message).
 * Rows cover every way runc spells a flag (Go's: -x, --x, =value, bools
 * only with =), flags after the positionals, what crun takes as it is,
 * what it is not given (dropped) and what it cannot do (refused).
 */
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "runc-flags.h"
#include "tap.h"

#define CRUN "/usr/bin/crun"

struct row {
  const char *runc; /* after argv[0], split at spaces */
  const char *crun; /* the crun argv joined by spaces, or NULL: refused */
  enum oci_error_kind kind;
  const char *error; /* refused: how the message starts */
};

static const struct row rows[] = {
    /* nothing to rewrite but the program */
    {"", CRUN},
    {"start id", CRUN " start id"},
    {"state id", CRUN " state id"},
    {"pause id", CRUN " pause id"},
    {"resume id", CRUN " resume id"},
    /* global flags, every spelling, each to crun's --name VALUE */
    {"--root /r --log /l --log-format json create -b /b id",
     CRUN " --root /r --log /l --log-format json create --bundle /b id"},
    {"-root=/r start id", CRUN " --root /r start id"},
    {"--root=/r -log /l start id", CRUN " --root /r --log /l start id"},
    {"--debug start id", CRUN " --debug start id"},
    {"--debug=false start id", CRUN " start id"},
    {"--debug=1 --systemd-cgroup=t start id", CRUN " --debug --systemd-cgroup start id"},
    {"--rootless true start id", CRUN " --rootless true start id"},
    {"--version", CRUN " --version"},
    {"-v", CRUN " --version"},
    {"-- start id", CRUN " start id"},
    /* create and run: flags before or after the ID, crun wants them first */
    {"create --bundle /b id", CRUN " create --bundle /b id"},
    {"create -b /b id", CRUN " create --bundle /b id"},
    {"create -bundle=/b id", CRUN " create --bundle /b id"},
    {"create id --bundle /b", CRUN " create --bundle /b id"},
    {"create --console-socket /s --pid-file /p -b /b id",
     CRUN " create --console-socket /s --pid-file /p --bundle /b id"},
    {"create --no-pivot --no-new-keyring --preserve-fds 2 -b /b id",
     CRUN " create --no-pivot --no-new-keyring --preserve-fds 2 --bundle /b id"},
    {"create --no-pivot=false -b /b id", CRUN " create --bundle /b id"},
    {"create -h", CRUN " create --help"},
    {"run -d -b /b id", CRUN " run --detach --bundle /b id"},
    {"run --no-subreaper -b /b id", CRUN " run --no-subreaper --bundle /b id"},
    {"run --keep=false -b /b id", CRUN " run --bundle /b id"},
    /* exec: everything after the ID is the command's */
    {"exec -t id sh", CRUN " exec --tty id sh"},
    {"exec id sh -c true", CRUN " exec id sh -c true"},
    {"exec id -t ls", CRUN " exec id -t ls"},
    {"exec -e A=1 --env B=2 -u 0:0 --cwd /tmp id ls",
     CRUN " exec --env A=1 --env B=2 --user 0:0 --cwd /tmp id ls"},
    {"exec --detach --pid-file /p -p /proc.json id",
     CRUN " exec --detach --pid-file /p --process /proc.json id"},
    {"exec --cap CAP_SYS_ADMIN -c CAP_NET_ADMIN --no-new-privs id true",
     CRUN " exec --cap CAP_SYS_ADMIN --cap CAP_NET_ADMIN --no-new-privs id true"},
    {"exec --process-label l --apparmor a --cgroup c id true",
     CRUN " exec --process-label l --apparmor a --cgroup c id true"},
    /* kill: crun takes signal names in upper case only */
    {"kill id kill", CRUN " kill id KILL"},
    {"kill id sigterm", CRUN " kill id SIGTERM"},
    {"kill id 9", CRUN " kill id 9"},
    {"kill -a id TERM", CRUN " kill --all id TERM"},
    {"kill id --all", CRUN " kill --all id"},
    /* the others */
    {"delete -f id", CRUN " delete --force id"},
    {"delete --force=true id", CRUN " delete --force id"},
    {"delete -- -weird", CRUN " delete -- -weird"},
    {"list -q", CRUN " list --quiet"},
    {"list --format json", CRUN " list --format json"},
    {"ps -f json id", CRUN " ps --format json id"},
    {"ps id -ef", CRUN " ps id -ef"},
    {"update -r - id", CRUN " update --resources - id"},
    {"update --memory 100M --pids-limit=10 id", CRUN " update --memory 100M --pids-limit 10 id"},
    {"spec --rootless -b /b", CRUN " spec --rootless --bundle /b"},
    /* help: argp spells it --help, after the verb when there is one */
    {"help", CRUN " --help"},
    {"--help", CRUN " --help"},
    {"help create", CRUN " create --help"},
    {"help events", CRUN " --help"},
    /* dropped: meaningless for crun */
    {"--criu /usr/sbin/criu start id", CRUN " start id"},
    {"exec --ignore-paused id true", CRUN " exec id true"},
    /* refused: crun cannot do it */
    {"run --keep -b /b id", NULL, OCI_ERR_FAILED,
     "run --keep: not supported with crun: crun's run always deletes"},
    {"exec --additional-gids 10 id true", NULL, OCI_ERR_FAILED,
     "exec --additional-gids: not supported with crun: crun's exec has no such flag"},
    {"exec -g 10 id true", NULL, OCI_ERR_FAILED, "exec --additional-gids: not supported with crun"},
    {"update --l3-cache-schema x id", NULL, OCI_ERR_FAILED,
     "update --l3-cache-schema: not supported with crun: crun does not manage Intel RDT"},
    {"update --mem-bw-schema=x id", NULL, OCI_ERR_FAILED,
     "update --mem-bw-schema: not supported with crun: crun does not manage Intel RDT"},
    {"checkpoint id", NULL, OCI_ERR_FAILED, "checkpoint: not supported with crun: crun here is"},
    {"restore id", NULL, OCI_ERR_FAILED, "restore: not supported with crun: crun here is"},
    {"events id", NULL, OCI_ERR_FAILED, "events: not supported with crun: crun has no events"},
    {"features", NULL, OCI_ERR_FAILED, "features: not supported with crun: crun 1.8 has no"},
    /* refused as runc itself would refuse them */
    {"nosuch id", NULL, OCI_ERR_NOT_FOUND, "No help topic for 'nosuch'"},
    {"create --bogus id", NULL, OCI_ERR_FAILED, "flag provided but not defined: -bogus"},
    {"--keep run id", NULL, OCI_ERR_FAILED, "flag provided but not defined: -keep"},
    {"create --bundle", NULL, OCI_ERR_FAILED, "flag needs an argument: -bundle"},
    {"delete --force=maybe id", NULL, OCI_ERR_FAILED,
     "invalid boolean value \"maybe\" for -force: parse error"},
    {"---x start id", NULL, OCI_ERR_FAILED, "bad flag syntax: ---x"},
};

/* "runc" + ROW split at spaces, each a writable copy (kill upcases its
 * signal in place). */
static char **split(const char *line, int *ret_argc)
{
  size_t n = 2;
  for (const char *p = line; *p; p++)
    n += *p == ' ';
  char **v = calloc(n + 1, sizeof(char *));
  int argc = 0;
  v[argc++] = strdup("runc");
  cleanup_free char *copy = strdup(line);
  for (char *save = NULL, *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
    v[argc++] = strdup(t);
  *ret_argc = argc;
  return v;
}

static char *join(const char **v)
{
  size_t len = 1;
  for (const char **p = v; *p; p++)
    len += strlen(*p) + 1;
  char *out = calloc(1, len);
  for (const char **p = v; *p; p++) {
    if (p != v)
      strcat(out, " ");
    strcat(out, *p);
  }
  return out;
}

static void check_row(const struct row *r)
{
  int argc;
  cleanup_strv char **argv = split(r->runc, &argc);
  cleanup_free const char **out = NULL;
  cleanup_error oci_error *e = NULL;
  int rc = rp_crun_argv(CRUN, argc, argv, &out, &e);
  if (r->crun != NULL) {
    cleanup_free char *got = rc == 0 ? join(out) : oci_error_format(e);
    TAP_IS_STR(got, r->crun, "runc %s -> %s", r->runc, r->crun);
    return;
  }
  cleanup_free char *msg = rc < 0 ? oci_error_format(e) : join(out);
  bool refused = rc < 0 && e && e->kind == r->kind && strncmp(msg, r->error, strlen(r->error)) == 0;
  TAP_OK(refused, "runc %s: refused, '%s...'", r->runc, r->error);
  if (!refused)
    printf("#   got %s '%s' (kind %d)\n", rc < 0 ? "error" : "argv", msg, e ? (int)e->kind : -1);
}

int main(void)
{
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
    check_row(&rows[i]);
  return tap_done();
}
