#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Every verb has its man page, and every option its --help shows is in it
# (long and short spellings, as scdoc bold: *--name*, *-k*); the same for
# oci's global options in oci(1) and oci-monitor's in oci-monitor(8).
#   man-options.sh [BUILT_MAN_DIR]   (also: each page was built there)
# shellcheck source=../lib/tap.sh
. "$SIFOCI_TESTS/lib/tap.sh"
man_src=$SIFOCI_TESTS/../packaging/man
built=${1:-}

# The options of a --help text: "-k" and "--name" at the start of its option
# lines ("  -b, --bundle DIR   ...", "      --json   ...").
help_options() {
  sed -nE 's/^ {2,6}((-[A-Za-z0-9]), )?(--[a-z0-9][a-z0-9-]*).*/\2 \3/p' | tr ' ' '\n' | sed '/^$/d'
}

# check_page PAGE_SOURCE WHAT: every option on stdin is in the page
check_page() {
  local page=$1 what=$2 opt missing=()
  while read -r opt; do
    grep -qF -- "*$opt*" "$page" || missing+=("$opt")
  done
  tap_is "${missing[*]}" "" "$what: every option of its --help is in $(basename "$page")"
}

verbs=$("$OCI" --help | awk '/^Commands:/ {f = 1; next} /^$/ {f = 0} f {print $1}')
[ -n "$verbs" ] || tap_skip_all "oci --help lists no commands"
for verb in $verbs; do
  page=$man_src/oci-$verb.1.scd
  if [ ! -f "$page" ]; then
    tap_ok 1 "oci $verb: has a man page (packaging/man/oci-$verb.1.scd)"
    continue
  fi
  opts=$("$OCI" "$verb" --help | help_options)
  check_page "$page" "oci $verb" < <(printf '%s\n' "$opts" | sed '/^$/d')
  grep -q "^oci-$verb(1)$" "$page"
  tap_ok $? "oci $verb: the page's title is oci-$verb(1)"
done

# oci(1): the global options, and every verb named in SEE ALSO
check_page "$man_src/oci.1.scd" "oci (global options)" < <("$OCI" --help | help_options)
missing=()
for verb in $verbs; do grep -qF "*oci-$verb*(1)" "$man_src/oci.1.scd" || missing+=("$verb"); done
tap_is "${missing[*]}" "" "oci(1) refers to every verb's page"

# oci-monitor(8): the options of its usage text
check_page "$man_src/oci-monitor.8.scd" "oci-monitor" < \
  <("$OCI_MONITOR" --help 2>&1 | grep -oE -- '--[a-z][a-z-]*' | sort -u)

if [ -n "$built" ]; then
  missing=()
  for src in "$man_src"/*.scd; do
    page=$(basename "$src" .scd)
    [ -s "$built/$page" ] && grep -q '^\.TH' "$built/$page" || missing+=("$page")
  done
  tap_is "${missing[*]}" "" "every page in packaging/man was built (roff, .TH) in $built"
fi
tap_done
