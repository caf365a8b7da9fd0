/* SPDX-License-Identifier: Apache-2.0 */
#include "inspect-bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "mount-record.h"
#include "text-escape.h"

static void print_text(const struct bundle_record *rec)
{
  cleanup_free char *bundle = text_escape(rec->bundle), *image = text_escape(rec->image);
  printf("Bundle:  %s\nImage:   %s\nMethod:  %s\nState:   %s\n", bundle ?: "?", image ?: "?",
         rec->extracted ? "extract" : "kernel",
         rec->state == BUNDLE_RECORD_MOUNTED ? "mounted" : "mounting (unfinished)");
  size_t n = json_array_size(rec->options), i;
  json_t *e;
  printf("Options:%s\n", n ? "" : " none");
  json_array_foreach(rec->options, i, e)
  {
    const char *value = json_string_value(json_array_get(e, 1));
    cleanup_free char *name = text_escape(json_string_value(json_array_get(e, 0)));
    cleanup_free char *text = value ? text_escape(value) : NULL;
    printf("  --%s%s%s\n", name ?: "?", value ? " " : "", value ? (text ?: "?") : "");
  }
}

static int print_record_json(const struct bundle_record *rec, oci_error **err)
{
  json_auto_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o}", "bundle", rec->bundle, "image",
                             rec->image, "method", rec->extracted ? "extract" : "kernel", "state",
                             rec->state == BUNDLE_RECORD_MOUNTED ? "mounted" : "mounting",
                             "options", rec->options ? json_incref(rec->options) : json_array());
  if (o == NULL)
    return oci_error_set(err, ENOMEM, "building JSON output");
  return cli_print_json(o, err);
}

int cli_inspect_bundle(const char *path, bool as_json, oci_error **err)
{
  cleanup_close int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return oci_error_set(err, errno, "inspect '%s'", path);
  struct bundle_record rec;
  int r = bundle_record_load(dirfd, &rec, err);
  if (r < 0)
    return oci_error_prefix(err, "inspect '%s'", path);
  if (r == 1)
    return oci_error_set(err, 0,
                         "inspect '%s': a directory without a mount record (not made by "
                         "oci mount)",
                         path);
  r = as_json ? print_record_json(&rec, err) : (print_text(&rec), 0);
  bundle_record_clear(&rec);
  return r < 0 ? oci_error_prefix(err, "inspect '%s'", path) : 0;
}
