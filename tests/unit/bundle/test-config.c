/* SPDX-License-Identifier: Apache-2.0 */
/* config.json generation: defaults, and the merge of an image config with
 * the image's files (a table here, libsquashfs in real use). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "image-to-spec.h"
#include "image-user.h"
#include "oci-spec.h"
#include "seccomp-profile.h"
#include "tap.h"

#define BUNDLE "/run/b"

struct fake_file {
  const char *path, *content;
};

static const struct fake_file *current_files;
static bool fail_reads;

static int fake_read(void *ctx, const char *path, size_t max, char **ret, size_t *ret_len,
                     oci_error **err)
{
  if (fail_reads)
    return oci_error_set(err, EIO, "reading '%s'", path);
  for (const struct fake_file *f = current_files; f && f->path; f++)
    if (strcmp(f->path, path) == 0) {
      if (strlen(f->content) > max)
        return oci_error_set(err, 0, "too big");
      *ret = strdup(f->content);
      if (ret_len)
        *ret_len = strlen(f->content);
      return 0;
    }
  return 1;
}

static int fake_is_file(void *ctx, const char *path, bool *ret, oci_error **err)
{
  *ret = false;
  for (const struct fake_file *f = current_files; f && f->path; f++)
    if (strcmp(f->path, path) == 0)
      *ret = true;
  return 0;
}

static const struct bundle_image_files files = {NULL, fake_read, fake_is_file};

static const struct fake_file native_files[] = {
    {"/.singularity.d/actions/run", "#!/bin/sh\n"},
    {"/.singularity.d/runscript", "#!/bin/sh\n"},
    {"/etc/passwd", "# comment\nroot:x:0:0:root:/root:/bin/sh\nbroken line\n"
                    "bad:x:notanumber:1::/:/bin/sh\n"
                    "alice:x:1000:100:Alice:/home/alice:/bin/sh\n"
                    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false"},
    {"/etc/group", "root:x:0:\nstaff:x:50:alice\nnogroup:x:65534:\n"},
    {NULL, NULL},
};
static const struct fake_file runscript_only[] = {{"/.singularity.d/runscript", "x"}, {NULL, NULL}};
static const struct fake_file no_files[] = {{NULL, NULL}};

/* Build with IMAGE_CONFIG (JSON text, or NULL); NULL on error (in *err). */
static json_t *build(const char *image_config, const struct fake_file *image_files,
                     struct bundle_spec *spec, oci_error **err)
{
  json_auto_t *ic = NULL;
  if (image_config) {
    json_error_t jerr;
    ic = json_loads(image_config, 0, &jerr);
    if (ic == NULL) {
      printf("# bad test JSON: %s\n", jerr.text);
      return NULL;
    }
  }
  current_files = image_files;
  if (bundle_spec_build(ic, &files, BUNDLE, spec, err) < 0)
    return NULL;
  return spec->config;
}

static char *dump(json_t *j)
{
  return j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("(null)");
}

/* The JSON at a path of object keys, compactly, for comparisons. */
static void is_json(json_t *j, const char *want, const char *desc)
{
  cleanup_free char *got = dump(j);
  TAP_IS_STR(got, want, "%s", desc);
}

static bool fails_with(const char *image_config, const struct fake_file *image_files,
                       const char *needle)
{
  struct bundle_spec spec;
  cleanup_error oci_error *err = NULL;
  json_t *c = build(image_config, image_files, &spec, &err);
  if (c != NULL) {
    bundle_spec_clear(&spec);
    printf("#   unexpectedly accepted: %s\n", image_config);
    return false;
  }
  cleanup_free char *msg = oci_error_format(err);
  if (msg == NULL || strstr(msg, needle) == NULL) {
    printf("#   error '%s' does not contain '%s'\n", msg ? msg : "(none)", needle);
    return false;
  }
  return true;
}

static void test_defaults(void)
{
  struct bundle_spec spec;
  cleanup_error oci_error *err = NULL;
  json_t *c = build(NULL, native_files, &spec, &err);
  TAP_OK(c != NULL, "native image builds");
  if (c == NULL)
    return;
  json_t *p = json_object_get(c, "process");
  TAP_IS_STR(json_string_value(json_object_get(c, "ociVersion")), "1.0.2-dev", "ociVersion");
  TAP_IS_STR(json_string_value(json_object_get(c, "hostname")), "sifoci", "hostname");
  TAP_IS_STR(json_string_value(json_object_get(json_object_get(c, "root"), "path")),
             BUNDLE "/rootfs", "root.path is the absolute rootfs");
  is_json(json_object_get(p, "args"), "[\"/.singularity.d/actions/run\"]",
          "native args: actions/run");
  is_json(json_object_get(p, "env"),
          "[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"TERM=xterm\"]",
          "default env");
  is_json(json_object_get(p, "user"), "{\"uid\":0,\"gid\":0}", "default user 0:0");
  TAP_OK(json_is_true(json_object_get(p, "terminal")), "terminal true");
  TAP_IS_STR(json_string_value(json_object_get(p, "cwd")), "/", "cwd /");
  json_t *caps = json_object_get(p, "capabilities");
  TAP_IS_INT(json_array_size(json_object_get(caps, "bounding")), 15, "15 bounding caps");
  TAP_IS_INT(json_array_size(json_object_get(caps, "effective")), 15, "15 effective caps");
  TAP_IS_INT(json_array_size(json_object_get(caps, "permitted")), 15, "15 permitted caps");
  TAP_OK(json_object_get(caps, "ambient") == NULL && json_object_get(caps, "inheritable") == NULL,
         "no ambient or inheritable caps");
  is_json(json_object_get(p, "rlimits"),
          "[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}]", "NOFILE rlimit");
  json_t *mounts = json_object_get(c, "mounts");
  TAP_IS_INT(json_array_size(mounts), 7, "6 default mounts + cgroup");
  TAP_IS_STR(json_string_value(json_object_get(json_array_get(mounts, 6), "destination")),
             "/sys/fs/cgroup", "cgroup mount last");
  json_t *lx = json_object_get(c, "linux");
  TAP_IS_INT(json_array_size(json_object_get(lx, "namespaces")), 5, "5 namespaces");
  TAP_IS_INT(json_array_size(json_object_get(lx, "maskedPaths")), 10, "runc's maskedPaths");
  TAP_IS_INT(json_array_size(json_object_get(lx, "readonlyPaths")), 5, "runc's readonlyPaths");
  is_json(json_object_get(json_object_get(lx, "resources"), "devices"),
          "[{\"allow\":false,\"access\":\"rwm\"}]", "devices deny-all");
  TAP_OK(json_object_get(c, "annotations") == NULL, "no annotations without labels");
  TAP_IS_INT(spec.n_volumes, 0, "no volumes");
  bundle_spec_clear(&spec);

  c = build(NULL, runscript_only, &spec, &err);
  is_json(c ? json_object_get(json_object_get(c, "process"), "args") : NULL,
          "[\"/.singularity.d/runscript\"]", "native args: runscript when there is no actions/run");
  bundle_spec_clear(&spec);
  c = build(NULL, no_files, &spec, &err);
  is_json(c ? json_object_get(json_object_get(c, "process"), "args") : NULL, "[\"/bin/sh\"]",
          "native args: /bin/sh without /.singularity.d");
  bundle_spec_clear(&spec);
}

static json_t *process_of(const char *ic, const struct fake_file *ff, struct bundle_spec *spec)
{
  cleanup_error oci_error *err = NULL;
  json_t *c = build(ic, ff, spec, &err);
  if (c == NULL) {
    cleanup_free char *m = oci_error_format(err);
    printf("#   build failed: %s\n", m ? m : "?");
    return NULL;
  }
  return json_object_get(c, "process");
}

static void test_args_env_cwd(void)
{
  struct bundle_spec spec;
  json_t *p = process_of("{\"Entrypoint\":[\"/bin/echo\",\"entrypoint:\"],\"Cmd\":[\"default\","
                         "\"cmd args\"],\"Env\":[\"PATH=/opt/bin:/bin\",\"FOO=1\",\"EMPTY=\","
                         "\"FOO=2\",\"TERM=dumb\"],\"WorkingDir\":\"/srv\"}",
                         native_files, &spec);
  is_json(p ? json_object_get(p, "args") : NULL,
          "[\"/bin/echo\",\"entrypoint:\",\"default\",\"cmd args\"]", "args = Entrypoint + Cmd");
  is_json(p ? json_object_get(p, "env") : NULL,
          "[\"PATH=/opt/bin:/bin\",\"TERM=dumb\",\"FOO=2\",\"EMPTY=\"]",
          "image env wins (PATH and TERM too), K= kept, later duplicates replace");
  TAP_IS_STR(p ? json_string_value(json_object_get(p, "cwd")) : NULL, "/srv", "cwd = WorkingDir");
  bundle_spec_clear(&spec);

  p = process_of("{\"Cmd\":[\"/bin/id\"]}", native_files, &spec);
  is_json(p ? json_object_get(p, "args") : NULL, "[\"/bin/id\"]", "Cmd alone");
  bundle_spec_clear(&spec);
  p = process_of("{\"Entrypoint\":[],\"Cmd\":null,\"WorkingDir\":\"\"}", native_files, &spec);
  is_json(p ? json_object_get(p, "args") : NULL, "[\"/.singularity.d/actions/run\"]",
          "empty Entrypoint and Cmd keep the native default");
  TAP_IS_STR(p ? json_string_value(json_object_get(p, "cwd")) : NULL, "/",
             "empty WorkingDir keeps /");
  bundle_spec_clear(&spec);
  p = process_of("{\"Entrypoint\":[\"/bin/sh\",\"-c\"]}", no_files, &spec);
  is_json(p ? json_object_get(p, "args") : NULL, "[\"/bin/sh\",\"-c\"]", "Entrypoint alone");
  bundle_spec_clear(&spec);

  TAP_OK(fails_with("{\"WorkingDir\":\"srv\"}", native_files, "not an absolute path"),
         "relative WorkingDir refused");
  TAP_OK(fails_with("{\"Env\":[\"NOEQUALS\"]}", native_files, "NAME=VALUE"),
         "Env entry without '=' refused");
  TAP_OK(fails_with("{\"Env\":[\"=x\"]}", native_files, "no variable name"),
         "Env entry without a name refused");
}

/* `oci run IMAGE ARGS`: the image config IC's args with ARGS given */
static void args_given(const char *ic, const struct fake_file *ff, const char *want,
                       const char *desc)
{
  static const char *const args[] = {"echo", "hi there"};
  struct bundle_spec spec;
  cleanup_error oci_error *err = NULL;
  json_t *p = process_of(ic, ff, &spec);
  if (p != NULL && bundle_spec_set_args(&spec, args, 2, &err) < 0)
    p = NULL;
  is_json(p ? json_object_get(p, "args") : NULL, want, desc);
  bundle_spec_clear(&spec);
}

static void test_args_given(void)
{
  args_given("{\"Entrypoint\":[\"/bin/echo\",\"ep:\"],\"Cmd\":[\"default\"]}", native_files,
             "[\"/bin/echo\",\"ep:\",\"echo\",\"hi there\"]",
             "ARGS replace Cmd, the Entrypoint stays");
  args_given("{\"Cmd\":[\"/bin/id\",\"-u\"]}", native_files, "[\"echo\",\"hi there\"]",
             "ARGS replace Cmd alone");
  args_given(NULL, native_files, "[\"/.singularity.d/actions/run\",\"echo\",\"hi there\"]",
             "native image: ARGS go to the run action");
  args_given(NULL, runscript_only, "[\"/.singularity.d/runscript\",\"echo\",\"hi there\"]",
             "native image: ... or the runscript");
  args_given(NULL, no_files, "[\"echo\",\"hi there\"]", "neither: ARGS are the command");
  struct bundle_spec spec;
  cleanup_error oci_error *err = NULL;
  static const char *const bad[] = {"\xff"};
  TAP_OK(process_of(NULL, no_files, &spec) != NULL && bundle_spec_set_args(&spec, bad, 1, &err) < 0,
         "an argument that is not UTF-8 is refused");
  bundle_spec_clear(&spec);
  oci_error_free(&err);
  TAP_OK(process_of(NULL, no_files, &spec) != NULL && bundle_spec_set_args(&spec, bad, 0, &err) < 0,
         "no command at all is refused");
  bundle_spec_clear(&spec);
}

static void user_is(const char *user, const char *want)
{
  char ic[256];
  snprintf(ic, sizeof(ic), "{\"User\":\"%s\"}", user);
  struct bundle_spec spec;
  json_t *p = process_of(ic, native_files, &spec);
  cleanup_free char *got = p ? dump(json_object_get(p, "user")) : NULL;
  TAP_IS_STR(got, want, "User '%s'", user);
  bundle_spec_clear(&spec);
}

static void test_user(void)
{
  user_is("", "{\"uid\":0,\"gid\":0}");
  user_is("0", "{\"uid\":0,\"gid\":0}");
  user_is("1000", "{\"uid\":1000,\"gid\":100}");
  user_is("4242", "{\"uid\":4242,\"gid\":0}");
  user_is("1000:50", "{\"uid\":1000,\"gid\":50}");
  user_is("alice", "{\"uid\":1000,\"gid\":100}");
  user_is("nobody", "{\"uid\":65534,\"gid\":65534}");
  user_is("alice:staff", "{\"uid\":1000,\"gid\":50}");
  user_is("alice:0", "{\"uid\":1000,\"gid\":0}");
  user_is("4242:staff", "{\"uid\":4242,\"gid\":50}");
  user_is("65534:65534", "{\"uid\":65534,\"gid\":65534}");

  TAP_OK(fails_with("{\"User\":\"ghost\"}", native_files, "no user 'ghost'"),
         "unknown user name is an error naming it");
  TAP_OK(fails_with("{\"User\":\"alice:ghosts\"}", native_files, "no group 'ghosts'"),
         "unknown group name is an error naming it");
  TAP_OK(fails_with("{\"User\":\"bad\"}", native_files, "no user 'bad'"),
         "malformed passwd lines are skipped");
  TAP_OK(fails_with("{\"User\":\"nobody\"}", no_files, "has no /etc/passwd"),
         "a name without /etc/passwd is an error");
  TAP_OK(fails_with("{\"User\":\"0:staff\"}", no_files, "has no /etc/group"),
         "a group name without /etc/group is an error");
  TAP_OK(fails_with("{\"User\":\"0:\"}", native_files, "is not"), "'0:' refused");
  TAP_OK(fails_with("{\"User\":\":0\"}", native_files, "is not"), "':0' refused");
  TAP_OK(fails_with("{\"User\":\"a:b:c\"}", native_files, "is not"), "'a:b:c' refused");
  TAP_OK(fails_with("{\"User\":\"4294967295\"}", native_files, "no user '4294967295'"),
         "(uid_t)-1 is not a uid");
  fail_reads = true;
  TAP_OK(fails_with("{\"User\":\"alice\"}", native_files, "reading '/etc/passwd'"),
         "an error reading passwd is reported");
  fail_reads = false;

  uint32_t id = 7;
  TAP_OK(bundle_parse_id("007", &id) && id == 7, "parse_id: leading zeros");
  TAP_OK(!bundle_parse_id("-1", &id) && !bundle_parse_id("+1", &id) &&
             !bundle_parse_id(" 1", &id) && !bundle_parse_id("", &id) &&
             !bundle_parse_id("99999999999", &id),
         "parse_id: signs, spaces, empty and overflow refused");
  TAP_OK(bundle_parse_id("4294967294", &id) && id == 4294967294u, "parse_id: largest valid id");
}

static void test_volumes(void)
{
  struct bundle_spec spec;
  cleanup_error oci_error *err = NULL;
  json_t *c = build("{\"Volumes\":{\"/var/cache/app\":{},\"/data\":{},\"/data/\":{}},"
                    "\"Labels\":{\"org.opencontainers.image.title\":\"t\"}}",
                    native_files, &spec, &err);
  TAP_OK(c != NULL, "volumes build");
  if (c == NULL)
    return;
  TAP_IS_INT(spec.n_volumes, 2, "'/data' and '/data/' are one volume");
  TAP_IS_STR(spec.volume_dirs[0], "_data", "volume dir name mangled: _data");
  TAP_IS_STR(spec.volume_dirs[1], "_var_cache_app", "volume dir name mangled: _var_cache_app");
  json_t *mounts = json_object_get(c, "mounts");
  TAP_IS_INT(json_array_size(mounts), 9, "two bind mounts after the defaults");
  is_json(json_array_get(mounts, 7),
          "{\"destination\":\"/data\",\"type\":\"none\",\"source\":\"" BUNDLE
          "/volumes/_data\",\"options\":[\"rbind\",\"rw\",\"nosuid\",\"nodev\"]}",
          "bind mount for /data");
  TAP_IS_STR(json_string_value(json_object_get(json_array_get(mounts, 8), "source")),
             BUNDLE "/volumes/_var_cache_app", "bind mount source for /var/cache/app");
  is_json(json_object_get(c, "annotations"), "{\"org.opencontainers.image.title\":\"t\"}",
          "Labels become annotations");
  bundle_spec_clear(&spec);

  char *norm = NULL, *name = NULL;
  TAP_OK(bundle_volume_name("/var//cache/./app/", &norm, &name, &err) == 0 &&
             strcmp(norm, "/var/cache/app") == 0 && strcmp(name, "_var_cache_app") == 0,
         "volume paths are normalized before mangling");
  free(norm);
  free(name);

  TAP_OK(fails_with("{\"Volumes\":{\"data\":{}}}", native_files, "not an absolute path"),
         "relative volume refused");
  TAP_OK(fails_with("{\"Volumes\":{\"/a/../../etc\":{}}}", native_files, "'..'"),
         "volume with '..' refused");
  TAP_OK(fails_with("{\"Volumes\":{\"/\":{}}}", native_files, "whole root"), "volume '/' refused");
  TAP_OK(fails_with("{\"Volumes\":{\"/a/b\":{},\"/a_b\":{}}}", native_files, "same directory"),
         "volumes colliding after mangling refused");
}

static void test_bad_types_and_limits(void)
{
  TAP_OK(fails_with("{\"Entrypoint\":\"/bin/sh\"}", native_files, "Entrypoint"),
         "Entrypoint as a string refused");
  TAP_OK(fails_with("{\"Cmd\":[1]}", native_files, "Cmd[0]"), "Cmd with a number refused");
  TAP_OK(fails_with("{\"Env\":{}}", native_files, "Env"), "Env as an object refused");
  TAP_OK(fails_with("{\"User\":5}", native_files, "User"), "User as a number refused");
  TAP_OK(fails_with("{\"WorkingDir\":[]}", native_files, "WorkingDir"),
         "WorkingDir as an array refused");
  TAP_OK(fails_with("{\"Volumes\":[\"/data\"]}", native_files, "Volumes"),
         "Volumes as an array refused");
  TAP_OK(fails_with("{\"Labels\":{\"a\":1}}", native_files, "Labels"),
         "Labels with a number refused");

  /* 5000 args */
  size_t cap = 16 + 5000 * 4;
  cleanup_free char *many = malloc(cap);
  strcpy(many, "{\"Cmd\":[");
  for (int i = 0; i < 5000; i++)
    strcat(many, i ? ",\"a\"" : "\"a\"");
  strcat(many, "]}");
  TAP_OK(fails_with(many, native_files, "more than"), "more than 4096 args refused");
  /* one 200 KiB arg */
  size_t big = 200 << 10;
  cleanup_free char *huge = malloc(big + 32);
  strcpy(huge, "{\"Cmd\":[\"");
  memset(huge + strlen(huge), 'x', big);
  strcpy(huge + 9 + big, "\"]}");
  TAP_OK(fails_with(huge, native_files, "bytes, more than"), "a 200 KiB arg refused");
}

/* How the seccomp rules for NAME look in PROFILE: "allow", "allow+args",
 * "errno N", joined by ',' over every rule naming it; "" when none does. */
static char *rules_for(json_t *profile, const char *name)
{
  char buf[256] = "";
  size_t i, j;
  json_t *r, *n;
  json_array_foreach(json_object_get(profile, "syscalls"), i, r)
  {
    json_array_foreach(json_object_get(r, "names"), j, n)
    {
      if (strcmp(json_string_value(n), name) != 0)
        continue;
      const char *action = json_string_value(json_object_get(r, "action"));
      char one[64];
      if (action && strcmp(action, "SCMP_ACT_ERRNO") == 0)
        snprintf(one, sizeof(one), "errno %lld",
                 (long long)json_integer_value(json_object_get(r, "errnoRet")));
      else
        snprintf(one, sizeof(one), "allow%s", json_object_get(r, "args") ? "+args" : "");
      size_t len = strlen(buf);
      snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? "," : "", one);
    }
  }
  return strdup(buf);
}

static void is_rules(json_t *profile, const char *name, const char *want, const char *desc)
{
  cleanup_free char *got = rules_for(profile, name);
  TAP_IS_STR(got, want, "%s", desc);
}

static void test_seccomp(void)
{
  struct bundle_spec spec;
  cleanup_error oci_error *err = NULL;
  json_t *c = build(NULL, native_files, &spec, &err);
  json_t *sc = c ? json_object_get(json_object_get(c, "linux"), "seccomp") : NULL;
  TAP_OK(json_is_object(sc), "config.json has linux.seccomp");
  TAP_IS_STR(json_string_value(json_object_get(sc, "defaultAction")), "SCMP_ACT_ERRNO",
             "seccomp default action: errno");
  TAP_IS_INT(json_integer_value(json_object_get(sc, "defaultErrnoRet")), 1, "...EPERM");
#if defined(__x86_64__)
  is_json(json_object_get(sc, "architectures"),
          "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]",
          "x86_64 and its 32-bit ABIs");
  is_rules(sc, "arch_prctl", "allow", "arch_prctl on x86");
#endif
  is_rules(sc, "read", "allow", "read allowed");
  is_rules(sc, "chroot", "allow", "chroot allowed: CAP_SYS_CHROOT is a default capability");
  is_rules(sc, "mount", "", "mount not allowed without CAP_SYS_ADMIN");
  is_rules(sc, "unshare", "", "unshare not allowed without CAP_SYS_ADMIN");
  is_rules(sc, "reboot", "", "reboot not allowed without CAP_SYS_BOOT");
  is_rules(sc, "keyctl", "", "keyctl never allowed");
  is_rules(sc, "clone", "allow+args", "clone without namespace flags only");
  is_rules(sc, "clone3", "errno 38", "clone3 fails with ENOSYS");
  is_rules(sc, "personality", "allow+args,allow+args,allow+args,allow+args,allow+args",
           "personality: five allowed values");
  is_rules(sc, "socket", "allow+args,allow+args,allow+args", "socket by address family");
  bundle_spec_clear(&spec);

  /* The capability-conditional rules, for other capability sets. */
  static const char *const admin[] = {"CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_BOOT", NULL};
  json_auto_t *p = bundle_seccomp_profile(admin);
  is_rules(p, "mount", "allow", "CAP_SYS_ADMIN: mount allowed");
  is_rules(p, "clone", "allow", "CAP_SYS_ADMIN: clone with any flags");
  is_rules(p, "clone3", "allow", "CAP_SYS_ADMIN: clone3 allowed");
  is_rules(p, "chroot", "", "no CAP_SYS_CHROOT: no chroot");
  is_rules(p, "kcmp", "allow", "CAP_SYS_PTRACE: kcmp");
  is_rules(p, "reboot", "allow", "CAP_SYS_BOOT: reboot");
  static const char *const none[] = {NULL};
  json_auto_t *q = bundle_seccomp_profile(none);
  is_rules(q, "setns", "", "no capabilities: no setns");
  is_rules(q, "kcmp", "", "no capabilities: no kcmp");
  is_rules(q, "execve", "allow", "no capabilities: execve still allowed");
}

int main(void)
{
  test_defaults();
  test_args_env_cwd();
  test_args_given();
  test_user();
  test_volumes();
  test_bad_types_and_limits();
  test_seccomp();
  return tap_done();
}
