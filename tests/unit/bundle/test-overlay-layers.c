/* SPDX-License-Identifier: Apache-2.0 */
/* bundle/overlay-layers.c: --overlay parsing, its conflicts, and the mount
 * record's overlays list, in a temp dir. */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "overlay-layers.h"
#include "tap.h"

static char base[512];

static const char *at(const char *name)
{
  static char buf[4][PATH_MAX];
  static int i;
  char *p = buf[i++ % 4];
  snprintf(p, PATH_MAX, "%s/%s", base, name);
  return p;
}

/* parse ARGS; returns the error text (static) or NULL */
static const char *parse(struct bundle_overlays *o, bool tmpfs, bool writable, size_t n,
                         const char *const *args)
{
  static char msg[1024];
  oci_error *err = NULL;
  if (bundle_overlays_parse(args, n, tmpfs, writable, o, &err) == 0)
    return NULL;
  char *text = oci_error_format(err);
  snprintf(msg, sizeof(msg), "%s", text ? text : "?");
  free(text);
  oci_error_free(&err);
  return msg;
}

int main(void)
{
  const char *tmp = getenv("TMPDIR");
  snprintf(base, sizeof(base), "%s/test-overlay-XXXXXX", tmp ? tmp : "/tmp");
  if (mkdtemp(base) == NULL)
    return 1;
  mkdir(at("rw"), 0700);
  mkdir(at("ro"), 0700);
  mkdir(at("was-rw"), 0700);
  mkdir(at("was-rw/upper"), 0700);
  mkdir(at("a,b"), 0700);
  FILE *f = fopen(at("file"), "we");
  if (f != NULL)
    fclose(f);

  struct bundle_overlays o;
  char rw[PATH_MAX], ro[PATH_MAX], was[PATH_MAX], comma[PATH_MAX], file[PATH_MAX];
  snprintf(rw, sizeof(rw), "%s", at("rw"));
  snprintf(ro, sizeof(ro), "%s:ro", at("ro"));
  snprintf(was, sizeof(was), "%s:ro", at("was-rw"));
  snprintf(comma, sizeof(comma), "%s", at("a,b"));
  snprintf(file, sizeof(file), "%s", at("file"));

  const char *const good[] = {ro, rw, was};
  TAP_OK(parse(&o, false, false, 3, good) == NULL, "a writable and two read-only overlays");
  TAP_IS_STR(o.upper_base, at("rw"), "the writable one is the upper base");
  TAP_IS_INT((int)o.n_lower, 2, "two lower layers");
  TAP_IS_STR(o.lower_dirs[0], at("ro"), "the first given is on top");
  TAP_IS_STR(o.lower_dirs[1], at("was-rw/upper"), "a former writable overlay gives its upper/");
  json_t *j = bundle_overlays_json(&o);
  TAP_OK(j != NULL && json_array_size(j) == 3, "the record lists three");
  TAP_OK(bundle_overlays_json_ok(j), "and takes its own list");
  TAP_IS_STR(json_string_value(json_object_get(json_array_get(j, 0), "mode")), "rw",
             "the writable one first");
  json_decref(j);
  bundle_overlays_clear(&o);

  const char *const two_rw[] = {rw, at("ro")};
  TAP_OK(parse(&o, false, false, 2, two_rw) != NULL &&
             strstr(parse(&o, false, false, 2, two_rw), "only one writable layer") != NULL,
         "two writable overlays are refused");
  const char *const one_rw[] = {rw};
  TAP_OK(parse(&o, true, false, 1, one_rw) != NULL, "--writable-tmpfs and a writable overlay");
  TAP_OK(parse(&o, false, true, 1, one_rw) != NULL, "--writable and a writable overlay");
  TAP_OK(parse(&o, true, true, 0, NULL) != NULL, "--writable and --writable-tmpfs");
  const char *const bad_comma[] = {comma};
  TAP_OK(parse(&o, false, false, 1, bad_comma) != NULL, "a path with ',' is refused");
  const char *const bad_file[] = {file};
  const char *e = parse(&o, false, false, 1, bad_file);
  TAP_OK(e != NULL && strstr(e, "not a directory") != NULL, "a file is refused as such");
  const char *const missing[] = {"/nonexistent/h13b"};
  TAP_OK(parse(&o, false, false, 1, missing) != NULL, "a missing path is refused");
  const char *const empty[] = {":ro"};
  TAP_OK(parse(&o, false, false, 1, empty) != NULL, "':ro' alone is refused");

  TAP_OK(parse(&o, true, false, 0, NULL) == NULL && o.tmpfs_upper, "--writable-tmpfs alone");
  j = bundle_overlays_json(&o);
  TAP_OK(bundle_overlays_json_ok(j), "its record entry is accepted");
  json_decref(j);
  bundle_overlays_clear(&o);

  json_t *bad = json_pack("[{s:s, s:s}]", "path", "/x", "mode", "tmpfs");
  TAP_OK(!bundle_overlays_json_ok(bad), "a tmpfs entry with a path is damaged");
  json_decref(bad);
  bad = json_pack("[{s:s, s:s}]", "path", "/x", "mode", "sideways");
  TAP_OK(!bundle_overlays_json_ok(bad), "an unknown mode is damaged");
  json_decref(bad);
  bad = json_pack("[{s:n, s:s}]", "path", "mode", "rw");
  TAP_OK(!bundle_overlays_json_ok(bad), "a rw entry without a path is damaged");
  json_decref(bad);

  unlink(at("file"));
  rmdir(at("a,b"));
  rmdir(at("was-rw/upper"));
  rmdir(at("was-rw"));
  rmdir(at("ro"));
  rmdir(at("rw"));
  rmdir(base);
  return tap_done();
}
