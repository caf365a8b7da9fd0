/* SPDX-License-Identifier: Apache-2.0 */
/* The mount record (BUNDLE/.sifoci-mount.json) that tells `oci umount` what
 * to undo: a record saved and loaded back is the same record, and a
 * damaged one (wrong names, bad loop entry, other version, cut short, too
 * big, not root's) is refused with an error rather than steering umount
 * elsewhere.  Records are files in a temp dir; loading one needs root (the
 * loader takes only root-owned files), without root those checks are
 * skipped (failed with MUST_WORK=1). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "mount-record.h"
#include "tap.h"

static int dfd = -1;
static bool root;

/* A record as `oci mount` writes it, typed out here rather than made by
 * bundle_record_save, so that save and load cannot agree on a mistake. */
static const char base_text[] =
    "{\"format\": \"sifoci-mount\", \"version\": 1, \"state\": \"mounted\",\n"
    " \"bundle\": \"/run/b/one\", \"bundleCreated\": true,\n"
    " \"image\": {\"path\": \"/srv/x.sif\", \"dev\": 2049, \"ino\": 131, \"offset\": 40960,"
    " \"size\": 1048576},\n"
    " \"loop\": {\"device\": \"/dev/loop3\", \"major\": 7, \"minor\": 3, \"attached\": true},\n"
    " \"mounts\": [{\"target\": \".image\", \"type\": \"squashfs\"},\n"
    "            {\"target\": \"rootfs\", \"type\": \"overlay\"}],\n"
    " \"created\": [\"rootfs\", \".image\", \"overlay\", \"overlay/upper\", \"overlay/work\","
    " \"volumes\", \"volumes/data\", \"config.json\"]}";

/* A skip, or a failure with MUST_WORK=1 (CI). */
static void skip(const char *what)
{
  const char *must = getenv("MUST_WORK");
  bool fail = must != NULL && strcmp(must, "1") == 0;
  printf("%s %d - %s%s: loading a record needs root\n", fail ? "not ok" : "ok", ++tap_n,
         fail ? "required but skipped: " : "# SKIP ", what);
  tap_failed += fail;
}

static int write_all(int fd, const char *p, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Whatever is at the record's name (file, directory or symlink) goes. */
static void remove_record(void)
{
  if (unlinkat(dfd, BUNDLE_RECORD_NAME, 0) < 0 && errno == EISDIR)
    unlinkat(dfd, BUNDLE_RECORD_NAME, AT_REMOVEDIR);
}

/* Put TEXT (LEN bytes) in place as the record, mode 0600. */
static bool write_record(const char *text, size_t len)
{
  remove_record();
  cleanup_close int fd =
      openat(dfd, BUNDLE_RECORD_NAME, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 || write_all(fd, text, len) < 0) {
    printf("# writing the record: %s\n", strerror(errno));
    return false;
  }
  return true;
}

static bool write_json(json_t *o)
{
  cleanup_free char *text = json_dumps(o, JSON_INDENT(2));
  return text != NULL && write_record(text, strlen(text));
}

static json_t *base_json(void)
{
  json_error_t jerr;
  json_t *o = json_loads(base_text, 0, &jerr);
  if (o == NULL) {
    printf("Bail out! base record is not JSON: %s\n", jerr.text);
    exit(1);
  }
  return o;
}

static bool rec_is_clear(const struct bundle_record *rec)
{
  return rec->bundle == NULL && rec->image == NULL && rec->created == NULL && rec->n_created == 0 &&
         rec->n_mounts == 0 && !rec->has_loop;
}

/* The record in place now must be refused with an error that says WANT,
 * leaving REC empty. */
static void expect_refused(const char *what, const char *want)
{
  struct bundle_record rec;
  cleanup_error oci_error *err = NULL;
  int r = bundle_record_load(dfd, &rec, &err);
  const char *msg = err != NULL && err->msg != NULL ? err->msg : NULL;
  bool ok = r < 0 && msg != NULL && strstr(msg, want) != NULL && rec_is_clear(&rec);
  TAP_OK(ok, "refused: %s", what);
  if (!ok)
    printf("#   returned %d, error '%s', expected an error saying '%s'%s\n", r,
           msg ? msg : "(none)", want, rec_is_clear(&rec) ? "" : ", record not cleared");
  if (r == 0)
    bundle_record_clear(&rec);
}

/* Write O (taken) as the record and expect it refused. */
static void refuse_json(json_t *o, const char *what, const char *want)
{
  if (!write_json(o)) {
    TAP_OK(false, "refused: %s (could not write it)", what);
  } else if (!root) {
    skip(what);
  } else {
    expect_refused(what, want);
  }
  json_decref(o);
}

/* Write O (taken) as the record and expect it loaded. */
static void accept_json(json_t *o, const char *what)
{
  if (!write_json(o)) {
    TAP_OK(false, "accepted: %s (could not write it)", what);
  } else if (!root) {
    skip(what);
  } else {
    struct bundle_record rec;
    cleanup_error oci_error *err = NULL;
    int r = bundle_record_load(dfd, &rec, &err);
    TAP_IS_INT(r, 0, "accepted: %s", what);
    if (err)
      printf("#   error: %s\n", err->msg);
    if (r == 0)
      bundle_record_clear(&rec);
  }
  json_decref(o);
}

static json_t *with(json_t *o, const char *key, json_t *value)
{
  json_object_set_new(o, key, value);
  return o;
}

static json_t *without(json_t *o, const char *key)
{
  json_object_del(o, key);
  return o;
}

static json_t *renamed(json_t *o, const char *from, const char *to)
{
  json_t *v = json_incref(json_object_get(o, from));
  json_object_del(o, from);
  json_object_set_new(o, to, v);
  return o;
}

/* The base record with one key of one of its parts (image, loop) set to
 * VALUE, or removed when VALUE is NULL. */
static json_t *part_with(const char *part, const char *key, json_t *value)
{
  json_t *o = base_json();
  json_t *p = json_object_get(o, part);
  if (value)
    json_object_set_new(p, key, value);
  else
    json_object_del(p, key);
  return o;
}

/* The base record with mounts[0] replaced by {"target": T, "type": Y}. */
static json_t *mount0(const char *target, const char *type)
{
  json_t *o = base_json();
  json_array_set_new(json_object_get(o, "mounts"), 0,
                     json_pack("{s:s, s:s}", "target", target, "type", type));
  return o;
}

/* A fuse record: no loop, the two FUSE mounts, PID and START (taken, may
 * be NULL) on the first. */
static json_t *fuse_json(json_t *pid, json_t *start)
{
  json_t *o = with(without(base_json(), "loop"), "method", json_string("fuse"));
  json_t *sq = json_pack("{s:s, s:s}", "target", ".image", "type", "fuse.squashfuse_ll");
  if (pid != NULL)
    json_object_set_new(sq, "pid", pid);
  if (start != NULL)
    json_object_set_new(sq, "pidStart", start);
  json_object_set_new(
      o, "mounts",
      json_pack("[o, {s:s, s:s}]", sq, "target", "rootfs", "type", "fuse.fuse-overlayfs"));
  return o;
}

/* The base record with NAME appended to the created list. */
static json_t *created_plus(json_t *name)
{
  json_t *o = base_json();
  json_array_append_new(json_object_get(o, "created"), name);
  return o;
}

/* A created list of N valid names (volumes/vN). */
static json_t *created_n(size_t n)
{
  json_t *o = base_json();
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) {
    char name[32];
    snprintf(name, sizeof(name), "volumes/v%zu", i);
    json_array_append_new(a, json_string(name));
  }
  return with(o, "created", a);
}

static void test_names(void)
{
  char long_ok[8 + 256], long_bad[8 + 257];
  memcpy(long_ok, "volumes/", 8);
  memset(long_ok + 8, 'a', 255);
  long_ok[8 + 255] = '\0';
  memcpy(long_bad, "volumes/", 8);
  memset(long_bad + 8, 'a', 256);
  long_bad[8 + 256] = '\0';

  static const char *const good[] = {
      "rootfs",    ".image",      "overlay",      "overlay/upper", "overlay/work",
      "volumes",   "config.json", "volumes/data", "volumes/a.b",   "volumes/...",
      "volumes/-", "volumes/ a",  NULL,
  };
  static const char *const bad[] = {
      "",
      "/",
      ".",
      "..",
      "/etc",
      "/rootfs",
      "./rootfs",
      "rootfs/",
      "rootfs/..",
      "rootfs/../..",
      "../rootfs",
      "..//etc",
      "etc/passwd",
      "overlay/upper/x",
      "overlay/../..",
      "volumes/",
      "volumes/.",
      "volumes/..",
      "volumes/../etc",
      "volumes/../../etc/shadow",
      "volumes//x",
      "volumes/a/b",
      "volumes/a/",
      "volumesx",
      "volume/x",
      "Rootfs",
      "config.json/../../x",
      NULL,
  };
  for (const char *const *n = good; *n; n++)
    TAP_OK(bundle_record_name_ok(*n), "name '%s' is one mount makes", *n);
  TAP_OK(bundle_record_name_ok(long_ok), "a 255-byte volume name is allowed");
  for (const char *const *n = bad; *n; n++)
    TAP_OK(!bundle_record_name_ok(*n), "name '%s' refused", *n);
  TAP_OK(!bundle_record_name_ok(long_bad), "a 256-byte volume name is refused");
}

static void test_add_created(void)
{
  struct bundle_record rec = {0};
  cleanup_error oci_error *err = NULL;
  size_t added = 0;
  for (size_t i = 0; i < BUNDLE_RECORD_MAX_CREATED; i++)
    if (bundle_record_add_created(&rec, "volumes/x", &err) == 0)
      added++;
  TAP_IS_INT(added, BUNDLE_RECORD_MAX_CREATED, "add_created takes %d names",
             BUNDLE_RECORD_MAX_CREATED);
  TAP_OK(err == NULL, "without an error");
  TAP_OK(rec.created != NULL && rec.created[rec.n_created] == NULL,
         "the list stays NULL-terminated");
  int r = bundle_record_add_created(&rec, "volumes/y", &err);
  TAP_OK(r < 0 && err != NULL && strstr(err->msg, "too many") != NULL,
         "one more is refused with an error: %s", err ? err->msg : "(none)");
  TAP_IS_INT(rec.n_created, BUNDLE_RECORD_MAX_CREATED, "and not added");
  bundle_record_clear(&rec);
  TAP_OK(rec_is_clear(&rec), "clear empties the record");
}

static void fill(struct bundle_record *rec, bool loop)
{
  memset(rec, 0, sizeof(*rec));
  rec->state = loop ? BUNDLE_RECORD_MOUNTED : BUNDLE_RECORD_MOUNTING;
  rec->bundle = strdup(loop ? "/run/bundles/with loop" : "/b");
  rec->bundle_created = loop;
  rec->image = strdup(loop ? "/srv/images/x y.sif" : "/i.sif");
  rec->image_dev = loop ? makedev(259, 70000) : 0;
  rec->image_ino = loop ? (ino_t)123456789012345 : 1;
  rec->offset = loop ? 40960 : 0;
  rec->size = loop ? (uint64_t)INT64_MAX : 0;
  rec->has_loop = loop;
  if (loop) {
    strcpy(rec->loop_device, "/dev/loop1048575");
    rec->loop_rdev = makedev(0xfff, 0xfffff); /* the largest the loader takes */
    rec->loop_attached = false;               /* the base record has true */
    strcpy(rec->mounts[0].target, ".image");
    strcpy(rec->mounts[0].type, "squashfs");
    strcpy(rec->mounts[1].target, "rootfs");
    strcpy(rec->mounts[1].type, "overlay");
    rec->n_mounts = 2;
    static const char *const names[] = {"rootfs",       ".image",  "overlay",      "overlay/upper",
                                        "overlay/work", "volumes", "volumes/data", "config.json"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
      if (bundle_record_add_created(rec, names[i], NULL) < 0)
        printf("# add_created '%s' failed\n", names[i]);
  }
}

static void compare(const struct bundle_record *a, const struct bundle_record *b, const char *tag)
{
  TAP_IS_INT(b->state, a->state, "%s: state", tag);
  TAP_IS_STR(b->bundle, a->bundle, "%s: bundle", tag);
  TAP_IS_INT(b->bundle_created, a->bundle_created, "%s: bundleCreated", tag);
  TAP_IS_STR(b->image, a->image, "%s: image path", tag);
  TAP_OK(b->image_dev == a->image_dev, "%s: image dev", tag);
  TAP_OK(b->image_ino == a->image_ino, "%s: image ino", tag);
  TAP_OK(b->offset == a->offset, "%s: offset", tag);
  TAP_OK(b->size == a->size, "%s: size", tag);
  TAP_IS_INT(b->has_loop, a->has_loop, "%s: loop present", tag);
  TAP_IS_STR(b->loop_device, a->loop_device, "%s: loop device", tag);
  TAP_OK(b->loop_rdev == a->loop_rdev, "%s: loop major:minor %u:%u", tag, major(b->loop_rdev),
         minor(b->loop_rdev));
  TAP_IS_INT(b->loop_attached, a->loop_attached, "%s: loop attached", tag);
  TAP_IS_INT(b->n_mounts, a->n_mounts, "%s: number of mounts", tag);
  for (size_t i = 0; i < a->n_mounts && i < b->n_mounts; i++) {
    TAP_IS_STR(b->mounts[i].target, a->mounts[i].target, "%s: mount %zu target", tag, i);
    TAP_IS_STR(b->mounts[i].type, a->mounts[i].type, "%s: mount %zu type", tag, i);
  }
  TAP_IS_INT(b->n_layer_loops, a->n_layer_loops, "%s: number of layer loops", tag);
  bool same = b->n_layer_loops == a->n_layer_loops;
  for (size_t i = 0; same && i < a->n_layer_loops; i++) {
    const struct bundle_record_loop *x = &a->layer_loops[i], *y = &b->layer_loops[i];
    same = strcmp(x->device, y->device) == 0 && x->rdev == y->rdev && x->attached == y->attached &&
           x->offset == y->offset && x->size == y->size;
  }
  TAP_OK(same, "%s: every layer loop's device, number, attached, offset and size", tag);
  TAP_IS_INT(b->n_created, a->n_created, "%s: number of created names", tag);
  for (size_t i = 0; i < a->n_created && i < b->n_created; i++)
    TAP_IS_STR(b->created[i], a->created[i], "%s: created[%zu]", tag, i);
  TAP_OK(b->n_created == 0 || b->created[b->n_created] == NULL, "%s: created list NULL-terminated",
         tag);
}

/* The layers of a multi-layer image: the most loops and mounts there can be. */
static void fill_layers(struct bundle_record *rec)
{
  fill(rec, false);
  for (size_t i = 0; i < BUNDLE_RECORD_MAX_LAYERS; i++) {
    struct bundle_record_loop *l = &rec->layer_loops[i];
    snprintf(l->device, sizeof(l->device), "/dev/loop%zu", 100 + i);
    l->rdev = makedev(7, (unsigned)(100 + i));
    l->attached = i % 2 == 0;
    l->offset = 4096 * i;
    l->size = (uint64_t)INT64_MAX - i;
    snprintf(rec->mounts[i].target, sizeof(rec->mounts[i].target), ".layers/%zu", i);
    strcpy(rec->mounts[i].type, "squashfs");
  }
  rec->n_layer_loops = BUNDLE_RECORD_MAX_LAYERS;
  rec->n_mounts = BUNDLE_RECORD_MAX_LAYERS;
}

enum round_trip_kind { RT_BARE, RT_LOOP, RT_LAYERS };

static void test_round_trip(enum round_trip_kind kind)
{
  const char *tag = kind == RT_LOOP     ? "round trip (loop, mounts, names)"
                    : kind == RT_LAYERS ? "round trip (layers)"
                                        : "round trip (bare)";
  struct bundle_record rec;
  if (kind == RT_LAYERS)
    fill_layers(&rec);
  else
    fill(&rec, kind == RT_LOOP);
  remove_record();
  cleanup_error oci_error *err = NULL;
  TAP_IS_INT(bundle_record_save(dfd, &rec, &err), 0, "%s: saved", tag);
  if (err)
    printf("#   error: %s\n", err->msg);
  struct stat st;
  TAP_OK(fstatat(dfd, BUNDLE_RECORD_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
             (st.st_mode & 07777) == 0600,
         "%s: a regular file, mode 0600", tag);
  TAP_OK(faccessat(dfd, BUNDLE_RECORD_TMP_NAME, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT,
         "%s: no temp file left", tag);
  if (!root) {
    skip(tag);
    bundle_record_clear(&rec);
    return;
  }
  struct bundle_record back;
  TAP_IS_INT(bundle_record_load(dfd, &back, &err), 0, "%s: loaded", tag);
  if (err)
    printf("#   error: %s\n", err->msg);
  compare(&rec, &back, tag);
  bundle_record_clear(&back);
  bundle_record_clear(&rec);
}

/* The typed-out record loads as what it says (so that every refusal
 * below is about the one thing changed in it). */
static void test_base(void)
{
  if (!write_record(base_text, strlen(base_text)) || !root) {
    skip("the base record");
    return;
  }
  struct bundle_record rec;
  cleanup_error oci_error *err = NULL;
  TAP_IS_INT(bundle_record_load(dfd, &rec, &err), 0, "the base record loads");
  if (err) {
    printf("#   error: %s\n", err->msg);
    return;
  }
  TAP_OK(rec.state == BUNDLE_RECORD_MOUNTED && strcmp(rec.bundle, "/run/b/one") == 0 &&
             rec.bundle_created && strcmp(rec.image, "/srv/x.sif") == 0 && rec.image_dev == 2049 &&
             rec.image_ino == 131 && rec.offset == 40960 && rec.size == 1048576,
         "base: state, bundle and image as written");
  TAP_OK(rec.has_loop && strcmp(rec.loop_device, "/dev/loop3") == 0 &&
             rec.loop_rdev == makedev(7, 3) && rec.loop_attached,
         "base: loop as written");
  TAP_OK(rec.n_mounts == 2 && strcmp(rec.mounts[0].target, ".image") == 0 &&
             strcmp(rec.mounts[1].type, "overlay") == 0 && rec.n_created == 8 &&
             strcmp(rec.created[6], "volumes/data") == 0,
         "base: mounts and created names as written");
  bundle_record_clear(&rec);
  accept_json(without(base_json(), "loop"), "no loop entry (a record from before the loop)");
  accept_json(with(base_json(), "mounts", json_array()), "no mounts yet");
}

static void test_missing(void)
{
  remove_record();
  struct bundle_record rec;
  cleanup_error oci_error *err = NULL;
  TAP_IS_INT(bundle_record_load(dfd, &rec, &err), 1, "no record: 1");
  TAP_OK(err == NULL && rec_is_clear(&rec), "no record: no error, empty record");
}

static void test_fields(void)
{
  refuse_json(renamed(base_json(), "format", "Format"), "'format' misspelt", "not a sifoci");
  refuse_json(with(base_json(), "format", json_string("sifoci-mount2")), "another format",
              "not a sifoci");
  refuse_json(with(base_json(), "format", json_integer(1)), "format not a string", "not a sifoci");
  refuse_json(without(base_json(), "version"), "no version", "version 0 is not supported");
  refuse_json(with(base_json(), "version", json_integer(3)), "version 3",
              "version 3 is not supported");
  refuse_json(with(base_json(), "version", json_integer(0)), "version 0",
              "version 0 is not supported");
  refuse_json(with(base_json(), "version", json_string("1")), "version as a string",
              "is not supported");
  refuse_json(with(base_json(), "version", json_real(1.0)), "version as a real",
              "is not supported");
  refuse_json(with(base_json(), "state", json_string("unmounted")), "unknown state",
              "unknown state 'unmounted'");
  refuse_json(renamed(base_json(), "state", "State"), "'state' misspelt", "unknown state '(none)'");
  refuse_json(renamed(base_json(), "bundle", "bundel"), "'bundle' misspelt", "fields missing");
  refuse_json(with(base_json(), "bundle", json_null()), "bundle null", "fields missing");
  refuse_json(renamed(base_json(), "bundleCreated", "bundle_created"), "'bundleCreated' misspelt",
              "fields missing");
  refuse_json(with(base_json(), "bundleCreated", json_string("true")), "bundleCreated as a string",
              "fields missing");
  refuse_json(renamed(base_json(), "image", "images"), "'image' misspelt", "fields missing");
  refuse_json(part_with("image", "path", NULL), "no image path", "fields missing");
  refuse_json(part_with("image", "dev", json_integer(-1)), "negative image dev", "fields missing");
  refuse_json(part_with("image", "ino", json_string("131")), "image ino as a string",
              "fields missing");
  refuse_json(part_with("image", "offset", json_real(0.5)), "image offset a fraction",
              "fields missing");
  refuse_json(part_with("image", "size", NULL), "no image size", "fields missing");
  refuse_json(renamed(base_json(), "mounts", "mount"), "'mounts' misspelt", "bad mounts");
  refuse_json(with(base_json(), "mounts", json_object()), "mounts not a list", "bad mounts");
  refuse_json(renamed(base_json(), "created", "made"), "'created' misspelt", "bad mounts");
  refuse_json(with(base_json(), "created", json_string("rootfs")), "created not a list",
              "bad mounts");
}

static void test_loop(void)
{
  refuse_json(with(base_json(), "loop", json_null()), "loop null", "bad loop entry");
  refuse_json(with(base_json(), "loop", json_object()), "loop empty", "bad loop entry");
  refuse_json(with(base_json(), "loop", json_string("/dev/loop3")), "loop a string",
              "bad loop entry");
  refuse_json(part_with("loop", "device", NULL), "loop without device", "bad loop entry");
  refuse_json(part_with("loop", "device", json_string("/dev/sda")), "loop device /dev/sda",
              "bad loop entry");
  refuse_json(part_with("loop", "device", json_string("/dev/loop3/../sda")),
              "loop device /dev/loop3/../sda", "bad loop entry");
  refuse_json(part_with("loop", "device", json_string("/dev/loop-control")),
              "loop device /dev/loop-control", "bad loop entry");
  refuse_json(part_with("loop", "device", json_string("/dev/loop03")), "loop device /dev/loop03",
              "bad loop entry");
  accept_json(part_with("loop", "device", json_string("/dev/loop1048575")),
              "loop device /dev/loop1048575, the highest loop number");
  refuse_json(part_with("loop", "device", json_string("../dev/loop3")), "loop device ../dev/loop3",
              "bad loop entry");
  char name[40] = "/dev/loop";
  memset(name + 9, '1', sizeof(name) - 10);
  name[32] = '\0';
  refuse_json(part_with("loop", "device", json_string(name)), "loop device name of 32 bytes",
              "bad loop entry");
  name[31] = '\0';
  refuse_json(part_with("loop", "device", json_string(name)),
              "loop device name of 31 bytes: more digits than a loop number has", "bad loop entry");
  refuse_json(part_with("loop", "device", json_integer(3)), "loop device a number",
              "bad loop entry");
  refuse_json(part_with("loop", "major", NULL), "loop without major", "bad loop entry");
  refuse_json(part_with("loop", "major", json_integer(-7)), "loop major negative",
              "bad loop entry");
  refuse_json(part_with("loop", "major", json_integer(0x1000)), "loop major 4096",
              "bad loop entry");
  accept_json(part_with("loop", "major", json_integer(0xfff)), "loop major 4095");
  refuse_json(part_with("loop", "minor", json_integer(0x100000)), "loop minor 2^20",
              "bad loop entry");
  accept_json(part_with("loop", "minor", json_integer(0xfffff)), "loop minor 2^20-1");
  refuse_json(part_with("loop", "minor", json_string("3")), "loop minor a string",
              "bad loop entry");
  refuse_json(part_with("loop", "attached", NULL), "loop without attached", "bad loop entry");
  refuse_json(part_with("loop", "attached", json_integer(1)), "loop attached a number",
              "bad loop entry");
}

static void test_mounts(void)
{
  refuse_json(mount0("rootfs", "squashfs"), "rootfs as squashfs", "unexpected mount entry 0");
  refuse_json(mount0(".image", "overlay"), ".image as overlay", "unexpected mount entry 0");
  refuse_json(mount0("/", "overlay"), "mount on /", "unexpected mount entry 0");
  refuse_json(mount0("../rootfs", "overlay"), "mount on ../rootfs", "unexpected mount entry 0");
  refuse_json(mount0("rootfs/../../x", "overlay"), "mount on rootfs/../../x",
              "unexpected mount entry 0");
  refuse_json(mount0("/etc", "overlay"), "mount on /etc", "unexpected mount entry 0");
  refuse_json(mount0("rootfs", "ext4"), "rootfs as ext4", "unexpected mount entry 0");
  json_t *o = base_json();
  json_array_set_new(json_object_get(o, "mounts"), 1,
                     json_pack("{s:s, s:s}", "Target", "rootfs", "type", "overlay"));
  refuse_json(o, "mount entry with 'Target'", "unexpected mount entry 1");
  o = base_json();
  json_array_set_new(json_object_get(o, "mounts"), 1, json_string("rootfs"));
  refuse_json(o, "mount entry a string", "unexpected mount entry 1");
  /* .image, rootfs, .image, rootfs, ...: each one allowed, as many as
   * the layers' mounts and four more at most. */
  o = base_json();
  json_t *m = json_object_get(o, "mounts"), *copy = json_deep_copy(m);
  while (json_array_size(m) < BUNDLE_RECORD_MAX_MOUNTS)
    json_array_append(m, json_array_get(copy, json_array_size(m) % 2));
  accept_json(json_deep_copy(o), "BUNDLE_RECORD_MAX_MOUNTS mount entries");
  json_array_append(m, json_array_get(copy, 0));
  json_decref(copy);
  refuse_json(o, "one mount entry more than BUNDLE_RECORD_MAX_MOUNTS", "bad mounts");
}

/* A version 2 record of a 3-layer image: the layers' loops, their mounts
 * on .layers/N, the names made. */
static json_t *layers_json(void)
{
  json_t *o = with(without(base_json(), "loop"), "version", json_integer(2));
  json_t *loops = json_array(), *mounts = json_array(), *created = json_array();
  json_array_append_new(created, json_string(".layers"));
  for (int i = 0; i < 3; i++) {
    char name[16];
    snprintf(name, sizeof(name), ".layers/%d", i);
    json_array_append_new(loops, json_pack("{s:s, s:i, s:i, s:b, s:i, s:i}", "device",
                                           i == 0   ? "/dev/loop4"
                                           : i == 1 ? "/dev/loop5"
                                                    : "/dev/loop6",
                                           "major", 7, "minor", 4 + i, "attached", 1, "offset",
                                           4096 * (i + 1), "size", 4096));
    json_array_append_new(mounts, json_pack("{s:s, s:s}", "target", name, "type", "squashfs"));
    json_array_append_new(created, json_string(name));
  }
  json_array_append_new(mounts, json_pack("{s:s, s:s}", "target", "rootfs", "type", "overlay"));
  json_object_set_new(o, "layerLoops", loops);
  json_object_set_new(o, "mounts", mounts);
  return with(o, "created", created);
}

static json_t *layer_loop0_with(const char *key, json_t *value)
{
  json_t *o = layers_json();
  json_t *l = json_array_get(json_object_get(o, "layerLoops"), 0);
  if (value)
    json_object_set_new(l, key, value);
  else
    json_object_del(l, key);
  return o;
}

static void test_layers(void)
{
  static const char *const good[] = {".layers",    ".layers/0",   ".layers/9",
                                     ".layers/10", ".layers/127", NULL};
  static const char *const bad[] = {
      ".layers/",    ".layers/128", ".layers/01",     ".layers/-1",   ".layers/+1",
      ".layers/1/x", ".layers/..",  ".layers/../etc", ".layers/1000", ".layers/ 1",
      ".layers//1",  ".layers/0x1", ".layer/1",       "layers/1",     NULL,
  };
  for (const char *const *n = good; *n; n++)
    TAP_OK(bundle_record_name_ok(*n), "layer name '%s' is one mount makes", *n);
  for (const char *const *n = bad; *n; n++)
    TAP_OK(!bundle_record_name_ok(*n), "layer name '%s' refused", *n);
  TAP_OK(!bundle_record_layer_name_ok(".layers"), "'.layers' is no layer's mount point");

  accept_json(layers_json(), "a version 2 record of three layers");
  accept_json(base_json(), "a version 1 record, as mount wrote it before layers");
  refuse_json(with(layers_json(), "version", json_integer(1)), "layerLoops in a version 1 record",
              "bad layerLoops");
  refuse_json(with(layers_json(), "layerLoops", json_array()), "layerLoops empty",
              "bad layerLoops");
  refuse_json(with(layers_json(), "layerLoops", json_object()), "layerLoops an object",
              "bad layerLoops");
  refuse_json(layer_loop0_with("device", json_string("/dev/sda")), "layer loop /dev/sda",
              "bad layerLoops entry 0");
  refuse_json(layer_loop0_with("offset", NULL), "layer loop without offset",
              "bad layerLoops entry 0");
  refuse_json(layer_loop0_with("size", json_integer(-1)), "layer loop size negative",
              "bad layerLoops entry 0");
  refuse_json(layer_loop0_with("attached", json_string("yes")), "layer loop attached a string",
              "bad layerLoops entry 0");
  json_t *o = layers_json();
  json_t *loops = json_object_get(o, "layerLoops");
  while (json_array_size(loops) <= BUNDLE_RECORD_MAX_LAYERS)
    json_array_append(loops, json_array_get(loops, 0));
  refuse_json(o, "more layer loops than BUNDLE_RECORD_MAX_LAYERS", "bad layerLoops");
  refuse_json(with(layers_json(), "method", json_string("extract")), "extracted with layer loops",
              "an extracted bundle with mounts");
  refuse_json(with(layers_json(), "method", json_string("fuse")), "fuse with layer loops",
              "a FUSE bundle with a loop device");
  o = layers_json();
  json_array_set_new(json_object_get(o, "mounts"), 1,
                     json_pack("{s:s, s:s}", "target", ".layers/1", "type", "overlay"));
  refuse_json(o, "a layer mounted as overlay", "unexpected mount entry 1");
  o = layers_json();
  json_array_set_new(json_object_get(o, "mounts"), 1,
                     json_pack("{s:s, s:s}", "target", ".layers/128", "type", "squashfs"));
  refuse_json(o, "a mount on .layers/128", "unexpected mount entry 1");
  o = with(without(layers_json(), "layerLoops"), "method", json_string("fuse"));
  json_array_set_new(json_object_get(o, "mounts"), 3,
                     json_pack("{s:s, s:s}", "target", "rootfs", "type", "fuse.fuse-overlayfs"));
  for (int i = 0; i < 3; i++) {
    char name[16];
    snprintf(name, sizeof(name), ".layers/%d", i);
    json_array_set_new(json_object_get(o, "mounts"), (size_t)i,
                       json_pack("{s:s, s:s}", "target", name, "type", "fuse.squashfuse_ll"));
  }
  accept_json(o, "fuse: a squashfuse per layer");
}

/* Without layer loops a record is still written as version 1, what older
 * code reads. */
static void test_version_1_kept(void)
{
  struct bundle_record rec;
  cleanup_error oci_error *err = NULL;
  fill(&rec, true);
  TAP_IS_INT(bundle_record_save(dfd, &rec, &err), 0, "a record without layers: saved");
  int fd = openat(dfd, BUNDLE_RECORD_NAME, O_RDONLY | O_CLOEXEC);
  char buf[4096] = "";
  ssize_t got = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
  if (fd >= 0)
    close(fd);
  TAP_OK(got > 0 && strstr(buf, "\"version\": 1,") != NULL && strstr(buf, "layerLoops") == NULL,
         "a record without layers: version 1, no layerLoops (what older code reads)");
  bundle_record_clear(&rec);
}

/* "method": absent or "kernel" (mounts), "extract" (a tree, no mounts) */
static void test_method(void)
{
  refuse_json(with(base_json(), "method", json_string("squash")), "method 'squash'",
              "unknown method");
  refuse_json(with(base_json(), "method", json_string("fuse")), "fuse with a loop device",
              "a FUSE bundle with a loop device");
  refuse_json(with(without(base_json(), "loop"), "method", json_string("fuse")),
              "fuse with kernel mount types", "unexpected mount entry 0");
  refuse_json(with(base_json(), "method", json_integer(1)), "method a number", "unknown method");
  refuse_json(with(base_json(), "method", json_string("extract")), "extract with mounts",
              "an extracted bundle with mounts");
  accept_json(with(base_json(), "method", json_string("kernel")), "method 'kernel'");
  json_t *o = with(without(base_json(), "loop"), "method", json_string("extract"));
  json_object_set_new(o, "mounts", json_array());
  accept_json(o, "method 'extract' without mounts or loop");
  accept_json(fuse_json(json_integer(4242), json_integer(99)), "method 'fuse' with its daemons");
  refuse_json(fuse_json(json_integer(1), json_integer(99)), "fuse daemon pid 1",
              "bad daemon of mount entry 0");
  refuse_json(fuse_json(json_string("42"), json_integer(99)), "fuse daemon pid a string",
              "bad daemon of mount entry 0");
  refuse_json(fuse_json(json_integer(42), NULL), "fuse daemon without its start time",
              "bad daemon of mount entry 0");
}

static void test_created(void)
{
  static const char *const bad[] = {
      "../etc",      "/etc/passwd", "volumes/../../etc", "rootfs/../..",
      "volumes/a/b", "volumes/..",  "overlay/upper/etc", "",
      "..",          "etc",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char what[80];
    snprintf(what, sizeof(what), "created name '%s'", bad[i]);
    refuse_json(created_plus(json_string(bad[i])), what, "unexpected name");
  }
  refuse_json(created_plus(json_integer(1)), "created name a number", "unexpected name");
  refuse_json(created_plus(json_null()), "created name null", "unexpected name");
  accept_json(created_n(BUNDLE_RECORD_MAX_CREATED), "BUNDLE_RECORD_MAX_CREATED created names");
  refuse_json(created_n(BUNDLE_RECORD_MAX_CREATED + 1), "one created name more", "bad mounts");
}

/* Damage to the text itself, and a file the loader must not read. */
static void test_text(void)
{
  size_t len = strlen(base_text), not_refused = 0, first = 0;
  if (!root) {
    skip("every cut of the record");
  } else {
    for (size_t n = 0; n < len; n++) {
      struct bundle_record rec;
      cleanup_error oci_error *err = NULL;
      if (!write_record(base_text, n)) {
        not_refused++;
        continue;
      }
      int r = bundle_record_load(dfd, &rec, &err);
      if (r == 0)
        bundle_record_clear(&rec);
      if (r >= 0 || err == NULL || strstr(err->msg, "damaged") == NULL || !rec_is_clear(&rec)) {
        if (not_refused++ == 0)
          first = n;
      }
    }
    TAP_IS_INT(not_refused, 0, "every record cut short (0 to %zu bytes) is refused as damaged",
               len - 1);
    if (not_refused)
      printf("#   the first not refused: %zu bytes\n", first);
  }

  static const struct {
    const char *text, *what, *want;
  } texts[] = {
      {"[]", "a list", "not an object"},
      {"\"sifoci-mount\"", "a string", "damaged"},
      {"null", "null", "damaged"},
      {"{\"format\": \"sifoci-mount\"} {}", "trailing data", "damaged"},
      {"{\"format\": \"sifoci-mount\", \"format\": \"sifoci-mount\"}", "a key twice", "duplicate"},
      {"{\"format\": \"sifoci-mount\", \"version\": 1, \"state\": \"mounted\","
       " \"bundle\": \"/b\", \"bundleCreated\": false,"
       " \"image\": {\"path\": \"/i\", \"dev\": 1, \"ino\": 1, \"offset\": 0, \"size\": 0},"
       " \"mounts\": [], \"created\": [\"volumes/a\\u0000/../../etc\"]}",
       "a NUL in a name", "damaged"},
      {"{\"format\": \"sifoci-mount\", \"version\": 1, \"state\": \"mounted\","
       " \"bundle\": \"/b\", \"bundleCreated\": false,"
       " \"image\": {\"path\": \"/i\", \"dev\": 1, \"ino\": 1, \"offset\": 0, \"size\": 0},"
       " \"mounts\": [], \"created\": [], \"created\": [\"../etc\"]}",
       "a second created list", "duplicate"},
      {"{\"format\": \"sifoci-mount\", \"version\": 1, \"state\": \"mounted\","
       " \"bundle\": \"/b\", \"bundleCreated\": false,"
       " \"image\": {\"path\": \"/i\", \"dev\": 1, \"ino\": 1, \"offset\": 0,"
       " \"size\": 99999999999999999999},"
       " \"mounts\": [], \"created\": []}",
       "a size beyond 64 bits", "damaged"},
      {"\xff\xfe{}", "not UTF-8", "damaged"},
  };
  for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
    if (!write_record(texts[i].text, strlen(texts[i].text)))
      TAP_OK(false, "refused: %s (could not write it)", texts[i].what);
    else if (!root)
      skip(texts[i].what);
    else
      expect_refused(texts[i].what, texts[i].want);
  }
}

static void test_size(void)
{
  /* The base record padded with spaces to exactly the limit, then one more
   * byte. */
  size_t len = strlen(base_text);
  cleanup_free char *big = malloc(BUNDLE_RECORD_MAX_SIZE + 1);
  if (big == NULL) {
    TAP_OK(false, "allocating a large record");
    return;
  }
  memset(big, ' ', BUNDLE_RECORD_MAX_SIZE + 1);
  memcpy(big, base_text, len);
  if (!write_record(big, BUNDLE_RECORD_MAX_SIZE) || !root) {
    skip("a record of exactly the size limit");
  } else {
    struct bundle_record rec;
    cleanup_error oci_error *err = NULL;
    TAP_IS_INT(bundle_record_load(dfd, &rec, &err), 0, "a record of exactly %u bytes loads",
               BUNDLE_RECORD_MAX_SIZE);
    if (err)
      printf("#   error: %s\n", err->msg);
    bundle_record_clear(&rec);
  }
  if (!write_record(big, BUNDLE_RECORD_MAX_SIZE + 1) || !root)
    skip("a record over the size limit");
  else
    expect_refused("a record one byte over the size limit", "larger than");
}

/* What is at the record's name must be a regular file of root's that only
 * root can write: no symlink to a record elsewhere, no directory. */
static void test_file(void)
{
  bool written = write_record(base_text, strlen(base_text));
  if (written && root) {
    if (fchownat(dfd, BUNDLE_RECORD_NAME, 65534, 65534, AT_SYMLINK_NOFOLLOW) < 0) {
      TAP_OK(false, "chown the record: %s", strerror(errno));
    } else {
      expect_refused("a record owned by uid 65534", "root-owned");
    }
    written = write_record(base_text, strlen(base_text));
  }
  if (!root) {
    /* A record of ours, not root's: the ownership check must refuse it. */
    if (written)
      expect_refused("a record not owned by root", "root-owned");
    skip("a group-writable record");
    skip("a symlink to a record");
    skip("a directory as the record");
    return;
  }
  if (!written || fchmodat(dfd, BUNDLE_RECORD_NAME, 0620, 0) < 0)
    TAP_OK(false, "chmod the record: %s", strerror(errno));
  else
    expect_refused("a group-writable record", "root-owned");

  /* A good record elsewhere, and the record name a symlink to it. */
  remove_record();
  unlinkat(dfd, "elsewhere.json", 0);
  cleanup_close int fd =
      openat(dfd, "elsewhere.json", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 || write_all(fd, base_text, strlen(base_text)) < 0 ||
      symlinkat("elsewhere.json", dfd, BUNDLE_RECORD_NAME) < 0)
    TAP_OK(false, "making the symlink: %s", strerror(errno));
  else
    expect_refused("a symlink to a record", "opening");
  unlinkat(dfd, "elsewhere.json", 0);

  remove_record();
  if (mkdirat(dfd, BUNDLE_RECORD_NAME, 0700) < 0)
    TAP_OK(false, "making a directory: %s", strerror(errno));
  else
    expect_refused("a directory as the record", "not a regular file");
  remove_record();
}

static void test_stale_tmp(void)
{
  const char *sub = "stale";
  cleanup_close int fd = -1;
  if (mkdirat(dfd, sub, 0700) < 0 ||
      (fd = openat(dfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
    TAP_OK(false, "making a directory: %s", strerror(errno));
    return;
  }
  TAP_OK(!bundle_only_stale_record_tmp(fd), "an empty directory holds no stale temp record");
  int t = openat(fd, BUNDLE_RECORD_TMP_NAME, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (t >= 0)
    close(t);
  TAP_OK(bundle_only_stale_record_tmp(fd), "only the temp record: stale");
  t = openat(fd, BUNDLE_RECORD_NAME, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (t >= 0)
    close(t);
  TAP_OK(!bundle_only_stale_record_tmp(fd), "temp record and record: not only the temp record");
  unlinkat(fd, BUNDLE_RECORD_TMP_NAME, 0);
  unlinkat(fd, BUNDLE_RECORD_NAME, 0);
  unlinkat(dfd, sub, AT_REMOVEDIR);
}

int main(void)
{
  const char *tmp = getenv("TMPDIR");
  char dir[4096];
  snprintf(dir, sizeof(dir), "%s/test-mount-record-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL ||
      (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
    printf("Bail out! temp dir '%s': %s\n", dir, strerror(errno));
    return 1;
  }
  root = geteuid() == 0;
  if (!root)
    printf("# not root: the checks that load a record are skipped\n");

  test_names();
  test_add_created();
  test_missing();
  test_round_trip(RT_LOOP);
  test_round_trip(RT_BARE);
  test_round_trip(RT_LAYERS);
  test_base();
  test_fields();
  test_loop();
  test_mounts();
  test_layers();
  test_version_1_kept();
  test_method();
  test_created();
  test_text();
  test_size();
  test_file();
  test_stale_tmp();

  remove_record();
  unlinkat(dfd, BUNDLE_RECORD_TMP_NAME, 0);
  close(dfd);
  if (rmdir(dir) < 0)
    printf("# could not remove '%s': %s\n", dir, strerror(errno));
  return tap_done();
}
