/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The monitor's own notes: STATE/monitor.log, one timestamped line each,
 * opened on the first note (most monitors have nothing to say), at most
 * MON_NOTE_MAX bytes per monitor so a flapping error cannot fill the disk.
 * Once detached the monitor has no stderr: this is where it speaks.
 */
#ifndef SIFOCI_MON_NOTES_H
#define SIFOCI_MON_NOTES_H

#include <glib.h>

#define MON_NOTE_MAX (1u << 20)

typedef struct MonNotes MonNotes;

/* Notes go to "monitor.log" under DIRFD, which must outlive them; -1:
 * notes are dropped (unit tests). */
MonNotes *mon_notes_new(int dirfd);
void mon_notes_free(MonNotes *notes);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MonNotes, mon_notes_free)

/* NOTES may be NULL: nothing is written. */
void mon_note(MonNotes *notes, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Closes the file (before the state dir is removed); notes after this are
 * written only if the directory is still there. */
void mon_notes_close(MonNotes *notes);

#endif
