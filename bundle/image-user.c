/* SPDX-License-Identifier: Apache-2.0 */
#include "image-user.h"

#include <errno.h>
#include <string.h>

#include "cleanup.h"

bool bundle_parse_id(const char *s, uint32_t *ret)
{
  if (s == NULL || *s == '\0' || strlen(s) > 10)
    return false;
  uint64_t v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9')
      return false;
    v = v * 10 + (uint64_t)(*p - '0');
  }
  if (v >= UINT32_MAX)
    return false;
  *ret = (uint32_t)v;
  return true;
}

/* Field IDX (0-based) of the ':'-separated LINE of length LEN, copied into
 * BUF (truncated fields are treated as absent). */
static bool get_field(const char *line, size_t len, int idx, char *buf, size_t bufsize)
{
  const char *p = line, *end = line + len;
  for (int i = 0; i < idx; i++) {
    const char *c = memchr(p, ':', (size_t)(end - p));
    if (c == NULL)
      return false;
    p = c + 1;
  }
  const char *c = memchr(p, ':', (size_t)(end - p));
  size_t flen = (size_t)((c ? c : end) - p);
  if (flen >= bufsize)
    return false;
  memcpy(buf, p, flen);
  buf[flen] = '\0';
  return true;
}

/* Call FN on each line of TEXT until it returns 0. */
static int for_each_line(const char *text, int (*fn)(const char *line, size_t len, void *ud),
                         void *ud)
{
  const char *p = text;
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    if (len > 0 && p[0] != '#' && fn(p, len, ud) == 0)
      return 0;
    if (nl == NULL)
      break;
    p = nl + 1;
  }
  return 1;
}

struct passwd_query {
  const char *name;
  uint32_t uid;
  uint32_t found_uid, found_gid;
};

static int passwd_line(const char *line, size_t len, void *ud)
{
  struct passwd_query *q = ud;
  char name[BUNDLE_USER_NAME_MAX + 1], uid_s[16], gid_s[16];
  uint32_t uid, gid;
  if (!get_field(line, len, 0, name, sizeof(name)) ||
      !get_field(line, len, 2, uid_s, sizeof(uid_s)) ||
      !get_field(line, len, 3, gid_s, sizeof(gid_s)) || !bundle_parse_id(uid_s, &uid) ||
      !bundle_parse_id(gid_s, &gid))
    return 1; /* a malformed line is skipped, like glibc's files backend */
  if (q->name ? strcmp(q->name, name) != 0 : q->uid != uid)
    return 1;
  q->found_uid = uid;
  q->found_gid = gid;
  return 0;
}

int bundle_passwd_lookup(const char *text, const char *name, uint32_t uid, uint32_t *ret_uid,
                         uint32_t *ret_gid)
{
  struct passwd_query q = {.name = name, .uid = uid};
  if (for_each_line(text, passwd_line, &q) != 0)
    return 1;
  if (ret_uid)
    *ret_uid = q.found_uid;
  if (ret_gid)
    *ret_gid = q.found_gid;
  return 0;
}

struct group_query {
  const char *name;
  uint32_t gid;
};

static int group_line(const char *line, size_t len, void *ud)
{
  struct group_query *q = ud;
  char name[BUNDLE_USER_NAME_MAX + 1], gid_s[16];
  uint32_t gid;
  if (!get_field(line, len, 0, name, sizeof(name)) ||
      !get_field(line, len, 2, gid_s, sizeof(gid_s)) || !bundle_parse_id(gid_s, &gid) ||
      strcmp(name, q->name) != 0)
    return 1;
  q->gid = gid;
  return 0;
}

int bundle_group_lookup(const char *text, const char *name, uint32_t *ret_gid)
{
  struct group_query q = {.name = name};
  if (for_each_line(text, group_line, &q) != 0)
    return 1;
  *ret_gid = q.gid;
  return 0;
}

/* The image's PATH, or NULL in *ret when it has none. */
static int read_db(const struct bundle_image_files *files, const char *path, char **ret,
                   oci_error **err)
{
  size_t len = 0;
  *ret = NULL;
  int r = files->read_file(files->ctx, path, BUNDLE_IMAGE_FILE_MAX, ret, &len, err);
  if (r < 0)
    return -1;
  if (r == 0 && strlen(*ret) != len) {
    free(*ret);
    *ret = NULL;
    return oci_error_set(err, 0, "the image's %s contains a NUL byte", path);
  }
  return 0;
}

static bool valid_name(const char *s)
{
  return *s != '\0' && strlen(s) <= BUNDLE_USER_NAME_MAX && strpbrk(s, ":\n") == NULL;
}

static int resolve_group(const char *user, const char *group,
                         const struct bundle_image_files *files, uint32_t *ret_gid, oci_error **err)
{
  if (bundle_parse_id(group, ret_gid))
    return 0;
  if (!valid_name(group))
    return oci_error_set(err, 0, "User '%s': '%s' is not a valid group", user, group);
  cleanup_free char *text = NULL;
  if (read_db(files, "/etc/group", &text, err) < 0)
    return oci_error_prefix(err, "User '%s'", user);
  if (text == NULL)
    return oci_error_set(err, 0, "User '%s': the image has no /etc/group to look '%s' up in", user,
                         group);
  if (bundle_group_lookup(text, group, ret_gid) != 0)
    return oci_error_set(err, 0, "User '%s': no group '%s' in the image's /etc/group", user, group);
  return 0;
}

int bundle_user_resolve(const char *user, const struct bundle_image_files *files, uint32_t *ret_uid,
                        uint32_t *ret_gid, oci_error **err)
{
  *ret_uid = 0;
  *ret_gid = 0;
  if (user == NULL || *user == '\0')
    return 0;
  if (strlen(user) > 2 * BUNDLE_USER_NAME_MAX + 1)
    return oci_error_set(err, 0, "User is too long (%zu bytes)", strlen(user));
  cleanup_free char *copy = strdup(user);
  if (copy == NULL)
    return oci_error_set(err, ENOMEM, "User '%s'", user);
  char *group = strchr(copy, ':');
  if (group)
    *group++ = '\0';
  const char *name = copy;
  if (*name == '\0' || (group && *group == '\0') || (group && strchr(group, ':')))
    return oci_error_set(err, 0, "User '%s' is not 'user', 'user:group', 'uid' or 'uid:gid'", user);

  uint32_t uid = 0, gid = 0;
  bool numeric = bundle_parse_id(name, &uid);
  if (!numeric && !valid_name(name))
    return oci_error_set(err, 0, "User '%s': '%s' is not a valid user name", user, name);
  /* passwd is needed for a name, and for the primary group of a bare uid. */
  if (!numeric || group == NULL) {
    cleanup_free char *passwd = NULL;
    if (read_db(files, "/etc/passwd", &passwd, err) < 0)
      return oci_error_prefix(err, "User '%s'", user);
    if (!numeric && passwd == NULL)
      return oci_error_set(err, 0, "User '%s': the image has no /etc/passwd to look '%s' up in",
                           user, name);
    if (!numeric && bundle_passwd_lookup(passwd, name, 0, &uid, &gid) != 0)
      return oci_error_set(err, 0, "User '%s': no user '%s' in the image's /etc/passwd", user,
                           name);
    if (numeric && passwd != NULL && bundle_passwd_lookup(passwd, NULL, uid, NULL, &gid) != 0)
      gid = 0;
  }
  if (group != NULL && resolve_group(user, group, files, &gid, err) < 0)
    return -1;
  *ret_uid = uid;
  *ret_gid = gid;
  return 0;
}
