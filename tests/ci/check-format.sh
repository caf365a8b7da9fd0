#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/ci/check-format.sh [--fix]: is every tracked *.c and *.h formatted as
# the repository's .clang-format says (with clang-format 14; other versions
# format differently)?  Names each file that is not, with the diff, and exits
# 1; exits 2 when clang-format 14 or git is missing.  --fix reformats those
# files in place (`ninja -C BUILD clang-format` runs that).
#   CLANG_FORMAT  the binary (default: clang-format-14, else clang-format)
set -uo pipefail
cd "$(dirname "$0")/../.."
fix=false
case "${1:-}" in
  --fix) fix=true ;;
  "") ;;
  *) echo "usage: check-format.sh [--fix]" >&2; exit 2 ;;
esac
cf=${CLANG_FORMAT:-$(command -v clang-format-14 || command -v clang-format || true)}
if [ -z "$cf" ]; then
  echo "check-format.sh: no clang-format (tests/ci/deps.sh test installs it)" >&2
  exit 2
fi
ver=$("$cf" --version | sed -n 's/.*clang-format version \([0-9]*\)\..*/\1/p')
if [ "$ver" != 14 ]; then
  echo "check-format.sh: '$cf' is version ${ver:-unknown}, the tree is formatted with 14" >&2
  exit 2
fi
if ! files=$(git ls-files -- '*.c' '*.h' 2>/dev/null); then
  echo "check-format.sh: not a git checkout, cannot list the tracked files" >&2
  exit 2
fi
bad=0 n=0
while IFS= read -r f; do
  [ -f "$f" ] || continue # deleted in the work tree, not yet in the index
  n=$((n + 1))
  "$cf" --style=file --dry-run --Werror "$f" >/dev/null 2>&1 && continue
  if $fix; then
    "$cf" --style=file -i "$f" && echo "check-format.sh: reformatted $f" && continue
  fi
  echo "check-format.sh: not formatted: $f"
  "$cf" --style=file "$f" | diff -u "$f" - | sed -n '3,40s/^/  /p'
  bad=$((bad + 1))
done <<<"$files"
if [ "$bad" -gt 0 ]; then
  echo "check-format.sh: $bad of $n files differ from clang-format (fix: tests/ci/check-format.sh --fix)"
  exit 1
fi
$fix || echo "check-format.sh: $n files formatted"
