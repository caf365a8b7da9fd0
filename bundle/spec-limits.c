/* SPDX-License-Identifier: Apache-2.0 */
/* --cpus, --cpu-shares, --cpuset-cpus, --memory, --memory-swap,
 * --memory-reservation, --pids-limit, --blkio-weight, --apply-cgroups:
 * linux.resources, with the units and ranges runc would otherwise find
 * out about only at create time (or the kernel never). */
#include "spec-internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "toml-parse.h"

#define CPU_PERIOD_US 100000 /* the CFS default period */
#define CPU_QUOTA_MIN_US 1000
#define MEMORY_MIN (6u << 20) /* runc 1.1 and docker refuse less */

/* "512", "512k", "1.5g", "2G", "100m", "64b": bytes, 1024-based. */
static int parse_bytes(const char *option, const char *value, int64_t *ret, oci_error **err)
{
  const char *p = value;
  if (!isdigit((unsigned char)*p))
    return spec_bad(err, option, value, "a size in bytes, or with a unit: k, m, g, t (1024-based)");
  char *end = NULL;
  errno = 0;
  uint64_t whole = strtoull(p, &end, 10);
  if (errno != 0)
    return spec_bad(err, option, value, "too large");
  uint64_t frac_num = 0, frac_den = 1;
  if (*end == '.') {
    end++;
    if (!isdigit((unsigned char)*end))
      return spec_bad(err, option, value, "a digit must follow '.'");
    for (; isdigit((unsigned char)*end); end++) {
      if (frac_den >= 1000000000u)
        return spec_bad(err, option, value, "too many decimals");
      frac_num = frac_num * 10 + (uint64_t)(*end - '0');
      frac_den *= 10;
    }
  }
  unsigned shift = 0;
  char u = (char)tolower((unsigned char)*end);
  if (u != '\0') {
    const char *units = "bkmgt", *k = strchr(units, u);
    if (k == NULL)
      return spec_bad(err, option, value, "unknown unit '%c' (b, k, m, g, t)", *end);
    shift = (unsigned)(k - units) * 10;
    end++;
    if (tolower((unsigned char)*end) == 'b' && shift > 0)
      end++; /* "kb", "MB", ... */
    if (*end != '\0')
      return spec_bad(err, option, value, "text after the unit");
  }
  if (frac_den > 1 && shift == 0)
    return spec_bad(err, option, value, "a fraction needs a unit (k, m, g, t)");
  if (whole > (uint64_t)INT64_MAX >> shift)
    return spec_bad(err, option, value, "too large");
  uint64_t bytes = (whole << shift) + ((frac_num << shift) / frac_den);
  if (bytes > (uint64_t)INT64_MAX)
    return spec_bad(err, option, value, "too large");
  *ret = (int64_t)bytes;
  return 0;
}

static int parse_int(const char *option, const char *value, int64_t min, int64_t max, int64_t *ret,
                     oci_error **err)
{
  char *end = NULL;
  errno = 0;
  long long v = strtoll(value, &end, 10);
  if (end == value || *end != '\0' || isspace((unsigned char)value[0]))
    return spec_bad(err, option, value, "not an integer");
  if (errno != 0 || v < min || v > max)
    return spec_bad(err, option, value, "must be from %" PRId64 " to %" PRId64, min, max);
  *ret = v;
  return 0;
}

static int set_limit(struct bundle_limit *l, int64_t v)
{
  l->set = true;
  l->value = v;
  return 0;
}

/* A fraction of CPUs as a CFS quota per 100 ms period. */
int spec_parse_cpus(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  char *end = NULL;
  errno = 0;
  double cpus = strtod(value, &end);
  if (end == value || *end != '\0' || errno != 0 || !(cpus > 0) || cpus > 1e6 ||
      !isdigit((unsigned char)value[0]))
    return spec_bad(err, "cpus", value, "a positive number of CPUs (e.g. 1.5)");
  int64_t quota = (int64_t)(cpus * CPU_PERIOD_US + 0.5);
  if (quota < CPU_QUOTA_MIN_US)
    return spec_bad(err, "cpus", value, "at least 0.01");
  set_limit(&o->limits.cpu_period, CPU_PERIOD_US);
  return set_limit(&o->limits.cpu_quota, quota);
}

int spec_parse_cpu_shares(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  int64_t v = 0;
  if (parse_int("cpu-shares", value, 2, 262144, &v, err) < 0)
    return -1;
  return set_limit(&o->limits.cpu_shares, v);
}

/* "0-3,5,7-8": ranges ascending, CPU numbers < 8192 */
int spec_parse_cpuset_cpus(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  const char *p = value;
  for (;;) {
    char *end = NULL;
    if (!isdigit((unsigned char)*p))
      return spec_bad(err, "cpuset-cpus", value, "a list of CPUs such as 0-3,5");
    unsigned long a = strtoul(p, &end, 10), b = a;
    if (*end == '-') {
      if (!isdigit((unsigned char)end[1]))
        return spec_bad(err, "cpuset-cpus", value, "a range needs its end (0-3)");
      b = strtoul(end + 1, &end, 10);
    }
    if (a >= 8192 || b >= 8192 || b < a)
      return spec_bad(err, "cpuset-cpus", value, "CPU numbers 0 to 8191, ranges ascending");
    if (*end == '\0')
      break;
    if (*end != ',')
      return spec_bad(err, "cpuset-cpus", value, "a list of CPUs such as 0-3,5");
    p = end + 1;
  }
  free(o->limits.cpuset_cpus);
  o->limits.cpuset_cpus = strdup(value);
  return o->limits.cpuset_cpus ? 0 : oci_error_set(err, ENOMEM, "--cpuset-cpus");
}

int spec_parse_memory(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  int64_t v = 0;
  if (parse_bytes("memory", value, &v, err) < 0)
    return -1;
  if (v < (int64_t)MEMORY_MIN)
    return spec_bad(err, "memory", value, "at least 6 MiB (runc refuses less)");
  return set_limit(&o->limits.memory, v);
}

/* memory + swap together (as cgroup v1's memsw); -1: swap unlimited */
int spec_parse_memory_swap(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  int64_t v = 0;
  if (strcmp(value, "-1") == 0)
    return set_limit(&o->limits.memory_swap, -1);
  if (parse_bytes("memory-swap", value, &v, err) < 0)
    return -1;
  return set_limit(&o->limits.memory_swap, v);
}

int spec_parse_memory_reservation(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  int64_t v = 0;
  if (parse_bytes("memory-reservation", value, &v, err) < 0)
    return -1;
  return set_limit(&o->limits.memory_reservation, v);
}

/* -1: unlimited */
int spec_parse_pids_limit(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  int64_t v = 0;
  if (parse_int("pids-limit", value, -1, INT32_MAX, &v, err) < 0)
    return -1;
  if (v == 0)
    return spec_bad(err, "pids-limit", value, "0 would allow no process; -1 is unlimited");
  return set_limit(&o->limits.pids, v);
}

int spec_parse_blkio_weight(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  int64_t v = 0;
  if (parse_int("blkio-weight", value, 10, 1000, &v, err) < 0)
    return -1;
  return set_limit(&o->limits.blkio_weight, v);
}

/* What linux.resources may hold (runtime-spec config-linux.md), for
 * checking a resources file: names, JSON types, and ranges. */
enum field_type { F_INT, F_UINT, F_BOOL, F_STRING, F_OBJECT, F_OBJECTS, F_STRING_MAP };

struct field {
  const char *name;
  enum field_type type;
  const struct field *sub; /* F_OBJECT, F_OBJECTS */
};

static const struct field memory_fields[] = {
    {"limit", F_INT, NULL},
    {"reservation", F_INT, NULL},
    {"swap", F_INT, NULL},
    {"kernel", F_INT, NULL},
    {"kernelTCP", F_INT, NULL},
    {"swappiness", F_UINT, NULL},
    {"disableOOMKiller", F_BOOL, NULL},
    {"useHierarchy", F_BOOL, NULL},
    {NULL, 0, NULL},
};
static const struct field cpu_fields[] = {
    {"shares", F_UINT, NULL},
    {"quota", F_INT, NULL},
    {"period", F_UINT, NULL},
    {"realtimeRuntime", F_INT, NULL},
    {"realtimePeriod", F_UINT, NULL},
    {"cpus", F_STRING, NULL},
    {"mems", F_STRING, NULL},
    {"idle", F_INT, NULL},
    {NULL, 0, NULL},
};
static const struct field pids_fields[] = {{"limit", F_INT, NULL}, {NULL, 0, NULL}};
static const struct field weight_device_fields[] = {
    {"major", F_INT, NULL},       {"minor", F_INT, NULL}, {"weight", F_UINT, NULL},
    {"leafWeight", F_UINT, NULL}, {NULL, 0, NULL},
};
static const struct field throttle_fields[] = {
    {"major", F_INT, NULL},
    {"minor", F_INT, NULL},
    {"rate", F_UINT, NULL},
    {NULL, 0, NULL},
};
static const struct field blkio_fields[] = {
    {"weight", F_UINT, NULL},
    {"leafWeight", F_UINT, NULL},
    {"weightDevice", F_OBJECTS, weight_device_fields},
    {"throttleReadBpsDevice", F_OBJECTS, throttle_fields},
    {"throttleWriteBpsDevice", F_OBJECTS, throttle_fields},
    {"throttleReadIOPSDevice", F_OBJECTS, throttle_fields},
    {"throttleWriteIOPSDevice", F_OBJECTS, throttle_fields},
    {NULL, 0, NULL},
};
static const struct field hugepage_fields[] = {
    {"pageSize", F_STRING, NULL}, {"limit", F_UINT, NULL}, {NULL, 0, NULL}};
static const struct field priority_fields[] = {
    {"name", F_STRING, NULL}, {"priority", F_UINT, NULL}, {NULL, 0, NULL}};
static const struct field network_fields[] = {
    {"classID", F_UINT, NULL}, {"priorities", F_OBJECTS, priority_fields}, {NULL, 0, NULL}};
static const struct field device_fields[] = {
    {"allow", F_BOOL, NULL}, {"type", F_STRING, NULL},   {"major", F_INT, NULL},
    {"minor", F_INT, NULL},  {"access", F_STRING, NULL}, {NULL, 0, NULL},
};
static const struct field resources_fields[] = {
    {"memory", F_OBJECT, memory_fields},
    {"cpu", F_OBJECT, cpu_fields},
    {"pids", F_OBJECT, pids_fields},
    {"blockIO", F_OBJECT, blkio_fields},
    {"hugepageLimits", F_OBJECTS, hugepage_fields},
    {"network", F_OBJECT, network_fields},
    {"devices", F_OBJECTS, device_fields},
    {"unified", F_STRING_MAP, NULL},
    {NULL, 0, NULL},
};

static int check_object(const char *file, const char *where, json_t *o, const struct field *fields,
                        oci_error **err);

static int check_value(const char *file, const char *path, json_t *v, const struct field *f,
                       oci_error **err)
{
  static const char *const type_names[] = {
      "an integer", "an integer >= 0",  "true or false",     "a string",
      "a table",    "a list of tables", "a table of strings"};
  bool ok = false;
  switch (f->type) {
  case F_INT: ok = json_is_integer(v); break;
  case F_UINT: ok = json_is_integer(v) && json_integer_value(v) >= 0; break;
  case F_BOOL: ok = json_is_boolean(v); break;
  case F_STRING: ok = json_is_string(v); break;
  case F_OBJECT: ok = json_is_object(v); break;
  case F_OBJECTS: ok = json_is_array(v); break;
  case F_STRING_MAP: {
    ok = json_is_object(v);
    const char *k;
    json_t *s;
    json_object_foreach(v, k, s) ok = ok && json_is_string(s);
    break;
  }
  default: break;
  }
  if (!ok)
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0, "--apply-cgroups '%s': %s must be %s", file,
                              path, type_names[f->type]);
  if (f->type == F_OBJECT)
    return check_object(file, path, v, f->sub, err);
  if (f->type == F_OBJECTS) {
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
      char sub[160];
      snprintf(sub, sizeof(sub), "%.120s[%zu]", path, i);
      if (!json_is_object(e))
        return oci_error_set_kind(err, OCI_ERR_USAGE, 0, "--apply-cgroups '%s': %s must be a table",
                                  file, sub);
      if (check_object(file, sub, e, f->sub, err) < 0)
        return -1;
    }
  }
  return 0;
}

static int check_object(const char *file, const char *where, json_t *o, const struct field *fields,
                        oci_error **err)
{
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v)
  {
    const struct field *f = fields;
    while (f->name && strcmp(f->name, k) != 0)
      f++;
    char path[128];
    snprintf(path, sizeof(path), "%s%s%.60s", where, *where ? "." : "", k);
    if (f->name == NULL)
      return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                                "--apply-cgroups '%s': unknown key '%s' (the names of the OCI "
                                "runtime spec's linux.resources)",
                                file, path);
    if (check_value(file, path, v, f, err) < 0)
      return -1;
  }
  return 0;
}

/* The ranges the flags check, for the same values from a file. */
static int check_ranges(const char *file, json_t *res, oci_error **err)
{
  static const struct {
    const char *section, *key;
    int64_t min, max;
    bool zero_ok;
  } ranges[] = {
      {"cpu", "shares", 2, 262144, false},       {"blockIO", "weight", 10, 1000, false},
      {"memory", "limit", -1, INT64_MAX, false}, {"memory", "swappiness", 0, 100, true},
      {"pids", "limit", -1, INT64_MAX, false},
  };
  for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
    json_t *v = json_object_get(json_object_get(res, ranges[i].section), ranges[i].key);
    if (v == NULL)
      continue;
    json_int_t n = json_integer_value(v);
    if (n < ranges[i].min || n > ranges[i].max || (n == 0 && !ranges[i].zero_ok))
      return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                                "--apply-cgroups '%s': %s.%s is %" JSON_INTEGER_FORMAT
                                ", outside %" PRId64 " to %" PRId64 "%s",
                                file, ranges[i].section, ranges[i].key, n, ranges[i].min,
                                ranges[i].max, ranges[i].zero_ok ? "" : " (and not 0)");
  }
  return 0;
}

/* A JSON file starts with '{'; anything else is read as TOML. */
int spec_parse_apply_cgroups(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (spec_read_user_file("apply-cgroups", value, &text, &len, err) < 0)
    return -1;
  size_t lead = strspn(text, " \t\r\n");
  json_t *res = NULL;
  if (text[lead] == '{') {
    json_error_t jerr;
    res = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (res == NULL)
      return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                                "--apply-cgroups '%s': not valid JSON: %s (line %d)", value,
                                jerr.text, jerr.line);
  } else if (bundle_toml_parse(text, len, value, &res, err) < 0) {
    oci_error *e = err ? *err : NULL;
    if (e)
      e->kind = OCI_ERR_USAGE;
    return oci_error_prefix(err, "--apply-cgroups");
  }
  if (!json_is_object(res) || check_object(value, "", res, resources_fields, err) < 0 ||
      check_ranges(value, res, err) < 0) {
    bool was_object = json_is_object(res);
    json_decref(res);
    return was_object ? -1
                      : oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                                           "--apply-cgroups '%s': not a JSON object", value);
  }
  json_decref(o->limits.from_file);
  o->limits.from_file = res;
  return 0;
}

int spec_limits_check(const struct bundle_spec_options *o, oci_error **err)
{
  const struct bundle_limits *l = &o->limits;
  if (l->memory_swap.set && l->memory_swap.value != -1) {
    if (!l->memory.set)
      return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                                "--memory-swap needs --memory (it is memory and swap together)");
    if (l->memory_swap.value < l->memory.value)
      return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                                "--memory-swap is memory and swap together: it cannot be less "
                                "than --memory");
  }
  if (l->memory_reservation.set && l->memory.set && l->memory_reservation.value > l->memory.value)
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                              "--memory-reservation (a soft limit) above --memory");
  return 0;
}

/* RES.SECTION.KEY = V, making SECTION */
static int put(json_t *res, const char *section, const char *key, json_t *v, oci_error **err)
{
  json_t *s = json_object_get(res, section);
  if (s == NULL) {
    s = json_object();
    if (s == NULL || json_object_set_new(res, section, s) < 0) {
      json_decref(v);
      return oci_error_set(err, ENOMEM, "linux.resources");
    }
  }
  return json_object_set_new(s, key, v) < 0 ? oci_error_set(err, ENOMEM, "linux.resources") : 0;
}

static int put_limit(json_t *res, const char *section, const char *key,
                     const struct bundle_limit *l, oci_error **err)
{
  return l->set ? put(res, section, key, json_integer(l->value), err) : 0;
}

/* The file's sections first (its device rules after the deny-all the
 * config starts with, so they can allow), the flags over them. */
static int merge_file(json_t *res, json_t *file, oci_error **err)
{
  const char *k;
  json_t *v;
  json_object_foreach(file, k, v)
  {
    if (strcmp(k, "devices") == 0) {
      json_t *devices = json_object_get(res, "devices");
      if (!json_is_array(devices) || json_array_extend(devices, v) < 0)
        return oci_error_set(err, ENOMEM, "linux.resources.devices");
      continue;
    }
    json_t *copy = json_deep_copy(v);
    if (copy == NULL || json_object_set_new(res, k, copy) < 0)
      return oci_error_set(err, ENOMEM, "linux.resources");
  }
  return 0;
}

int spec_apply_limits(json_t *config, const struct bundle_spec_options *o, oci_error **err)
{
  const struct bundle_limits *l = &o->limits;
  json_t *res = json_object_get(json_object_get(config, "linux"), "resources");
  if (!json_is_object(res))
    return oci_error_set(err, 0, "config.json has no linux.resources");
  if (l->from_file && merge_file(res, l->from_file, err) < 0)
    return -1;
  if (put_limit(res, "cpu", "quota", &l->cpu_quota, err) < 0 ||
      put_limit(res, "cpu", "period", &l->cpu_period, err) < 0 ||
      put_limit(res, "cpu", "shares", &l->cpu_shares, err) < 0 ||
      put_limit(res, "memory", "limit", &l->memory, err) < 0 ||
      put_limit(res, "memory", "swap", &l->memory_swap, err) < 0 ||
      put_limit(res, "memory", "reservation", &l->memory_reservation, err) < 0 ||
      put_limit(res, "pids", "limit", &l->pids, err) < 0 ||
      put_limit(res, "blockIO", "weight", &l->blkio_weight, err) < 0)
    return -1;
  if (l->cpuset_cpus && put(res, "cpu", "cpus", json_string(l->cpuset_cpus), err) < 0)
    return -1;
  return 0;
}
