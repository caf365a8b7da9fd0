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

/* an --overlay argument: the path of NAME with SUFFIX (":ro", ":rw", "");
 * a pool of buffers that outlives each test's arguments */
static const char *arg_at(const char *name, const char *suffix)
{
  static char pool[8][PATH_MAX];
  static int next;
  char *p = pool[next++ % 8];
  snprintf(p, PATH_MAX, "%s/%s%s", base, name, suffix);
  return p;
}

/* NAME holding BYTES at OFFSET (the rest zeros), SIZE bytes in all */
static void make_file(const char *name, long offset, const void *bytes, size_t n, long size)
{
  FILE *f = fopen(at(name), "we");
  if (f == NULL)
    return;
  fseek(f, size - 1, SEEK_SET);
  fputc(0, f);
  fseek(f, offset, SEEK_SET);
  fwrite(bytes, 1, n, f);
  fclose(f);
}

/* ext3 and squashfs files told by content, their modes, the record's
 * entries for them */
static void image_files(void)
{
  const unsigned char ext_magic[] = {0x53, 0xEF};
  /* the magic at +56, then at +96 filetype, extents and flex_bg */
  unsigned char ext4_sb[44] = {0x53, 0xEF};
  ext4_sb[40] = 0x42;
  ext4_sb[41] = 0x02;
  make_file("ext3.img", 1024 + 56, ext_magic, 2, 8192);
  make_file("ext4.img", 1024 + 56, ext4_sb, sizeof(ext4_sb), 8192);
  make_file("layer.sqfs", 0, "hsqs", 4, 4096);
  const char *ext = arg_at("ext3.img", ""), *ext_ro = arg_at("ext3.img", ":ro");
  const char *sq = arg_at("layer.sqfs", ""), *sq_rw = arg_at("layer.sqfs", ":rw");
  const char *ext4 = arg_at("ext4.img", ""), *ro = arg_at("ro", ":ro");

  struct bundle_overlays o;
  const char *const stack[] = {sq, ro, ext};
  TAP_OK(parse(&o, false, false, 3, stack) == NULL, "a squashfs, a directory and an ext3 file");
  TAP_IS_INT((int)o.n_files, 2, "two image files");
  TAP_OK(o.files[0].kind == BUNDLE_OVERLAY_SQUASHFS && !o.files[0].writable,
         "the squashfs is a read-only layer without ':ro'");
  TAP_OK(o.files[1].kind == BUNDLE_OVERLAY_EXT3 && o.files[1].writable,
         "the ext3 file is writable without ':ro'");
  TAP_OK(bundle_overlays_upper_file(&o) == &o.files[1], "and is the upper");
  char path[PATH_MAX];
  TAP_OK(o.n_lower == 2 && bundle_overlays_lower_path(&o, 0, "/b", path, sizeof(path)) == 0,
         "two lower layers");
  TAP_IS_STR(path, "/b/.overlays/0", "the squashfs's mount point is the top one");
  bundle_overlays_lower_path(&o, 1, "/b", path, sizeof(path));
  TAP_IS_STR(path, at("ro"), "the directory below it");
  json_t *j = bundle_overlays_json(&o);
  TAP_IS_STR(json_string_value(json_object_get(json_array_get(j, 0), "mount")), ".overlays/1",
             "the record lists the writable file first, with its mount point");
  TAP_OK(bundle_overlays_json_ok(j), "and takes its own list");
  json_t *sqe = json_array_get(j, 1);
  json_object_set_new(sqe, "loop",
                      json_pack("{s:s, s:i, s:i, s:b}", "device", "/dev/loop12", "major", 7,
                                "minor", 12, "attached", 1));
  TAP_OK(bundle_overlays_json_ok(j), "a loop device in an entry is taken");
  json_object_set_new(json_object_get(sqe, "loop"), "device", json_string("/dev/sda"));
  TAP_OK(!bundle_overlays_json_ok(j), "a loop device that is none is damaged");
  json_object_set_new(json_object_get(sqe, "loop"), "device", json_string("/dev/loop012"));
  TAP_OK(!bundle_overlays_json_ok(j), "so is a second spelling of one");
  json_object_del(sqe, "loop");
  json_object_set_new(sqe, "mount", json_string(".overlays/1"));
  TAP_OK(!bundle_overlays_json_ok(j), "two entries with one mount point are damaged");
  json_object_set_new(sqe, "mount", json_string(".overlays/../rootfs"));
  TAP_OK(!bundle_overlays_json_ok(j), "a mount point outside .overlays is damaged");
  json_object_set_new(sqe, "mount", json_string(".overlays/0"));
  json_object_set_new(sqe, "mode", json_string("rw"));
  TAP_OK(!bundle_overlays_json_ok(j), "a writable squashfs entry is damaged");
  json_decref(j);
  oci_error *merr = NULL;
  TAP_OK(bundle_overlays_check_method(&o, "fuse", &merr) < 0, "--method fuse refuses image files");
  oci_error_free(&merr);
  bundle_overlays_clear(&o);
  TAP_OK(bundle_overlays_mount_name_ok(".overlays/15") &&
             !bundle_overlays_mount_name_ok(".overlays/16") &&
             !bundle_overlays_mount_name_ok(".overlays/"),
         "mount point names: .overlays/0 to .overlays/15");

  const char *const ext_ro_only[] = {ext_ro};
  TAP_OK(parse(&o, true, false, 1, ext_ro_only) == NULL && !o.files[0].writable,
         "an ext3 file with ':ro' is read-only (so --writable-tmpfs can be the upper)");
  bundle_overlays_clear(&o);
  const char *const bad_sq[] = {sq_rw};
  const char *e = parse(&o, false, false, 1, bad_sq);
  TAP_OK(e != NULL && strstr(e, "a squashfs file is read-only") != NULL, "squashfs ':rw' refused");
  const char *const bad_ext4[] = {ext4};
  e = parse(&o, false, false, 1, bad_ext4);
  TAP_OK(e != NULL && strstr(e, "an ext4 file system") != NULL, "an ext4 file is refused");
  const char *const twice[] = {sq, sq};
  e = parse(&o, false, false, 2, twice);
  TAP_OK(e != NULL && strstr(e, "given twice") != NULL, "one file twice is refused");
  const char *const two_rw[] = {ext, at("rw")};
  e = parse(&o, false, false, 2, two_rw);
  TAP_OK(e != NULL && strstr(e, "only one writable layer") != NULL,
         "an ext3 file and a directory, both writable, are refused");
  unlink(at("ext3.img"));
  unlink(at("ext4.img"));
  unlink(at("layer.sqfs"));
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
  TAP_OK(e != NULL && strstr(e, "neither a directory, an ext3 image nor a squashfs") != NULL,
         "an empty file is no image");
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

  image_files();
  unlink(at("file"));
  rmdir(at("a,b"));
  rmdir(at("was-rw/upper"));
  rmdir(at("was-rw"));
  rmdir(at("ro"));
  rmdir(at("rw"));
  rmdir(base);
  return tap_done();
}
