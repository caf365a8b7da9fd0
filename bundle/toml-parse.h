/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A strict, small TOML reader for the resources files `--apply-cgroups`
 * takes (SingularityCE's cgroups.toml: `[memory]` then `limit = 524288000`,
 * `[[devices]]` tables, ...).  It reads the part of TOML such files use and
 * refuses the rest with the line it stopped at:
 *
 *   # comments, blank lines
 *   [table] / [table.sub]       a table, each defined once
 *   [[table]]                   one more table in an array of tables
 *   key = VALUE                 a bare key (A-Z a-z 0-9 _ -), once per table
 *   VALUE: an integer (decimal, '_' between digits), true, false,
 *          "basic string" (\" \\ \n \t \r \uXXXX), 'literal string'
 *
 * Floats, dates, arrays of values, inline tables, dotted and quoted keys
 * are refused.  The result is a JSON object with the same shape.
 */
#ifndef SIFOCI_TOML_PARSE_H
#define SIFOCI_TOML_PARSE_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"

#define BUNDLE_TOML_MAX_DEPTH 8

/* Parse LEN bytes of TEXT; NAME (the file) starts the error message. */
int bundle_toml_parse(const char *text, size_t len, const char *name, json_t **ret,
                      oci_error **err);

#endif
