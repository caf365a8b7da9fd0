/* SPDX-License-Identifier: Apache-2.0 */
/* --env, --env-file, --cleanenv, --cwd, --hostname, --dns: process.env,
 * process.cwd, hostname, and the text of the bundle's resolv.conf. */
#include "spec-internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

#define ENV_MAX_ENTRY (128u << 10) /* MAX_ARG_STRLEN */
#define HOSTNAME_MAX 64            /* HOST_NAME_MAX */

static bool env_name_ok(const char *s, size_t n)
{
  if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
      return false;
  return true;
}

/* Check K=V; NULL when good, else what is wrong. */
static const char *env_entry_problem(const char *kv)
{
  const char *eq = strchr(kv, '=');
  if (eq == NULL)
    return "not NAME=VALUE";
  if (!env_name_ok(kv, (size_t)(eq - kv)))
    return "NAME must be letters, digits and '_', not starting with a digit";
  if (strlen(kv) > ENV_MAX_ENTRY)
    return "longer than 128 KiB";
  return NULL;
}

int spec_parse_env(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  const char *problem = env_entry_problem(value);
  if (problem != NULL)
    return spec_bad(err, "env", value, "%s", problem);
  return spec_strv_add(&o->env, &o->n_env, value, "env", err);
}

/* One line of an env file: NAME=VALUE, optionally after "export ", VALUE
 * optionally in matching single or double quotes (taken as they are, no
 * escapes); blank lines and lines starting with '#' are skipped. */
static int env_file_line(struct bundle_spec_options *o, const char *path, size_t lineno, char *line,
                         oci_error **err)
{
  while (*line == ' ' || *line == '\t')
    line++;
  size_t len = strlen(line);
  while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
    line[--len] = '\0';
  if (len == 0 || line[0] == '#')
    return 0;
  if (strncmp(line, "export ", 7) == 0)
    line += 7;
  char *eq = strchr(line, '=');
  const char *problem = env_entry_problem(line);
  if (problem != NULL)
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0, "--env-file '%s': line %zu: %s", path, lineno,
                              problem);
  char *v = eq + 1;
  size_t vlen = strlen(v);
  if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0]) {
    memmove(v, v + 1, vlen - 2);
    v[vlen - 2] = '\0';
  } else if (vlen > 0 && (v[0] == '"' || v[0] == '\'')) {
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0, "--env-file '%s': line %zu: unclosed quote",
                              path, lineno);
  }
  return spec_strv_add(&o->env, &o->n_env, line, "env-file", err);
}

int spec_parse_env_file(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (spec_read_user_file("env-file", value, &text, &len, err) < 0)
    return -1;
  if (memchr(text, '\0', len) != NULL)
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0, "--env-file '%s': holds a NUL byte", value);
  size_t lineno = 0;
  for (char *p = text; *p;) {
    char *nl = strchr(p, '\n');
    if (nl)
      *nl = '\0';
    if (env_file_line(o, value, ++lineno, p, err) < 0)
      return -1;
    if (nl == NULL)
      break;
    p = nl + 1;
  }
  return 0;
}

int spec_parse_cwd(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  cleanup_free char *norm = NULL;
  if (value[0] == '/' && value[strspn(value, "/")] == '\0')
    norm = strdup("/");
  else if (spec_container_path("cwd", value, &norm, err) < 0)
    return -1;
  if (norm == NULL)
    return oci_error_set(err, ENOMEM, "--cwd");
  free(o->cwd);
  o->cwd = steal_ptr(&norm);
  return 0;
}

/* RFC 1123 labels: letters, digits, '-' not at either end, 1-63 each. */
int spec_parse_hostname(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  size_t len = strlen(value);
  if (len == 0 || len > HOSTNAME_MAX)
    return spec_bad(err, "hostname", value, "must be 1 to %d characters", HOSTNAME_MAX);
  for (const char *label = value; *label;) {
    size_t n = strcspn(label, ".");
    if (n == 0 || n > 63 || label[0] == '-' || label[n - 1] == '-')
      return spec_bad(err, "hostname", value,
                      "each dot-separated part must be 1-63 characters, not starting or ending "
                      "with '-'");
    for (size_t i = 0; i < n; i++)
      if (!isalnum((unsigned char)label[i]) && label[i] != '-')
        return spec_bad(err, "hostname", value, "only letters, digits, '-' and '.'");
    label += n;
    if (*label == '.')
      label++;
  }
  free(o->hostname);
  o->hostname = strdup(value);
  return o->hostname ? 0 : oci_error_set(err, ENOMEM, "--hostname");
}

static int dns_item(struct bundle_spec_options *o, const char *item, oci_error **err)
{
  unsigned char buf[16];
  if (inet_pton(AF_INET, item, buf) != 1 && inet_pton(AF_INET6, item, buf) != 1)
    return spec_bad(err, "dns", item, "not an IPv4 or IPv6 address");
  return spec_strv_add(&o->dns, &o->n_dns, item, "dns", err);
}

int spec_parse_dns(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  return spec_each_item(o, "dns", value, dns_item, err);
}

int spec_env_set(json_t *config, const char *name, const char *value, oci_error **err)
{
  json_t *env = json_object_get(json_object_get(config, "process"), "env");
  if (!json_is_array(env))
    return oci_error_set(err, 0, "config.json has no process.env");
  cleanup_free char *kv = NULL;
  if (asprintf(&kv, "%s=%s", name, value) < 0)
    return oci_error_set(err, ENOMEM, "process.env");
  size_t n = strlen(name), i;
  json_t *e;
  json_array_foreach(env, i, e)
  {
    const char *s = json_string_value(e);
    if (s && strncmp(s, name, n) == 0 && s[n] == '=')
      return json_array_set_new(env, i, json_string(kv)) < 0
                 ? oci_error_set(err, ENOMEM, "process.env")
                 : 0;
  }
  return json_array_append_new(env, json_string(kv)) < 0 ? oci_error_set(err, ENOMEM, "process.env")
                                                         : 0;
}

/* --cleanenv: what the image and the defaults put there goes, except
 * PATH (a command still has to be found) and TERM. */
static void clean_env(json_t *env)
{
  for (size_t i = json_array_size(env); i-- > 0;) {
    const char *s = json_string_value(json_array_get(env, i));
    if (s && strncmp(s, "PATH=", 5) != 0 && strncmp(s, "TERM=", 5) != 0)
      json_array_remove(env, i);
  }
}

static int resolv_conf_text(const struct bundle_spec_options *o, char **ret, oci_error **err)
{
  size_t size = 64;
  for (size_t i = 0; i < o->n_dns; i++)
    size += strlen("nameserver \n") + strlen(o->dns[i]);
  char *text = malloc(size);
  if (text == NULL)
    return oci_error_set(err, ENOMEM, "--dns");
  size_t n = (size_t)snprintf(text, size, "# written by oci mount --dns\n");
  for (size_t i = 0; i < o->n_dns; i++)
    n += (size_t)snprintf(text + n, size - n, "nameserver %s\n", o->dns[i]);
  *ret = text;
  return 0;
}

int spec_apply_process(json_t *config, const struct bundle_spec_options *o,
                       struct bundle_spec_extra *extra, oci_error **err)
{
  json_t *process = json_object_get(config, "process");
  if (o->cleanenv)
    clean_env(json_object_get(process, "env"));
  for (size_t i = 0; i < o->n_env; i++) {
    const char *eq = strchr(o->env[i], '=');
    cleanup_free char *name = strndup(o->env[i], (size_t)(eq - o->env[i]));
    if (name == NULL || spec_env_set(config, name, eq + 1, err) < 0)
      return name ? -1 : oci_error_set(err, ENOMEM, "--env");
  }
  if (o->cwd && json_object_set_new(process, "cwd", json_string(o->cwd)) < 0)
    return oci_error_set(err, ENOMEM, "--cwd");
  if (o->hostname && json_object_set_new(config, "hostname", json_string(o->hostname)) < 0)
    return oci_error_set(err, ENOMEM, "--hostname");
  if (o->n_dns > 0 && resolv_conf_text(o, &extra->resolv_conf, err) < 0)
    return -1;
  return 0;
}
