/* SPDX-License-Identifier: Apache-2.0 */
/* fd and file helpers for the monitor: lib/fs.h behind GError. */
#ifndef SIFOCI_MON_FILES_H
#define SIFOCI_MON_FILES_H

#include <glib.h>
#include <stddef.h>
#include <sys/types.h>

/* Closes *FD if open and sets it to -1. */
void mon_close(int *fd);
gboolean mon_set_nonblock(int fd, GError **error);
/* fs_write_file_at(): NAME under DFD atomically (tmp + rename).  DURABLE:
 * fsync before the rename, for records that must survive a crash
 * (exit.json).  Pid files are not: they mean nothing after a reboot, and an
 * fsync costs time where the monitor is fastest to start. */
gboolean mon_write_file_at(int dfd, const char *name, const char *data, size_t len, mode_t mode,
                           gboolean durable, GError **error);
/* Room for a record that must be written when the disk may be full (the
 * exit record, while the log fills the file system): NAME under DFD made
 * now with SIZE bytes allocated (fallocate, or zeros written).  Fails when
 * there is no room now. */
gboolean mon_reserve_file_at(int dfd, const char *name, size_t size, GError **error);
/* Writes DATA into the reserved file RESERVED in place (no new blocks for
 * up to its size), cuts it to LEN, fsyncs it (when DURABLE) and renames it
 * to TARGET (then fsyncs DFD): TARGET appears complete or not at all. */
gboolean mon_fill_reserved_at(int dfd, const char *reserved, const char *target, const char *data,
                              size_t len, gboolean durable, GError **error);
/* fs_rm_rf_at(): rm -rf NAME under DFD, no symlinks followed, no mount
 * crossed. */
gboolean mon_rm_rf_at(int dfd, const char *name, GError **error);

#endif
