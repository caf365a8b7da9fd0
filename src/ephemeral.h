/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `oci run IMAGE [ARGS...]` and `oci create IMAGE ID`: a container on a
 * bundle of its own, mounted from IMAGE (with every `oci mount` option,
 * mount-request.h) in its state dir as ROOT/ID/image, and gone with it.
 * The foreground run's monitor unmounts it before it removes the dir
 * (its --cleanup-arg command: `oci --root ROOT umount ROOT/ID/image`);
 * otherwise `oci delete` does (cli_ephemeral_remove, the container's
 * before_remove), also after a SIGKILL of the `oci` that made it.
 *
 * IMAGE or ID: with -b/--bundle the operand is an ID, as it always was;
 * without, `run`'s first operand and `create`'s first of two are an image
 * (a path that must exist: a SIF, a squashfs file or a sandbox dir).
 */
#ifndef SIFOCI_EPHEMERAL_H
#define SIFOCI_EPHEMERAL_H

#include <stdbool.h>
#include <stddef.h>

#include "container.h"
#include "mount-request.h"

/* the bundle's name in the state dir */
#define CLI_EPHEMERAL_BUNDLE_DIR "image"

struct cli_ephemeral {
  struct cli_mount_request req;
  const char *image;
  const char *self_path, *root;
  /* the command's arguments in place of the image's; NULL: the image's */
  char **args;
  size_t n_args;
  struct container_bundle_maker maker;
  char *id; /* generated */
};

/* IMAGE must exist and be an image's kind of file (or a directory): a
 * usage error naming it otherwise, before anything is made. */
int cli_ephemeral_check_image(const struct cli_context *ctx, const char *image, oci_error **err);

/* A fresh ID for IMAGE: its file name without the extension, made a valid
 * ID, and 8 random hex digits ("busybox-1f2e3d4c"); allocated. */
char *cli_ephemeral_id(const char *image);

/* After the options: O creates container ID (NULL: a fresh one, named on
 * stderr) on IMAGE, with E's mount options (checked here) and E->args. */
int cli_ephemeral_prepare(const struct cli_context *ctx, struct cli_ephemeral *e, const char *image,
                          const char *id, struct container_create_opts *o, oci_error **err);

/* Unmount and remove ROOT/ID/image when there is one: the container's
 * before_remove (container.h). */
int cli_ephemeral_remove(const struct ctr *c, oci_error **err);

void cli_ephemeral_clear(struct cli_ephemeral *e);

#endif
