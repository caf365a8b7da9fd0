/* SPDX-License-Identifier: Apache-2.0 */
/* oci export IMAGE DEST: an image as an OCI image layout or oci-archive
 * (bundle/export-image.h does the work). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "export-image.h"
#include "signals.h"

enum { OPT_FORMAT = CLI_OPT_LONG };

static const struct cli_option options[] = {
    {"tag", 't', "NAME",
     "the image's name in the index (org.opencontainers.image.ref.name);\n"
     "default: the image file's name and :latest"},
    {"format", OPT_FORMAT, "FORMAT",
     "oci (an image layout directory) or oci-archive (that layout as one tar);\n"
     "default: oci-archive when DEST ends in .tar, else oci"},
    {NULL, 0, NULL, NULL},
};

static bool ends_with(const char *s, const char *suffix)
{
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int cmd_export(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  const char *tag = NULL, *format = NULL;
  int c;
  while ((c = cli_next_option(ctx, argc, argv, err)) > 0) {
    switch (c) {
    case 't': tag = optarg; break;
    case OPT_FORMAT: format = optarg; break;
    default: break;
    }
  }
  if (c < 0 || cli_check_args(ctx, argc - optind, err) < 0)
    return -1;
  const char *image = argv[optind], *dest = argv[optind + 1];
  struct bundle_export_options o = {.ref_name = tag};
  if (format == NULL)
    o.format = ends_with(dest, ".tar") ? BUNDLE_EXPORT_ARCHIVE : BUNDLE_EXPORT_LAYOUT;
  else if (strcmp(format, "oci") == 0)
    o.format = BUNDLE_EXPORT_LAYOUT;
  else if (strcmp(format, "oci-archive") == 0)
    o.format = BUNDLE_EXPORT_ARCHIVE;
  else
    return cli_usage_error(ctx, err, "--format '%s': not oci or oci-archive", format);
  if (dest[0] == '\0')
    return cli_usage_error(ctx, err, "DEST is empty");
  if (tag != NULL && bundle_export_check_ref(tag, NULL) < 0)
    return cli_usage_error(ctx, err,
                           "--tag '%s' is not an image reference name (letters and digits, joined "
                           "by one of - . _ : @ + /)",
                           tag);
  cleanup_free char *default_tag = NULL;
  if (tag == NULL) {
    default_tag = bundle_export_default_ref(image);
    if (default_tag == NULL)
      return oci_error_set(err, ENOMEM, "export");
    o.ref_name = default_tag;
  }
  /* ^C (or a TERM) ends the export through its error path, which removes
   * the temporary directory; the signals are held until then */
  sigset_t stop, old;
  sigemptyset(&stop);
  signals_add_stop(&stop);
  sigprocmask(SIG_BLOCK, &stop, &old);
  o.stop_fd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
  if (o.stop_fd < 0) /* no way to see them: let them act as before */
    sigprocmask(SIG_SETMASK, &old, NULL);
  struct bundle_export_result res;
  int r = bundle_export(image, dest, &o, &res, err);
  if (o.stop_fd >= 0)
    close(o.stop_fd);
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (r < 0)
    return oci_error_prefix(err, "export '%s'", image);
  if (res.sockets_skipped > 0)
    fprintf(stderr,
            "oci: export '%s': warning: %" PRIu64 " sockets left out (tar has no form for them)\n",
            image, res.sockets_skipped);
  return 0;
}

const struct cli_verb cli_verb_export = {
    .name = "export",
    .usage = "[OPTIONS] IMAGE DEST",
    .summary = "write an image as an OCI image layout or oci-archive (podman load, skopeo)",
    .options = {options},
    .min_args = 2,
    .max_args = 2,
    .handler = cmd_export,
};
