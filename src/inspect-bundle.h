/* SPDX-License-Identifier: Apache-2.0 */
/* oci inspect BUNDLE: what `oci mount` made there and what it was asked
 * (the mount record, bundle/mount-record.h). */
#ifndef SIFOCI_INSPECT_BUNDLE_H
#define SIFOCI_INSPECT_BUNDLE_H

#include <stdbool.h>

#include "error.h"

int cli_inspect_bundle(const char *path, bool as_json, oci_error **err);

#endif
