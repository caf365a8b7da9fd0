/* SPDX-License-Identifier: Apache-2.0 */
#include "mount-record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "overlay-layers.h"

static const char *const state_names[BUNDLE_RECORD_STATE_MAX] = {"mounting", "mounted"};

/* The fixed things mount makes; volumes/<one component> is the only
 * variable name. */
static const char *const fixed_names[] = {
    "rootfs",       ".image",  "overlay",     "overlay/upper",
    "overlay/work", "volumes", "config.json", "resolv.conf", /* oci mount --dns (spec-options.h) */
    ".sif-overlay", /* the SIF's overlay partition (overlay-partition.h) */
    ".layers",      /* a multi-layer OCI-SIF's layers, .layers/N each */
    ".overlays",    /* --overlay image files' mount points (overlay-files.h) */
};

bool bundle_record_layer_name_ok(const char *name)
{
  if (strncmp(name, BUNDLE_LAYERS_DIR "/", sizeof(BUNDLE_LAYERS_DIR)) != 0)
    return false;
  const char *n = name + sizeof(BUNDLE_LAYERS_DIR);
  size_t len = strlen(n);
  if (len == 0 || len > 3 || (n[0] == '0' && len > 1) || strspn(n, "0123456789") != len)
    return false;
  return atoi(n) < BUNDLE_RECORD_MAX_LAYERS;
}

bool bundle_record_name_ok(const char *name)
{
  if (bundle_record_layer_name_ok(name))
    return true;
  for (size_t i = 0; i < sizeof(fixed_names) / sizeof(fixed_names[0]); i++)
    if (strcmp(name, fixed_names[i]) == 0)
      return true;
  if (strncmp(name, "volumes/", 8) != 0)
    return false;
  const char *v = name + 8;
  return *v != '\0' && strchr(v, '/') == NULL && strcmp(v, ".") != 0 && strcmp(v, "..") != 0 &&
         strlen(v) <= 255;
}

static bool mount_ok(const char *target, const char *type, bool fuse)
{
  bool image = strcmp(target, ".image") == 0 || bundle_record_layer_name_ok(target);
  if (fuse)
    return (image &&
            (strcmp(type, "fuse.squashfuse_ll") == 0 || strcmp(type, "fuse.squashfuse") == 0)) ||
           (strcmp(target, "rootfs") == 0 && strcmp(type, "fuse.fuse-overlayfs") == 0);
  return (image && strcmp(type, "squashfs") == 0) ||
         (strcmp(target, "rootfs") == 0 && strcmp(type, "overlay") == 0) ||
         (strcmp(target, "overlay") == 0 && strcmp(type, "tmpfs") == 0) ||
         (strcmp(target, ".sif-overlay") == 0 && strcmp(type, "ext3") == 0);
}

static const char *method_name(const struct bundle_record *rec)
{
  return rec->fuse ? "fuse" : rec->extracted ? "extract" : "kernel";
}

int bundle_record_add_created(struct bundle_record *rec, const char *name, oci_error **err)
{
  if (rec->n_created >= BUNDLE_RECORD_MAX_CREATED)
    return oci_error_set(err, 0, "too many entries in the mount record");
  char **n = realloc(rec->created, (rec->n_created + 2) * sizeof(char *));
  if (n == NULL)
    return oci_error_set(err, ENOMEM, "mount record");
  rec->created = n;
  rec->created[rec->n_created] = strdup(name);
  if (rec->created[rec->n_created] == NULL)
    return oci_error_set(err, ENOMEM, "mount record");
  rec->created[++rec->n_created] = NULL;
  return 0;
}

static json_t *record_json(const struct bundle_record *rec)
{
  json_t *o = json_pack(
      "{s:s, s:i, s:s, s:s, s:b, s:{s:s, s:I, s:I, s:I, s:I}}", "format", BUNDLE_RECORD_FORMAT,
      "version", rec->n_layer_loops > 0 ? BUNDLE_RECORD_VERSION : BUNDLE_RECORD_VERSION_1, "state",
      state_names[rec->state], "bundle", rec->bundle, "bundleCreated", rec->bundle_created, "image",
      "path", rec->image, "dev", (json_int_t)rec->image_dev, "ino", (json_int_t)rec->image_ino,
      "offset", (json_int_t)rec->offset, "size", (json_int_t)rec->size);
  if (o == NULL)
    return NULL;
  if (rec->has_loop &&
      json_object_set_new(o, "loop",
                          json_pack("{s:s, s:I, s:I, s:b}", "device", rec->loop_device, "major",
                                    (json_int_t)major(rec->loop_rdev), "minor",
                                    (json_int_t)minor(rec->loop_rdev), "attached",
                                    rec->loop_attached)) < 0)
    goto fail;
  if (rec->n_layer_loops > 0) {
    json_t *loops = json_array();
    if (json_object_set_new(o, "layerLoops", loops) < 0)
      goto fail;
    for (size_t i = 0; i < rec->n_layer_loops; i++) {
      const struct bundle_record_loop *l = &rec->layer_loops[i];
      if (json_array_append_new(loops, json_pack("{s:s, s:I, s:I, s:b, s:I, s:I}", "device",
                                                 l->device, "major", (json_int_t)major(l->rdev),
                                                 "minor", (json_int_t)minor(l->rdev), "attached",
                                                 l->attached, "offset", (json_int_t)l->offset,
                                                 "size", (json_int_t)l->size)) < 0)
        goto fail;
    }
  }
  json_t *mounts = json_array(), *created = json_array();
  if (json_object_set_new(o, "method", json_string(method_name(rec))) < 0 ||
      json_object_set_new(o, "mounts", mounts) < 0 ||
      json_object_set_new(o, "created", created) < 0)
    goto fail;
  for (size_t i = 0; i < rec->n_mounts; i++) {
    const struct bundle_record_mount *m = &rec->mounts[i];
    json_t *e = json_pack("{s:s, s:s}", "target", m->target, "type", m->type);
    if (e != NULL && m->pid > 0 &&
        (json_object_set_new(e, "pid", json_integer(m->pid)) < 0 ||
         json_object_set_new(e, "pidStart", json_integer((json_int_t)m->pid_start)) < 0)) {
      json_decref(e);
      goto fail;
    }
    if (json_array_append_new(mounts, e) < 0)
      goto fail;
  }
  for (size_t i = 0; i < rec->n_created; i++)
    if (json_array_append_new(created, json_string(rec->created[i])) < 0)
      goto fail;
  if (rec->options != NULL && json_object_set(o, "options", rec->options) < 0)
    goto fail;
  if (rec->overlays != NULL && json_object_set(o, "overlays", rec->overlays) < 0)
    goto fail;
  return o;
fail:
  json_decref(o);
  return NULL;
}

int bundle_record_save(int dirfd, const struct bundle_record *rec, oci_error **err)
{
  json_auto_t *o = record_json(rec);
  if (o == NULL)
    return oci_error_set(err, ENOMEM, "building the mount record");
  cleanup_free char *text = json_dumps(o, JSON_INDENT(2));
  if (text == NULL)
    return oci_error_set(err, ENOMEM, "building the mount record");
  size_t len = strlen(text);
  if (fs_write_file_at(dirfd, BUNDLE_RECORD_NAME, text, len, 0600, 0, err) < 0)
    return oci_error_prefix(err, "writing the mount record");
  return 0;
}

static int get_u64(json_t *o, const char *key, uint64_t *ret)
{
  json_t *v = json_object_get(o, key);
  if (!json_is_integer(v) || json_integer_value(v) < 0)
    return -1;
  *ret = (uint64_t)json_integer_value(v);
  return 0;
}

/* "/dev/loopN" and nothing else: the record names the device umount may
 * detach. */
static bool is_loop_device_name(const char *name)
{
  if (name == NULL || strncmp(name, "/dev/loop", 9) != 0)
    return false;
  const char *n = name + 9;
  if (*n < '0' || *n > '9' || (n[0] == '0' && n[1] != '\0'))
    return false;
  for (; *n; n++)
    if (*n < '0' || *n > '9')
      return false;
  return strlen(name) <= 9 + 7;
}

/* Only shown (oci inspect BUNDLE), never acted on: checked for shape. */
static int parse_options(json_t *options, struct bundle_record *rec, oci_error **err)
{
  if (options == NULL)
    return 0;
  if (!json_is_array(options) || json_array_size(options) > BUNDLE_RECORD_MAX_OPTIONS)
    return oci_error_set(err, 0, "bad options list");
  size_t i;
  json_t *e;
  json_array_foreach(options, i, e)
  {
    json_t *v = json_array_get(e, 1);
    if (!json_is_array(e) || json_array_size(e) != 2 || !json_is_string(json_array_get(e, 0)) ||
        !(json_is_string(v) || json_is_null(v)))
      return oci_error_set(err, 0, "bad options entry %zu", i);
  }
  rec->options = json_incref(options);
  return 0;
}

/* The layers' loop devices (version 2 only). */
static int parse_layer_loops(json_t *loops, json_int_t version, struct bundle_record *rec,
                             oci_error **err)
{
  if (version < 2 || !json_is_array(loops) || json_array_size(loops) == 0 ||
      json_array_size(loops) > BUNDLE_RECORD_MAX_LAYERS)
    return oci_error_set(err, 0, "bad layerLoops list");
  size_t i;
  json_t *e;
  json_array_foreach(loops, i, e)
  {
    struct bundle_record_loop *l = &rec->layer_loops[i];
    const char *device = json_string_value(json_object_get(e, "device"));
    uint64_t maj, min;
    if (!is_loop_device_name(device) || strlen(device) >= sizeof(l->device) ||
        get_u64(e, "major", &maj) < 0 || get_u64(e, "minor", &min) < 0 || maj > 0xfff ||
        min > 0xfffff || !json_is_boolean(json_object_get(e, "attached")) ||
        get_u64(e, "offset", &l->offset) < 0 || get_u64(e, "size", &l->size) < 0)
      return oci_error_set(err, 0, "bad layerLoops entry %zu", i);
    strcpy(l->device, device);
    l->rdev = makedev((unsigned)maj, (unsigned)min);
    l->attached = json_is_true(json_object_get(e, "attached"));
    rec->n_layer_loops++;
  }
  return 0;
}

static int parse(json_t *o, struct bundle_record *rec, oci_error **err)
{
  const char *format = json_string_value(json_object_get(o, "format"));
  json_t *version = json_object_get(o, "version");
  if (format == NULL || strcmp(format, BUNDLE_RECORD_FORMAT) != 0)
    return oci_error_set(err, 0, "not a sifoci mount record");
  if (!json_is_integer(version) || json_integer_value(version) < BUNDLE_RECORD_VERSION_1 ||
      json_integer_value(version) > BUNDLE_RECORD_VERSION)
    return oci_error_set(err, 0, "mount record version %lld is not supported (only %d to %d)",
                         (long long)json_integer_value(version), BUNDLE_RECORD_VERSION_1,
                         BUNDLE_RECORD_VERSION);
  const char *state = json_string_value(json_object_get(o, "state"));
  rec->state = BUNDLE_RECORD_STATE_MAX;
  for (int i = 0; state != NULL && i < BUNDLE_RECORD_STATE_MAX; i++)
    if (strcmp(state, state_names[i]) == 0)
      rec->state = (enum bundle_record_state)i;
  if (rec->state == BUNDLE_RECORD_STATE_MAX)
    return oci_error_set(err, 0, "unknown state '%s'", state ? state : "(none)");
  json_t *image = json_object_get(o, "image");
  const char *bundle = json_string_value(json_object_get(o, "bundle"));
  const char *ipath = json_string_value(json_object_get(image, "path"));
  uint64_t dev, ino;
  if (bundle == NULL || ipath == NULL || !json_is_boolean(json_object_get(o, "bundleCreated")) ||
      get_u64(image, "dev", &dev) < 0 || get_u64(image, "ino", &ino) < 0 ||
      get_u64(image, "offset", &rec->offset) < 0 || get_u64(image, "size", &rec->size) < 0)
    return oci_error_set(err, 0, "bundle or image fields missing");
  rec->bundle = strdup(bundle);
  rec->image = strdup(ipath);
  if (rec->bundle == NULL || rec->image == NULL)
    return oci_error_set(err, ENOMEM, "mount record");
  rec->bundle_created = json_is_true(json_object_get(o, "bundleCreated"));
  rec->image_dev = (dev_t)dev;
  rec->image_ino = (ino_t)ino;

  json_t *method = json_object_get(o, "method");
  const char *mname = json_string_value(method);
  if (method != NULL &&
      (mname == NULL || (strcmp(mname, "kernel") != 0 && strcmp(mname, "extract") != 0 &&
                         strcmp(mname, "fuse") != 0)))
    return oci_error_set(err, 0, "unknown method");
  rec->extracted = mname != NULL && strcmp(mname, "extract") == 0;
  rec->fuse = mname != NULL && strcmp(mname, "fuse") == 0;

  json_t *loop = json_object_get(o, "loop");
  if (loop != NULL) {
    const char *device = json_string_value(json_object_get(loop, "device"));
    uint64_t maj, min;
    if (!is_loop_device_name(device) || strlen(device) >= sizeof(rec->loop_device) ||
        get_u64(loop, "major", &maj) < 0 || get_u64(loop, "minor", &min) < 0 || maj > 0xfff ||
        min > 0xfffff || !json_is_boolean(json_object_get(loop, "attached")))
      return oci_error_set(err, 0, "bad loop entry");
    rec->has_loop = true;
    strcpy(rec->loop_device, device);
    rec->loop_rdev = makedev((unsigned)maj, (unsigned)min);
    rec->loop_attached = json_is_true(json_object_get(loop, "attached"));
  }

  json_t *loops = json_object_get(o, "layerLoops");
  if (loops != NULL && parse_layer_loops(loops, json_integer_value(version), rec, err) < 0)
    return -1;

  json_t *mounts = json_object_get(o, "mounts"), *created = json_object_get(o, "created");
  if (!json_is_array(mounts) || json_array_size(mounts) > BUNDLE_RECORD_MAX_MOUNTS ||
      !json_is_array(created) || json_array_size(created) > BUNDLE_RECORD_MAX_CREATED)
    return oci_error_set(err, 0, "bad mounts or created list");
  if (rec->extracted && (json_array_size(mounts) > 0 || loop != NULL || loops != NULL))
    return oci_error_set(err, 0, "an extracted bundle with mounts");
  if (rec->fuse && (loop != NULL || loops != NULL))
    return oci_error_set(err, 0, "a FUSE bundle with a loop device");
  size_t i;
  json_t *e;
  json_array_foreach(mounts, i, e)
  {
    const char *target = json_string_value(json_object_get(e, "target"));
    const char *type = json_string_value(json_object_get(e, "type"));
    if (target == NULL || type == NULL || !mount_ok(target, type, rec->fuse))
      return oci_error_set(err, 0, "unexpected mount entry %zu", i);
    struct bundle_record_mount *m = &rec->mounts[i];
    strcpy(m->target, target);
    strcpy(m->type, type);
    json_t *pid = json_object_get(e, "pid");
    uint64_t start = 0;
    if (pid != NULL && (!json_is_integer(pid) || json_integer_value(pid) <= 1 ||
                        json_integer_value(pid) > INT_MAX || get_u64(e, "pidStart", &start) < 0))
      return oci_error_set(err, 0, "bad daemon of mount entry %zu", i);
    m->pid = pid != NULL ? (int)json_integer_value(pid) : 0;
    m->pid_start = start;
    rec->n_mounts++;
  }
  json_array_foreach(created, i, e)
  {
    const char *name = json_string_value(e);
    if (name == NULL || !bundle_record_name_ok(name))
      return oci_error_set(err, 0, "unexpected name in the created list");
    if (bundle_record_add_created(rec, name, err) < 0)
      return -1;
  }
  json_t *overlays = json_object_get(o, "overlays");
  if (overlays != NULL && !bundle_overlays_json_ok(overlays))
    return oci_error_set(err, 0, "bad overlays list");
  rec->overlays = json_incref(overlays);
  return parse_options(json_object_get(o, "options"), rec, err);
}

int bundle_record_load(int dirfd, struct bundle_record *rec, oci_error **err)
{
  memset(rec, 0, sizeof(*rec));
  cleanup_free char *text = NULL;
  size_t len = 0;
  int r = fs_read_file_at(dirfd, BUNDLE_RECORD_NAME, BUNDLE_RECORD_MAX_SIZE, FS_READ_ROOT_OWNED,
                          &text, &len, err);
  if (r != 0)
    return r;
  json_error_t jerr;
  json_auto_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!json_is_object(o))
    return oci_error_set(err, 0, "mount record is damaged: %s", o ? "not an object" : jerr.text);
  if (parse(o, rec, err) < 0) {
    bundle_record_clear(rec);
    return oci_error_prefix(err, "mount record is damaged");
  }
  return 0;
}

void bundle_record_clear(struct bundle_record *rec)
{
  free(rec->bundle);
  free(rec->image);
  cleanup_strv_fn(&rec->created);
  json_decref(rec->options);
  json_decref(rec->overlays);
  memset(rec, 0, sizeof(*rec));
}

struct stale_scan {
  bool tmp, other;
};

static int note_entry(int dirfd, const struct dirent *e, void *data, oci_error **err)
{
  struct stale_scan *scan = data;
  if (strcmp(e->d_name, BUNDLE_RECORD_TMP_NAME) == 0)
    scan->tmp = true;
  else
    scan->other = true;
  return scan->other ? 1 : 0;
}

bool bundle_only_stale_record_tmp(int dirfd)
{
  struct stale_scan scan = {0};
  cleanup_error oci_error *e = NULL;
  if (fs_dir_scan(dirfd, note_entry, &scan, &e) < 0)
    return false;
  return scan.tmp && !scan.other;
}

struct new_dir_scan {
  char prefix[256];
  size_t prefix_len;
  int parent_fd;
};

static int sweep_entry(int dirfd, const struct dirent *e, void *data, oci_error **err)
{
  struct new_dir_scan *scan = data;
  if (strncmp(e->d_name, scan->prefix, scan->prefix_len) != 0)
    return 0;
  const char *digits = e->d_name + scan->prefix_len;
  char *end = NULL;
  errno = 0;
  long pid = strtol(digits, &end, 10);
  if (digits[0] < '0' || digits[0] > '9' || *end != '\0' || errno != 0 || pid <= 0 || pid > INT_MAX)
    return 0;
  if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
    return 0; /* its mount may still be under way */
  cleanup_error oci_error *rm_err = NULL;
  (void)fs_rm_rf_at(scan->parent_fd, e->d_name, &rm_err);
  return 0;
}

void bundle_sweep_new_dirs(int parent_fd, const char *base)
{
  struct new_dir_scan scan = {.parent_fd = parent_fd};
  int n = snprintf(scan.prefix, sizeof(scan.prefix), BUNDLE_NEW_DIR_FORMAT, base, 0L);
  if (n < 1 || (size_t)n >= sizeof(scan.prefix))
    return;
  scan.prefix_len = (size_t)n - 1; /* without the "0" */
  cleanup_error oci_error *e = NULL;
  (void)fs_dir_scan(parent_fd, sweep_entry, &scan, &e);
}
