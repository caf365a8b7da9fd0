/* SPDX-License-Identifier: Apache-2.0 */
/* The runtime adapter without a runtime: argv for runc and crun, signal
 * names, error texts, exec statuses, state. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argv.h"
#include "runtime.h"
#include "tap.h"

static struct rt_runtime runc = {.kind = RT_RUNC, .name = "runc", .path = "/usr/sbin/runc"};
static struct rt_runtime crun = {.kind = RT_CRUN, .name = "crun", .path = "/usr/bin/crun"};

static char *joined(struct argv_builder *b)
{
  static char buf[1024];
  char *j = argv_join(b);
  snprintf(buf, sizeof(buf), "%s", j ? j : "(null)");
  free(j);
  argv_clear(b);
  return buf;
}

static void test_ops(void)
{
  struct argv_builder b = {0};
  struct rt_call c = {.rt = &runc,
                      .state_root = "/run/x/c1/runtime",
                      .log_path = "/run/x/c1/runtime.log",
                      .id = "c1"};
  rt_argv_op(&c, RT_OP_START, &b, NULL);
  TAP_IS_STR(joined(&b),
             "/usr/sbin/runc --root /run/x/c1/runtime --log /run/x/c1/runtime.log start c1",
             "runc start");
  rt_argv_op(&c, RT_OP_DELETE_FORCE, &b, NULL);
  TAP_IS_STR(
      joined(&b),
      "/usr/sbin/runc --root /run/x/c1/runtime --log /run/x/c1/runtime.log delete --force c1",
      "runc delete --force");
  c.rt = &crun;
  c.log_path = NULL;
  rt_argv_op(&c, RT_OP_PAUSE, &b, NULL);
  TAP_IS_STR(joined(&b), "/usr/bin/crun --root /run/x/c1/runtime pause c1", "crun pause, no log");
  rt_argv_op(&c, RT_OP_STATE, &b, NULL);
  TAP_IS_STR(joined(&b), "/usr/bin/crun --root /run/x/c1/runtime state c1", "crun state");
  TAP_OK(rt_argv_op(&c, RT_OP_MAX, &b, NULL) < 0, "unknown op refused");
  argv_clear(&b);

  c.rt = &runc;
  rt_argv_kill(&c, SIGTERM, &b, NULL);
  TAP_IS_STR(joined(&b), "/usr/sbin/runc --root /run/x/c1/runtime kill c1 15",
             "kill passes a number");
  rt_argv_update(&c, "-", &b, NULL);
  TAP_IS_STR(joined(&b), "/usr/sbin/runc --root /run/x/c1/runtime update --resources - c1",
             "update from stdin");
  c.rt = &crun;
  rt_argv_update(&c, "/tmp/r.json", &b, NULL);
  TAP_IS_STR(joined(&b), "/usr/bin/crun --root /run/x/c1/runtime update --resources /tmp/r.json c1",
             "crun update from a file");
}

/* create: the command line every container depends on, built by the
 * monitor through the adapter; and delete, plain and forced */
static void test_create_delete(void)
{
  struct argv_builder b = {0};
  char *globals[] = {"--systemd-cgroup", NULL};
  struct rt_call c = {.rt = &runc,
                      .state_root = "/run/x/c1/runtime",
                      .log_path = "/run/x/c1/runtime.log",
                      .id = "c1"};
  TAP_IS_INT(rt_argv_create(&c, "/run/x/c1/bundle", "/run/x/c1/container.pid", NULL, &b, NULL), 0,
             "create builds");
  TAP_IS_STR(joined(&b),
             "/usr/sbin/runc --root /run/x/c1/runtime --log /run/x/c1/runtime.log create --bundle "
             "/run/x/c1/bundle --pid-file /run/x/c1/container.pid c1",
             "runc create without a terminal: no console socket");
  c.rt = &crun;
  c.globals = globals;
  rt_argv_create(&c, "/b with space", "/p", "/tmp/sifoci-console.x/sock", &b, NULL);
  TAP_IS_STR(joined(&b),
             "/usr/bin/crun --systemd-cgroup --root /run/x/c1/runtime --log /run/x/c1/runtime.log "
             "create --bundle '/b with space' --pid-file /p --console-socket "
             "/tmp/sifoci-console.x/sock c1",
             "crun create with a terminal: extra globals first, the console socket, one "
             "argument per path");
  /* run: the same arguments, one runtime process for create + start */
  rt_argv_run(&c, "/b", "/p", "/tmp/sifoci-console.x/sock", &b, NULL);
  TAP_IS_STR(
      joined(&b),
      "/usr/bin/crun --systemd-cgroup --root /run/x/c1/runtime --log /run/x/c1/runtime.log "
      "run --detach --bundle /b --pid-file /p --console-socket /tmp/sifoci-console.x/sock c1",
      "crun run --detach with a terminal");
  c.rt = &runc;
  c.globals = NULL;
  TAP_IS_INT(rt_argv_run(&c, "/b", "/p", NULL, &b, NULL), 0, "run builds");
  TAP_IS_STR(joined(&b),
             "/usr/sbin/runc --root /run/x/c1/runtime --log /run/x/c1/runtime.log run --detach "
             "--bundle /b --pid-file /p c1",
             "runc run --detach without a terminal: no console socket");
  c.rt = &crun;
  c.log_path = NULL;
  rt_argv_op(&c, RT_OP_DELETE, &b, NULL);
  TAP_IS_STR(joined(&b), "/usr/bin/crun --root /run/x/c1/runtime delete c1", "crun delete");
  rt_argv_op(&c, RT_OP_DELETE_FORCE, &b, NULL);
  TAP_IS_STR(joined(&b), "/usr/bin/crun --root /run/x/c1/runtime delete --force c1",
             "crun delete --force");
}

/* runc or crun is decided by the file a name resolves to: a `runc` that is
 * a link to crun is crun, by name in PATH and by path alike */
static void test_resolve(void)
{
  char dir[] = "/tmp/sifoci-test-rt-XXXXXX";
  if (mkdtemp(dir) == NULL) {
    TAP_OK(false, "mkdtemp");
    return;
  }
  char crun_path[64], runc_link[64], real_runc[64];
  snprintf(crun_path, sizeof(crun_path), "%s/crun", dir);
  snprintf(runc_link, sizeof(runc_link), "%s/runc", dir);
  snprintf(real_runc, sizeof(real_runc), "%s/bin", dir);
  FILE *f = fopen(crun_path, "we");
  if (f)
    fclose(f);
  TAP_OK(chmod(crun_path, 0755) == 0 && symlink("crun", runc_link) == 0, "a crun and runc -> crun");
  char *old_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
  setenv("PATH", dir, 1);
  struct rt_runtime rt;
  oci_error *e = NULL;
  TAP_IS_INT(rt_resolve("runc", &rt, &e), 0, "'runc' found in PATH");
  TAP_IS_INT(rt.kind, RT_CRUN, "... and it is crun: crun's flags");
  TAP_IS_STR(rt.name, "runc", "... under the name it was found by");
  rt_clear(&rt);
  TAP_IS_INT(rt_resolve(runc_link, &rt, &e), 0, "the link by path");
  TAP_IS_INT(rt.kind, RT_CRUN, "... is crun too");
  rt_clear(&rt);
  /* a real runc: the same file under its own name */
  TAP_OK(mkdir(real_runc, 0755) == 0 && link(crun_path, strcat(real_runc, "/runc")) == 0,
         "a file named runc");
  TAP_IS_INT(rt_kind_of(real_runc), RT_RUNC, "a file named runc is runc");
  TAP_IS_INT(rt_resolve("nosuchruntime", &rt, &e), -1, "an unknown name is an error");
  TAP_OK(e && strstr(e->msg, "'nosuchruntime' not found") != NULL, "... naming it");
  oci_error_free(&e);
  if (old_path) {
    setenv("PATH", old_path, 1);
    free(old_path);
  }
  unlink(real_runc);
  *strrchr(real_runc, '/') = '\0';
  rmdir(real_runc);
  unlink(runc_link);
  unlink(crun_path);
  rmdir(dir);
}

static void test_exec(void)
{
  struct argv_builder b = {0};
  char *env[] = {"A=1", "B=two words", NULL};
  char *args[] = {"sh", "-c", "echo $A", NULL};
  struct rt_exec_opts o = {
      .tty = true, .env = env, .cwd = "/tmp", .user = "1000:100", .args = args};
  struct rt_call c = {
      .rt = &runc, .state_root = "/r", .log_path = "/l", .log_json = true, .id = "c1"};
  rt_argv_exec(&c, &o, &b, NULL);
  TAP_IS_STR(joined(&b),
             "/usr/sbin/runc --root /r --log /l --log-format json exec --tty --env A=1 --env "
             "'B=two words' "
             "--cwd /tmp --user 1000:100 c1 sh -c 'echo $A'",
             "runc exec with every option");
  c.rt = &crun;
  struct rt_exec_opts d = {.detach = true, .args = args};
  rt_argv_exec(&c, &d, &b, NULL);
  TAP_IS_STR(joined(&b),
             "/usr/bin/crun --root /r --log /l --log-format json exec --detach c1 sh -c 'echo $A'",
             "crun exec --detach: the command follows the ID, no '--' (crun would run it)");
  /* crun's --env replaces the environment, runc's adds to it */
  char *cenv[] = {"PATH=/bin:/usr/bin", "A=old", "TERM=xterm", NULL};
  char *uenv[] = {"A=new", NULL};
  struct rt_exec_opts e = {.env = uenv, .config_env = cenv, .args = args};
  rt_argv_exec(&c, &e, &b, NULL);
  TAP_IS_STR(joined(&b),
             "/usr/bin/crun --root /r --log /l --log-format json exec --env PATH=/bin:/usr/bin "
             "--env TERM=xterm --env A=new c1 sh -c 'echo $A'",
             "crun exec --env: the config's variables first, ours override");
  c.rt = &runc;
  rt_argv_exec(&c, &e, &b, NULL);
  TAP_IS_STR(
      joined(&b),
      "/usr/sbin/runc --root /r --log /l --log-format json exec --env A=new c1 sh -c 'echo $A'",
      "runc exec --env: only ours, runc merges");
  c.rt = &crun;
  e.env = NULL;
  rt_argv_exec(&c, &e, &b, NULL);
  TAP_IS_STR(joined(&b),
             "/usr/bin/crun --root /r --log /l --log-format json exec c1 sh -c 'echo $A'",
             "crun exec without --env: the config's environment as is");
  struct rt_exec_opts none = {0};
  TAP_OK(rt_argv_exec(&c, &none, &b, NULL) < 0, "exec without a command refused");
  argv_clear(&b);
}

static void test_signals(void)
{
  static const struct {
    const char *text;
    int sig;
  } ok[] = {{"TERM", SIGTERM}, {"SIGTERM", SIGTERM}, {"sigkill", SIGKILL}, {"15", 15},
            {"INT", SIGINT},   {"SIGUSR1", SIGUSR1}, {"HUP", SIGHUP},      {"9", 9}};
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    int sig = -1;
    TAP_OK(rt_parse_signal(ok[i].text, &sig, NULL) == 0 && sig == ok[i].sig, "signal '%s' is %d",
           ok[i].text, ok[i].sig);
  }
  int sig = -1;
  TAP_OK(rt_parse_signal("RTMIN+2", &sig, NULL) == 0 && sig == SIGRTMIN + 2, "RTMIN+2");
  TAP_OK(rt_parse_signal("SIGRTMAX-1", &sig, NULL) == 0 && sig == SIGRTMAX - 1, "SIGRTMAX-1");
  static const char *const bad[] = {"FOO", "0", "65", "", "15x", "-9", "SIG", "RTMIN+99"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    oci_error *e = NULL;
    TAP_OK(rt_parse_signal(bad[i], &sig, &e) < 0 && e && e->kind == OCI_ERR_USAGE,
           "'%s' is not a signal", bad[i]);
    oci_error_free(&e);
  }
}

static void test_messages(void)
{
  const char *logrus =
      "time=\"2024-01-01T00:00:00Z\" level=error msg=\"container does not exist\"\n";
  char *m = rt_error_message(logrus, strlen(logrus));
  TAP_IS_STR(m, "container does not exist", "logrus text record reduced to its msg");
  free(m);
  const char *plain = "warning: x\ncannot start a container that has stopped\n\n";
  m = rt_error_message(plain, strlen(plain));
  TAP_IS_STR(m, "cannot start a container that has stopped", "last non-empty line");
  free(m);
  TAP_OK(rt_error_message("  \n", 3) == NULL, "nothing said: NULL");
  const char *log = "{\"level\":\"warning\",\"msg\":\"w\"}\n"
                    "{\"level\":\"error\",\"msg\":\"exec failed: x\",\"time\":\"t\"}\n";
  m = rt_log_error_message(log, strlen(log));
  TAP_IS_STR(m, "exec failed: x", "error record of a json log");
  free(m);
  TAP_OK(rt_log_error_message("{\"level\":\"info\",\"msg\":\"hi\"}", 27) == NULL,
         "no error record");

  TAP_OK(rt_says_not_found(RT_RUNC, "container does not exist"), "runc: not found");
  TAP_OK(rt_says_not_found(RT_CRUN, "error opening file `/r/c1/status`: No such file or directory"),
         "crun: not found");
  TAP_OK(!rt_says_not_found(RT_RUNC, "container not running"), "runc: other error");
}

static void test_exec_status(void)
{
  /* what runc 1.1 and crun 1.8 print (seen, not guessed) */
  const char *runc_nf = "exec failed: unable to start container process: exec: \"foo\": "
                        "executable file not found in $PATH";
  const char *runc_perm = "exec failed: unable to start container process: exec: \"/etc/f\": "
                          "permission denied";
  const char *runc_stat = "exec failed: unable to start container process: exec: \"/x/y\": "
                          "stat /x/y: no such file or directory";
  const char *runc_cwd = "exec failed: unable to start container process: chdir to cwd "
                         "(\"/nonexist\") set in config.json failed: no such file or directory";
  TAP_IS_INT(rt_exec_status(RT_RUNC, 255, runc_nf, runc_nf), 127, "runc: not found is 127");
  TAP_IS_INT(rt_exec_status(RT_RUNC, 255, runc_perm, runc_perm), 126,
             "runc: permission denied is 126");
  TAP_IS_INT(rt_exec_status(RT_RUNC, 255, runc_stat, runc_stat), 127, "runc: missing path is 127");
  TAP_IS_INT(rt_exec_status(RT_RUNC, 255, runc_cwd, runc_cwd), 125, "runc: bad cwd is 125");
  TAP_IS_INT(rt_exec_status(RT_RUNC, 1, "exec /etc/bad: exec format error", NULL), 126,
             "runc: exec format error is 126");
  TAP_IS_INT(rt_exec_status(RT_RUNC, 255, "exec failed: container does not exist",
                            "exec failed: container does not exist"),
             125, "runc: other failure is 125");
  TAP_IS_INT(rt_exec_status(RT_RUNC, 3, "some output", NULL), 3, "command's own status");
  TAP_IS_INT(rt_exec_status(RT_RUNC, 255, "my own message", NULL), 255, "a command exiting 255");
  TAP_IS_INT(rt_exec_status(RT_RUNC, 0, runc_nf, NULL), 0, "success is success");
  TAP_IS_INT(rt_exec_status(RT_RUNC, 3, "exec: \"foo\": executable file not found in $PATH", NULL),
             3, "a look-alike message with another status is the command's");

  TAP_IS_INT(rt_exec_status(RT_CRUN, 255,
                            "executable file `foo` not found in $PATH: No such file or directory",
                            NULL),
             127, "crun: not found is 127");
  TAP_IS_INT(rt_exec_status(RT_CRUN, 255, "open executable: Permission denied", NULL), 126,
             "crun: permission denied is 126");
  TAP_IS_INT(rt_exec_status(RT_CRUN, 255, "open executable: Operation not permitted", NULL), 126,
             "crun: a directory is 126");
  TAP_IS_INT(rt_exec_status(RT_CRUN, 1, "exec: Exec format error", NULL), 126,
             "crun: exec format error is 126");
  TAP_IS_INT(rt_exec_status(RT_CRUN, 1, "exec: No such file or directory", NULL), 127,
             "crun: missing interpreter is 127");
  TAP_IS_INT(rt_exec_status(RT_CRUN, 1, "the container `c1` is not running",
                            "the container `c1` is not running"),
             125, "crun: failure in its log is 125");
  TAP_IS_INT(rt_exec_status(RT_CRUN, 1, "grep found nothing", NULL), 1, "crun: command's status 1");
}

static void test_state(void)
{
  json_t *crun_st =
      json_pack("{s:s, s:s, s:s}", "status", "running", "bundle", "/b", "rootfs", "rootfs");
  rt_normalize_state(RT_CRUN, crun_st);
  TAP_IS_STR(json_string_value(json_object_get(crun_st, "rootfs")), "/b/rootfs",
             "crun's relative rootfs made absolute");
  json_decref(crun_st);
  json_t *runc_st = json_pack("{s:s, s:s}", "bundle", "/b", "rootfs", "/b/rootfs");
  rt_normalize_state(RT_RUNC, runc_st);
  TAP_IS_STR(json_string_value(json_object_get(runc_st, "rootfs")), "/b/rootfs", "runc's kept");
  json_decref(runc_st);
  TAP_IS_INT(rt_kind_of("/usr/bin/crun"), RT_CRUN, "crun by name");
  TAP_IS_INT(rt_kind_of("/usr/sbin/runc"), RT_RUNC, "runc by name");
  TAP_IS_INT(rt_kind_of("/opt/youki"), RT_RUNC, "others speak runc");
}

int main(void)
{
  test_ops();
  test_create_delete();
  test_resolve();
  test_exec();
  test_signals();
  test_messages();
  test_exec_status();
  test_state();
  return tap_done();
}
