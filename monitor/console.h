/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MonConsole, terminal mode's console socket.  The runtime connects once
 * and sends the pty master as SCM_RIGHTS (the payload is the pty's name).
 * The socket lives in a private mkdtemp() dir that goes away as soon as the
 * fd is here.
 */
#ifndef SIFOCI_MON_CONSOLE_H
#define SIFOCI_MON_CONSOLE_H

#include <glib.h>

#include "notes.h"

typedef struct {
  /* The pty master arrived (the callee takes it); the socket is gone. */
  void (*on_pty)(int master, gpointer user_data);
} MonConsoleEvents;

typedef struct MonConsole MonConsole;

MonConsole *mon_console_new(MonNotes *notes, const MonConsoleEvents *events, gpointer user_data);
void mon_console_free(MonConsole *console);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MonConsole, mon_console_free)

/* Listens; RET_PATH is the socket for `runtime create --console-socket`. */
gboolean mon_console_listen(MonConsole *console, char **ret_path, GError **error);
/* Takes the fd if it is there (on_pty).  TRUE: got it, or not yet; FALSE:
 * the runtime hung up or sent garbage. */
gboolean mon_console_try_receive(MonConsole *console, GError **error);
/* Closes the sockets and removes the dir. */
void mon_console_close(MonConsole *console);

#endif
