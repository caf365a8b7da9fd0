#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The README's test command: installs what is missing, checks the formatting,
# builds with ASan and UBSan and warnings as errors, runs every suite, then
# checks that nothing (loop device, mount, monitor, state dir) was left behind.
set -uo pipefail
cd "$(dirname "$0")/../.."
bash tests/ci/deps.sh test || exit 1
# Formatting first; a diff fails the run (one failed test) but the suites
# still run.
fmt=0
bash tests/ci/check-format.sh || fmt=1
BUILD=${BUILD:-build-test}
if [ ! -d "$BUILD" ]; then
  meson setup "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true \
    --wrap-mode=nodownload >/dev/null || exit 1
fi
meson compile -C "$BUILD" || exit 1
export MUST_WORK=1
before_loops=$(losetup -a | grep -c . || true)
meson test -C "$BUILD" --print-errorlogs --num-processes 2 "$@"
rc=$?

# A second, independent leak check: the unit tests under valgrind, in a
# build without sanitizers (valgrind and ASan do not mix).
VG=${BUILD}-valgrind
[ -d "$VG" ] || meson setup "$VG" -Dwerror=true --wrap-mode=nodownload >/dev/null || rc=1
if meson compile -C "$VG" >/dev/null; then
  meson test -C "$VG" --setup valgrind --suite unit --print-errorlogs --num-processes 2 || rc=1
else
  rc=1
fi

# Leak check over the whole run.
leaks=0
after_loops=$(losetup -a | grep -c . || true)
if [ "$after_loops" -gt "$before_loops" ]; then echo "LEAK: loop devices:"; losetup -a; leaks=1; fi
if awk -v b="$PWD/" 'index($5, b) == 1 || index($5, "/tmp/") == 1 {print}' /proc/self/mountinfo | grep -q .; then
  echo "LEAK: mounts:"; awk -v b="$PWD/" 'index($5, b) == 1 || index($5, "/tmp/") == 1 {print $5}' /proc/self/mountinfo; leaks=1
fi
# monitors of this build only (others on the machine are not this run's)
if pgrep -f "^$PWD/$BUILD/" >/dev/null; then echo "LEAK: processes of this build:"; pgrep -a -f "^$PWD/$BUILD/"; leaks=1; fi

# One closing line that CI reads, from meson's own record of the run.
python3 - "$leaks" "$fmt" "$BUILD/meson-logs/testlog.json" "$VG/meson-logs/testlog-valgrind.json" <<'PY'
import json, os, sys
p = f = s = 0
for log in sys.argv[3:]:
    if not os.path.exists(log):
        f += 1
        continue
    for line in open(log):
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"): p += 1
        elif r == "SKIP": s += 1
        else: f += 1
f += int(sys.argv[1])
if int(sys.argv[2]): f += 1   # the format check
else: p += 1
print(f"tests: {p} passed, {f} failed, {s} skipped")
PY
[ $rc -eq 0 ] && [ $leaks -eq 0 ] && [ $fmt -eq 0 ]
