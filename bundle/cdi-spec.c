/* SPDX-License-Identifier: Apache-2.0 */
/* CDI spec files: reading (JSON, YAML), checking, finding a device. */
#include "cdi-spec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cleanup.h"
#include "fs.h"

/* ---- YAML into the JSON values the checks below read ---- */

/* A plain YAML scalar is typed as YAML 1.2's core schema says (integers,
 * booleans, null); a quoted one is always a string. */
static json_t *yaml_scalar(const yaml_node_t *n)
{
  const char *s = (const char *)n->data.scalar.value;
  size_t len = n->data.scalar.length;
  if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return json_stringn(s, len);
  if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0)
    return json_true();
  if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0)
    return json_false();
  if (len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0)
    return json_null();
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 0);
  if (errno == 0 && end == s + len && (s[0] == '-' || s[0] == '+' || (s[0] >= '0' && s[0] <= '9')))
    return json_integer(v);
  return json_stringn(s, len);
}

/* Aliases let a small file name one node many times; *BUDGET caps the
 * nodes made, so nesting them cannot blow up. */
static json_t *yaml_to_json(yaml_document_t *doc, yaml_node_t *n, int depth, size_t *budget)
{
  if (n == NULL || depth > 32 || *budget == 0)
    return NULL;
  --*budget;
  switch (n->type) {
  case YAML_SCALAR_NODE: return yaml_scalar(n);
  case YAML_SEQUENCE_NODE: {
    json_t *a = json_array();
    for (yaml_node_item_t *i = n->data.sequence.items.start; a && i < n->data.sequence.items.top;
         i++) {
      json_t *v = yaml_to_json(doc, yaml_document_get_node(doc, *i), depth + 1, budget);
      if (v == NULL || json_array_append_new(a, v) < 0) {
        json_decref(a);
        return NULL;
      }
    }
    return a;
  }
  case YAML_MAPPING_NODE: {
    json_t *o = json_object();
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; o && p < n->data.mapping.pairs.top;
         p++) {
      yaml_node_t *k = yaml_document_get_node(doc, p->key);
      json_t *v = yaml_to_json(doc, yaml_document_get_node(doc, p->value), depth + 1, budget);
      if (k == NULL || k->type != YAML_SCALAR_NODE || v == NULL ||
          json_object_set_new(o, (const char *)k->data.scalar.value, v) < 0) {
        json_decref(v);
        json_decref(o);
        return NULL;
      }
    }
    return o;
  }
  default: return NULL;
  }
}

static int parse_yaml(const char *text, size_t len, const char *file, json_t **ret, oci_error **err)
{
  yaml_parser_t parser;
  yaml_document_t doc;
  if (!yaml_parser_initialize(&parser))
    return oci_error_set(err, ENOMEM, "%s", file);
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if (!yaml_parser_load(&parser, &doc)) {
    int r = oci_error_set(err, 0, "%s: line %zu: not valid YAML: %s", file,
                          parser.problem_mark.line + 1, parser.problem ? parser.problem : "?");
    yaml_parser_delete(&parser);
    return r;
  }
  size_t budget = 1u << 18;
  json_t *v = yaml_to_json(&doc, yaml_document_get_root_node(&doc), 0, &budget);
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  if (v == NULL)
    return oci_error_set(err, 0, "%s: empty, or YAML that is not plain data (or too many nodes)",
                         file);
  *ret = v;
  return 0;
}

/* ---- checks ---- */

struct where {
  const char *file;
  char at[128];
  unsigned long version; /* cdiVersion as MAJOR*10000 + MINOR*100 + PATCH */
};

static int bad(oci_error **err, const struct where *w, const char *what)
{
  return oci_error_set(err, 0, "%s: %s%s%s", w->file, w->at, w->at[0] ? ": " : "", what);
}

static bool name_ok(const char *s, const char *first_extra, const char *extra)
{
  if (s == NULL || *s == '\0' || strlen(s) > 255)
    return false;
  for (const char *c = s; *c; c++) {
    bool alnum = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9');
    if (!alnum && !strchr(c == s ? first_extra : extra, *c))
      return false;
  }
  return true;
}

/* VENDOR: a domain-like name; CLASS: letters, digits, '-', '_', '.'. */
static bool kind_ok(const char *kind)
{
  const char *slash = strchr(kind, '/');
  if (slash == NULL || slash - kind > 200)
    return false;
  char vendor[256];
  memcpy(vendor, kind, (size_t)(slash - kind));
  vendor[slash - kind] = '\0';
  return name_ok(vendor, "", "-.") && name_ok(slash + 1, "", "-_.");
}

/* device names: letters, digits, '-', '_', '.', ':' (not first) */
static bool device_name_ok(const char *name)
{
  return name_ok(name, "", "-_.:");
}

int cdi_check_qualified(const char *name, const char **why)
{
  const char *eq = strchr(name, '=');
  if (eq == NULL || eq - name > 255) {
    *why = "not VENDOR/CLASS=NAME";
    return -1;
  }
  char kind[256];
  memcpy(kind, name, (size_t)(eq - name));
  kind[eq - name] = '\0';
  if (!kind_ok(kind)) {
    *why = "VENDOR/CLASS: a vendor like example.com, a class of letters, digits, '-', '_', '.'";
    return -1;
  }
  if (!device_name_ok(eq + 1)) {
    *why = "NAME: letters, digits, '-', '_', '.', ':'";
    return -1;
  }
  return 0;
}

/* "MAJOR.MINOR.PATCH" within 0.3.0 .. 1.1.x: its number in *RET */
static bool version_ok(const char *v, unsigned long *ret)
{
  unsigned a, b, c;
  int used = 0;
  if (v == NULL || sscanf(v, "%u.%u.%u%n", &a, &b, &c, &used) != 3 || v[used] != '\0')
    return false;
  *ret = a * 10000ul + b * 100ul + c;
  return a < 100 && b < 100 && c < 100 && *ret >= 300 && *ret < 10200;
}

static int check_strings(json_t *a, const struct where *w, const char *what, bool need_eq,
                         oci_error **err)
{
  char msg[96];
  if (a == NULL)
    return 0;
  size_t i;
  json_t *e;
  snprintf(msg, sizeof(msg), "%s must be a list of strings%s", what, need_eq ? " NAME=VALUE" : "");
  if (!json_is_array(a))
    return bad(err, w, msg);
  json_array_foreach(a, i, e)
  {
    const char *s = json_string_value(e);
    if (s == NULL || (need_eq && (strchr(s, '=') == NULL || s[0] == '=')))
      return bad(err, w, msg);
  }
  return 0;
}

static bool int_in(json_t *v, json_int_t lo, json_int_t hi)
{
  return v == NULL ||
         (json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi);
}

static bool abs_path(json_t *v)
{
  return json_is_string(v) && json_string_value(v)[0] == '/';
}

static int check_device_node(json_t *d, struct where *w, oci_error **err)
{
  if (!json_is_object(d))
    return bad(err, w, "not an object");
  if (!abs_path(json_object_get(d, "path")))
    return bad(err, w, "path must be an absolute path");
  json_t *host = json_object_get(d, "hostPath"), *type = json_object_get(d, "type");
  json_t *perm = json_object_get(d, "permissions");
  if (host && !abs_path(host))
    return bad(err, w, "hostPath must be an absolute path");
  const char *t = json_string_value(type);
  if (type && (t == NULL || strlen(t) != 1 || !strchr("bcup", t[0])))
    return bad(err, w, "type must be b, c, u or p");
  const char *p = json_string_value(perm);
  if (perm && (p == NULL || *p == '\0' || strspn(p, "rwm") != strlen(p)))
    return bad(err, w, "permissions must be letters of rwm");
  if (!int_in(json_object_get(d, "major"), 0, 0xfffff) ||
      !int_in(json_object_get(d, "minor"), 0, 0xfffff))
    return bad(err, w, "major and minor must be device numbers");
  if (!int_in(json_object_get(d, "fileMode"), 0, 07777))
    return bad(err, w, "fileMode must be a mode (0 to 07777)");
  if (!int_in(json_object_get(d, "uid"), 0, 0xfffffffe) ||
      !int_in(json_object_get(d, "gid"), 0, 0xfffffffe))
    return bad(err, w, "uid and gid must be ids");
  return 0;
}

static int check_mount(json_t *m, struct where *w, oci_error **err)
{
  if (!json_is_object(m))
    return bad(err, w, "not an object");
  if (!json_is_string(json_object_get(m, "hostPath")) ||
      !abs_path(json_object_get(m, "containerPath")))
    return bad(err, w, "needs hostPath and an absolute containerPath");
  json_t *type = json_object_get(m, "type");
  if (type && !json_is_string(type))
    return bad(err, w, "type must be a string");
  return check_strings(json_object_get(m, "options"), w, "options", false, err);
}

static const char *const hook_names[] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop", NULL,
};

static int check_hook(json_t *h, struct where *w, oci_error **err)
{
  if (!json_is_object(h))
    return bad(err, w, "not an object");
  const char *name = json_string_value(json_object_get(h, "hookName"));
  size_t i = 0;
  while (name && hook_names[i] && strcmp(name, hook_names[i]) != 0)
    i++;
  if (name == NULL || hook_names[i] == NULL)
    return bad(err, w,
               "hookName must be prestart, createRuntime, createContainer, startContainer, "
               "poststart or poststop");
  if (!abs_path(json_object_get(h, "path")))
    return bad(err, w, "path must be an absolute path");
  if (!int_in(json_object_get(h, "timeout"), 1, 86400))
    return bad(err, w, "timeout must be seconds (1 to 86400)");
  if (check_strings(json_object_get(h, "args"), w, "args", false, err) < 0)
    return -1;
  return check_strings(json_object_get(h, "env"), w, "env", true, err);
}

static int check_list(json_t *edits, const char *key, struct where *w,
                      int (*fn)(json_t *, struct where *, oci_error **), oci_error **err)
{
  json_t *a = json_object_get(edits, key);
  if (a == NULL)
    return 0;
  char base[128];
  snprintf(base, sizeof(base), "%s", w->at);
  if (!json_is_array(a)) {
    snprintf(w->at, sizeof(w->at), "%.80s.%s", base, key);
    return bad(err, w, "must be a list");
  }
  size_t i;
  json_t *e;
  json_array_foreach(a, i, e)
  {
    snprintf(w->at, sizeof(w->at), "%.80s.%s[%zu]", base, key, i);
    if (fn(e, w, err) < 0)
      return -1;
  }
  snprintf(w->at, sizeof(w->at), "%s", base);
  return 0;
}

/* intelRdt (0.7.0): what runc writes into resctrl for the container */
static int check_intel_rdt(json_t *rdt, struct where *w, oci_error **err)
{
  if (!json_is_object(rdt))
    return bad(err, w, "intelRdt must be an object");
  json_t *clos = json_object_get(rdt, "closID");
  const char *c = json_string_value(clos);
  /* a directory under /sys/fs/resctrl */
  if (clos && (c == NULL || *c == '\0' || strlen(c) > 255 || strchr(c, '/') ||
               strcmp(c, ".") == 0 || strcmp(c, "..") == 0))
    return bad(err, w, "intelRdt.closID must be a name without '/'");
  static const char *const schemas[] = {"l3CacheSchema", "memBwSchema"};
  for (size_t i = 0; i < 2; i++) {
    json_t *v = json_object_get(rdt, schemas[i]);
    if (v && !json_is_string(v))
      return bad(err, w, "intelRdt.l3CacheSchema and memBwSchema must be strings");
  }
  static const char *const flags[] = {"enableCMT", "enableMBM"};
  for (size_t i = 0; i < 2; i++) {
    json_t *v = json_object_get(rdt, flags[i]);
    if (v && !json_is_boolean(v))
      return bad(err, w, "intelRdt.enableCMT and enableMBM must be true or false");
  }
  return 0;
}

/* netDevices (1.1.0): checked here, refused when applied (cdi-apply.c) */
static int check_net_device(json_t *n, struct where *w, oci_error **err)
{
  if (!json_is_object(n) || !json_is_string(json_object_get(n, "hostInterfaceName")) ||
      !json_is_string(json_object_get(n, "name")))
    return bad(err, w, "needs hostInterfaceName and name");
  return 0;
}

static int check_edits(json_t *edits, struct where *w, oci_error **err)
{
  if (!json_is_object(edits))
    return bad(err, w, "containerEdits must be an object");
  if (check_strings(json_object_get(edits, "env"), w, "env", true, err) < 0 ||
      check_list(edits, "deviceNodes", w, check_device_node, err) < 0 ||
      check_list(edits, "mounts", w, check_mount, err) < 0 ||
      check_list(edits, "hooks", w, check_hook, err) < 0 ||
      check_list(edits, "netDevices", w, check_net_device, err) < 0)
    return -1;
  json_t *gids = json_object_get(edits, "additionalGids"),
         *rdt = json_object_get(edits, "intelRdt");
  if (gids) {
    bool ok = json_is_array(gids);
    size_t i;
    json_t *g;
    json_array_foreach(gids, i, g) ok = ok && int_in(g, 0, 0xfffffffe);
    if (!ok)
      return bad(err, w, "additionalGids must be a list of group ids");
  }
  if (rdt && check_intel_rdt(rdt, w, err) < 0)
    return -1;
  /* as CDI's own validation: a field is only in the versions that have it */
  if ((gids || rdt) && w->version < 700)
    return bad(err, w, "additionalGids and intelRdt need cdiVersion 0.7.0 or later");
  if (json_object_get(edits, "netDevices") && w->version < 10100)
    return bad(err, w, "netDevices need cdiVersion 1.1.0 or later");
  return 0;
}

static int check_spec(json_t *spec, const char *file, oci_error **err)
{
  struct where w = {.file = file};
  if (!json_is_object(spec))
    return bad(err, &w, "a CDI spec must be an object");
  const char *version = json_string_value(json_object_get(spec, "cdiVersion"));
  if (!version_ok(version, &w.version)) {
    char msg[96];
    snprintf(msg, sizeof(msg), "cdiVersion '%.20s' is not one of 0.3.0 to 1.1.x",
             version ? version : "(none)");
    return bad(err, &w, msg);
  }
  const char *kind = json_string_value(json_object_get(spec, "kind"));
  if (kind == NULL || !kind_ok(kind))
    return bad(err, &w, "kind must be VENDOR/CLASS (e.g. example.com/device)");
  json_t *edits = json_object_get(spec, "containerEdits"),
         *devices = json_object_get(spec, "devices");
  snprintf(w.at, sizeof(w.at), "containerEdits");
  if (edits && check_edits(edits, &w, err) < 0)
    return -1;
  w.at[0] = '\0';
  if (!json_is_array(devices) || json_array_size(devices) == 0)
    return bad(err, &w, "devices must be a non-empty list");
  size_t i;
  json_t *d;
  json_array_foreach(devices, i, d)
  {
    snprintf(w.at, sizeof(w.at), "devices[%zu]", i);
    if (!json_is_object(d) || !device_name_ok(json_string_value(json_object_get(d, "name"))))
      return bad(err, &w, "needs a name of letters, digits, '-', '_', '.', ':'");
    snprintf(w.at, sizeof(w.at), "devices[%zu].containerEdits", i);
    if (check_edits(json_object_get(d, "containerEdits"), &w, err) < 0)
      return -1;
  }
  return 0;
}

int cdi_spec_parse(const char *text, size_t len, const char *file, bool yaml, json_t **ret,
                   oci_error **err)
{
  json_t *spec = NULL;
  if (!yaml) {
    json_error_t je;
    spec = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (spec == NULL)
      return oci_error_set(err, 0, "%s: line %d: not valid JSON: %s", file, je.line, je.text);
  } else if (parse_yaml(text, len, file, &spec, err) < 0) {
    return -1;
  }
  if (check_spec(spec, file, err) < 0) {
    json_decref(spec);
    return -1;
  }
  *ret = spec;
  return 0;
}

/* ---- the spec directories ---- */

struct spec_file {
  char *path;
  json_t *spec;
};

struct registry {
  struct spec_file *files;
  size_t n;
  char **names; /* of the directory being read */
  size_t n_names;
};

static bool spec_file_name(const char *name)
{
  size_t n = strlen(name);
  return name[0] != '.' && ((n > 5 && strcmp(name + n - 5, ".json") == 0) ||
                            (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
                            (n > 4 && strcmp(name + n - 4, ".yml") == 0));
}

static int collect_name(int dirfd, const struct dirent *entry, void *data, oci_error **err)
{
  (void)dirfd;
  struct registry *reg = data;
  if (!spec_file_name(entry->d_name))
    return 0;
  if (reg->n_names >= 4096)
    return oci_error_set(err, 0, "more than 4096 CDI spec files in one directory");
  char **nv = realloc(reg->names, (reg->n_names + 1) * sizeof(char *));
  if (nv == NULL)
    return oci_error_set(err, ENOMEM, "CDI spec names");
  reg->names = nv;
  if ((nv[reg->n_names] = strdup(entry->d_name)) == NULL)
    return oci_error_set(err, ENOMEM, "CDI spec names");
  reg->n_names++;
  return 0;
}

static int by_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_file(struct registry *reg, int dirfd, const char *dir, const char *name,
                     oci_error **err)
{
  cleanup_free char *path = NULL, *text = NULL;
  size_t len = 0;
  if (asprintf(&path, "%s/%s", dir, name) < 0)
    return oci_error_set(err, ENOMEM, "CDI spec path");
  int r = fs_read_file_at(dirfd, name, CDI_MAX_SPEC_FILE, 0, &text, &len, err);
  if (r != 0)
    return r < 0 ? oci_error_prefix(err, "CDI spec '%s'", path) : 0;
  json_t *spec = NULL;
  bool yaml = strstr(name, ".json") != name + strlen(name) - 5;
  if (cdi_spec_parse(text, len, path, yaml, &spec, err) < 0)
    return -1;
  struct spec_file *nf = realloc(reg->files, (reg->n + 1) * sizeof(*nf));
  if (nf == NULL) {
    json_decref(spec);
    return oci_error_set(err, ENOMEM, "CDI specs");
  }
  reg->files = nf;
  nf[reg->n++] = (struct spec_file){steal_ptr(&path), spec};
  return 0;
}

static int load_dir(struct registry *reg, const char *dir, oci_error **err)
{
  cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return 0; /* as CDI: a spec directory that is not there has no specs */
    return oci_error_set(err, errno, "CDI spec directory '%s'", dir);
  }
  if (fs_dir_scan(dirfd, collect_name, reg, err) < 0)
    return oci_error_prefix(err, "CDI spec directory '%s'", dir);
  if (reg->n_names > 0)
    qsort(reg->names, reg->n_names, sizeof(char *), by_name);
  int r = 0;
  for (size_t i = 0; i < reg->n_names && r == 0; i++)
    r = load_file(reg, dirfd, dir, reg->names[i], err);
  for (size_t i = 0; i < reg->n_names; i++)
    free(reg->names[i]);
  free(reg->names);
  reg->names = NULL;
  reg->n_names = 0;
  return r;
}

static void registry_clear(struct registry *reg)
{
  for (size_t i = 0; i < reg->n; i++) {
    free(reg->files[i].path);
    json_decref(reg->files[i].spec);
  }
  free(reg->files);
}

static json_t *find_device(json_t *spec, const char *name)
{
  size_t i;
  json_t *d;
  json_array_foreach(json_object_get(spec, "devices"), i, d)
  {
    if (strcmp(json_string_value(json_object_get(d, "name")), name) == 0)
      return d;
  }
  return NULL;
}

static char *dirs_text(char *const *dirs, size_t n_dirs)
{
  size_t len = 1;
  for (size_t i = 0; i < n_dirs; i++)
    len += strlen(dirs[i]) + 2;
  char *s = calloc(1, len);
  for (size_t i = 0; s && i < n_dirs; i++) {
    if (i)
      strcat(s, ", ");
    strcat(s, dirs[i]);
  }
  return s;
}

/* The device named QUALIFIED: the last spec file (in directory order, then
 * name order) of its kind that has it, as CDI lets a later directory
 * override an earlier one. */
static int resolve_one(const struct registry *reg, const char *qualified, char *const *dirs,
                       size_t n_dirs, struct cdi_device_edits *out, bool *ret_no_kind,
                       oci_error **err)
{
  const char *eq = strchr(qualified, '=');
  size_t klen = (size_t)(eq - qualified);
  const struct spec_file *kind_file = NULL, *found = NULL;
  json_t *dev = NULL;
  for (size_t i = 0; i < reg->n; i++) {
    const char *kind = json_string_value(json_object_get(reg->files[i].spec, "kind"));
    if (strlen(kind) != klen || strncmp(kind, qualified, klen) != 0)
      continue;
    kind_file = &reg->files[i];
    json_t *d = find_device(reg->files[i].spec, eq + 1);
    if (d != NULL) {
      found = &reg->files[i];
      dev = d;
    }
  }
  if (found == NULL) {
    cleanup_free char *where = dirs_text(dirs, n_dirs);
    *ret_no_kind = kind_file == NULL;
    if (kind_file == NULL)
      return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                                "--device %s: no CDI spec of kind '%.*s' in %s", qualified,
                                (int)klen, qualified, where ? where : "the CDI directories");
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                              "--device %s: no device '%s' in the CDI specs of kind '%.*s' (%s)",
                              qualified, eq + 1, (int)klen, qualified, kind_file->path);
  }
  out->spec_edits = json_incref(json_object_get(found->spec, "containerEdits"));
  out->device_edits = json_incref(json_object_get(dev, "containerEdits"));
  out->file = strdup(found->path);
  if (out->file == NULL)
    return oci_error_set(err, ENOMEM, "CDI");
  return 0;
}

int cdi_resolve(char *const *dirs, size_t n_dirs, char *const *devices, size_t n_devices,
                struct cdi_device_edits **ret, struct cdi_missing *ret_missing, oci_error **err)
{
  struct registry reg = {0};
  bool no_kind = false;
  struct cdi_device_edits *out = calloc(n_devices ? n_devices : 1, sizeof(*out));
  int r = out ? 0 : oci_error_set(err, ENOMEM, "CDI");
  for (size_t i = 0; r == 0 && i < n_dirs; i++)
    r = load_dir(&reg, dirs[i], err);
  for (size_t i = 0; r == 0 && i < n_devices; i++) {
    r = resolve_one(&reg, devices[i], dirs, n_dirs, &out[i], &no_kind, err);
    if (r < 0 && out[i].file == NULL && ret_missing != NULL)
      *ret_missing = (struct cdi_missing){i, no_kind};
  }
  registry_clear(&reg);
  if (r < 0) {
    cdi_device_edits_free(out, n_devices);
    return -1;
  }
  *ret = out;
  return 0;
}

void cdi_device_edits_free(struct cdi_device_edits *e, size_t n)
{
  for (size_t i = 0; e && i < n; i++) {
    json_decref(e[i].spec_edits);
    json_decref(e[i].device_edits);
    free(e[i].file);
  }
  free(e);
}
