#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# oci-runc against runc itself: every verb on a busybox bundle, through the
# wrapper and directly, gives the same exit status and output; stdio,
# --preserve-fds, LISTEN_FDS and the console socket reach the container
# untouched; the wrapper's own errors follow --log/--log-format; crun gets
# runc's command line in its own spelling.
. "$SIFOCI_TESTS/lib/tap.sh"
. "$SIFOCI_TESTS/integration/runc-compat/common.sh"
require_root
require_cmd jq busybox python3
[ -n "$RUNC" ] || tap_skip_all "no runc"
[ -x "$OCI_RUNC" ] || tap_skip_all "no oci-runc at $OCI_RUNC"
is_static "$(command -v busybox)" || tap_skip_all "busybox is not static (busybox-static)"

T=$(mktemp -d /tmp/sifoci-runc-compat.XXXXXX)
S=$$-$RANDOM
IDO=rco-$S IDR=rcr-$S # one ID per runtime: two containers must not share a cgroup
cleanup() {
  local r id
  for r in "$T/root-o" "$T/root-r" "$T/croot"; do
    [ -d "$r" ] || continue
    for id in $("$RUNC" --root "$r" list -q 2>/dev/null); do
      "$RUNC" --root "$r" delete -f "$id" >/dev/null 2>&1
    done
  done
  [ -d "$T/croot" ] && for id in $(crun --root "$T/croot" list -q 2>/dev/null); do
    crun --root "$T/croot" delete -f "$id" >/dev/null 2>&1
  done
  rm -rf "$T"
}
trap cleanup EXIT

# rt o|r ARGS...: oci-runc (o) or runc (r), each with its own --root; "@ID@"
# in an argument becomes that runtime's container ID.
rt() {
  local w=$1 bin root id x a=()
  shift
  if [ "$w" = o ]; then bin=$OCI_RUNC root=$T/root-o id=$IDO; else bin=$RUNC root=$T/root-r id=$IDR; fi
  for x in "$@"; do a+=("${x//@ID@/$id}"); done
  "$bin" --root "$root" "${a[@]}"
}
norm() { sed -e "s/$IDO/ID/g; s/$IDR/ID/g; s/time=\"[^\"]*\"/time=T/g"; }
IN=/dev/null # what `same` feeds both runtimes on stdin
# same DESC [--jq FILTER | --awk PROGRAM] ARGS...: both runtimes give the
# same exit status, stdout (through the filter when given) and stderr, IDs
# and times aside.
same() {
  local desc=$1 filter=() w got=() r
  shift
  case $1 in --jq) filter=(jq -c "$2"); shift 2 ;; --awk) filter=(awk "$2"); shift 2 ;; esac
  for w in o r; do
    rt $w "$@" <"$IN" >"$T/out-$w" 2>"$T/err-$w"
    r=$?
    if [ ${#filter[@]} -gt 0 ] && [ -s "$T/out-$w" ]; then
      "${filter[@]}" <"$T/out-$w" >"$T/out-$w.f" 2>&1
      mv "$T/out-$w.f" "$T/out-$w"
    fi
    got+=("$r|$(norm <"$T/out-$w")|$(norm <"$T/err-$w")")
  done
  tap_is "${got[0]}" "${got[1]}" "$desc"
  LAST_RC=$r LAST_OUT=$(norm <"$T/out-o")
}
# wait_status o|r STATUS: poll the state until it is STATUS (5 s)
wait_status() {
  local i
  for i in $(seq 50); do
    [ "$(rt "$1" state @ID@ 2>/dev/null | jq -r .status)" = "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

ROOTFS=$T/rootfs
make_rootfs "$ROOTFS" || tap_skip_all "could not build a busybox rootfs"
make_bundle "$T/b-main" "$ROOTFS" '["sh","-c","echo started; exec sleep 300"]' || tap_skip_all "runc spec failed"
make_bundle "$T/b-sleep" "$ROOTFS" '["sleep","300"]'
make_bundle "$T/b-run" "$ROOTFS" '["sh","-c","echo hi; echo ho >&2; exit 5"]'
make_bundle "$T/b-fd" "$ROOTFS" '["sh","-c","cat <&3; cat <&4"]'
make_bundle "$T/b-listen" "$ROOTFS" '["sh","-c","echo fds=$LISTEN_FDS; cat <&3"]'
make_bundle "$T/b-tty" "$ROOTFS" '["sh","-c","tty; echo on-tty"]' true

# --version: runc's format, ours first
v=$("$OCI_RUNC" --version)
tap_like "$(sed -n 1p <<<"$v")" '^oci-runc version [0-9][^ ]* \(sifoci\)$' "--version: our line first"
tap_is "$(sed 1d <<<"$v")" "$("$RUNC" --version)" "--version: then runc's own lines"
tap_is "$("$OCI_RUNC" -v | sed 1d)" "$("$RUNC" -v)" "-v is --version"

# create / state / list / ps / start
for w in o r; do
  rt $w create -b "$T/b-main" --pid-file "$T/pid-$w" @ID@ </dev/null >"$T/ctr-$w.out" 2>"$T/ctr-$w.err"
  echo $? >"$T/rc-$w"
done
tap_is "$(cat "$T/rc-o")" "$(cat "$T/rc-r")" "create: same exit status as runc"
tap_is "$(cat "$T/rc-o")" 0 "create succeeds"
pid=$(cat "$T/pid-o" 2>/dev/null)
tap_ok "$([ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; echo $?)" "create --pid-file: a live pid"
same "state" --jq '{ociVersion, id, status, bundle, annotations}' state @ID@
tap_is "$LAST_OUT" "$(jq -nc --arg b "$T/b-main" '{ociVersion:"1.0.2-dev", id:"ID", status:"created", bundle:$b, annotations:null}')" "state: created"
same "list -q" list -q
same "list --format json" --jq '[.[] | {id, status, bundle}]' list --format json
same "list (table: id, status, bundle)" --awk '{print $1, $3, $4}' list
same "ps --format json (one process)" --jq 'length' ps --format json @ID@
same "start" start @ID@
for i in $(seq 50); do grep -q started "$T/ctr-o.out" && break; sleep 0.1; done
tap_is "$(cat "$T/ctr-o.out")" started "start: the container writes to the stdio create was given"
same "state: running" --jq .status state @ID@
tap_is "$LAST_OUT" '"running"' "state says running"
same "ps ID -o comm (ps arguments after the ID)" ps @ID@ -o comm

# exec
same "exec: stdout, stderr and exit status" exec @ID@ sh -c 'echo out; echo err >&2; exit 3'
tap_is "$LAST_RC|$LAST_OUT" "3|out" "exec: exit status 3 passes through"
same "exec --env --cwd --user" exec -e FOO=bar --cwd /tmp -u 1:2 @ID@ sh -c 'echo $FOO $(pwd) $(id -u):$(id -g)'
tap_is "$LAST_OUT" "bar /tmp 1:2" "exec options reach the process"
echo piped >"$T/stdin"
IN=$T/stdin same "exec: stdin passes through" exec @ID@ cat
tap_is "$LAST_OUT" piped "exec reads the caller's stdin"
same "exec --detach --pid-file" exec -d --pid-file "$T/xpid-@ID@" @ID@ sleep 2
tap_ok "$([ -s "$T/xpid-$IDO" ]; echo $?)" "exec --pid-file written"
printf 'three\n' >"$T/fd3"
printf 'four\n' >"$T/fd4"
for w in o r; do
  rt $w exec --preserve-fds 2 @ID@ sh -c 'cat <&3; cat <&4' 3<"$T/fd3" 4<"$T/fd4" >"$T/xfd-$w" 2>&1
  echo "rc=$?" >>"$T/xfd-$w"
done
tap_is "$(cat "$T/xfd-o")" "$(printf 'three\nfour\nrc=0')" "exec --preserve-fds 2: fds 3 and 4 reach the process"
tap_is "$(cat "$T/xfd-o")" "$(cat "$T/xfd-r")" "exec --preserve-fds: as runc"
same "exec: a missing command" exec @ID@ /no/such/cmd

# pause / resume / update / events
same "pause" pause @ID@
same "state: paused" --jq .status state @ID@
tap_is "$LAST_OUT" '"paused"' "state says paused"
same "exec into a paused container is refused" exec @ID@ true
same "resume" resume @ID@
same "state: running again" --jq .status state @ID@
same "update --pids-limit" update --pids-limit 42 @ID@
same "events --stats: the new limit" --jq '[.type, .data.pids.limit]' events --stats @ID@
tap_is "$LAST_OUT" '["stats",42]' "events --stats shows pids.limit 42"
echo '{"pids": {"limit": 43}}' >"$T/res.json"
IN=$T/res.json same "update -r - (resources on stdin)" update -r - @ID@
same "events --stats: the limit from stdin" --jq '.data.pids.limit' events --stats @ID@
tap_is "$LAST_OUT" 43 "update -r - read stdin"
same "update --resources FILE" update --resources "$T/res.json" @ID@

# overhead (not asserted): the same verb through the wrapper and directly
N=100
for w in o r; do
  t0=$(date +%s%N)
  for ((i = 0; i < N; i++)); do rt $w state @ID@ >/dev/null; done
  t1=$(date +%s%N)
  eval "us_$w=$(((t1 - t0) / N / 1000))"
done
san=
ldd "$OCI_RUNC" 2>/dev/null | grep -q -e libasan -e libubsan && san=" (a sanitizer build: its startup dominates; measure a release build)"
tap_diag "overhead: 'state' mean over $N: oci-runc ${us_o} µs, runc ${us_r} µs, difference $((us_o - us_r)) µs$san"

# kill / delete
same "kill (lower-case signal name)" kill @ID@ kill
for w in o r; do wait_status $w stopped; done
same "state: stopped after kill" --jq .status state @ID@
tap_is "$LAST_OUT" '"stopped"' "state says stopped"
same "delete" delete @ID@
same "state of a deleted container fails as in runc" state @ID@
tap_is "$LAST_RC" 1 "state of a deleted container: exit 1"
same "run -d" run -d -b "$T/b-sleep" @ID@
same "kill --all (flag after the ID, reordered as runc does)" kill @ID@ TERM --all
same "delete --force on a running container" delete --force @ID@
same "list is empty again" list -q

# run: output, exit status, signals
same "run: output and exit status" run -b "$T/b-run" @ID@
tap_is "$LAST_RC|$LAST_OUT" "5|hi" "run: exit status 5 passes through"
for w in o r; do
  rt $w run -b "$T/b-sleep" @ID@ </dev/null >/dev/null 2>&1 &
  p=$!
  wait_status $w running && rt $w kill @ID@ KILL
  wait $p
  echo $? >"$T/sig-$w"
done
tap_is "$(cat "$T/sig-o")" 137 "run: a container killed by SIGKILL exits 128+9"
tap_is "$(cat "$T/sig-o")" "$(cat "$T/sig-r")" "run: death by signal as runc"
for w in o r; do
  rt $w run --preserve-fds 2 -b "$T/b-fd" @ID@ 3<"$T/fd3" 4<"$T/fd4" >"$T/rfd-$w" 2>&1
  echo "rc=$?" >>"$T/rfd-$w"
done
tap_is "$(cat "$T/rfd-o")" "$(printf 'three\nfour\nrc=0')" "run --preserve-fds 2: fds 3 and 4 reach the container"
tap_is "$(cat "$T/rfd-o")" "$(cat "$T/rfd-r")" "run --preserve-fds: as runc"
# LISTEN_FDS counts only when LISTEN_PID is the runtime's pid: it is, because
# the wrapper execs the runtime in its own place.
for w in o r; do
  if [ $w = o ]; then bin=$OCI_RUNC root=$T/root-o id=$IDO; else bin=$RUNC root=$T/root-r id=$IDR; fi
  LISTEN_FDS=1 bash -c 'LISTEN_PID=$$ exec "$@"' _ "$bin" --root "$root" run -b "$T/b-listen" "$id" \
    3<"$T/fd3" >"$T/lfd-$w" 2>&1
  echo "rc=$?" >>"$T/lfd-$w"
done
tap_is "$(cat "$T/lfd-o")" "$(printf 'fds=1\nthree\nrc=0')" "LISTEN_FDS/LISTEN_PID: the socket-activation fd reaches the container"
tap_is "$(cat "$T/lfd-o")" "$(cat "$T/lfd-r")" "LISTEN_FDS: as runc"

# console socket: the pty master goes to the caller's socket
for w in o r; do
  python3 "$COMPAT_DIR/console-socket.py" "$T/cs-$w.sock" 20 >"$T/tty-$w" 2>"$T/tty-$w.err" &
  hp=$!
  for i in $(seq 50); do [ -S "$T/cs-$w.sock" ] && break; sleep 0.1; done
  rt $w create --console-socket "$T/cs-$w.sock" -b "$T/b-tty" @ID@ </dev/null >"$T/ttyrun-$w" 2>&1
  echo "create=$?" >>"$T/ttyrun-$w"
  rt $w start @ID@ >>"$T/ttyrun-$w" 2>&1
  echo "start=$?" >>"$T/ttyrun-$w"
  wait $hp
  wait_status $w stopped
  rt $w delete @ID@ >>"$T/ttyrun-$w" 2>&1
done
tap_is "$(tr -d '\r' <"$T/tty-o")" "$(printf '/dev/pts/0\non-tty')" "--console-socket: the container's terminal is the caller's"
tap_is "$(tr -d '\r' <"$T/tty-o")|$(cat "$T/ttyrun-o")" "$(tr -d '\r' <"$T/tty-r")|$(cat "$T/ttyrun-r")" "--console-socket: as runc"

# features, spec, help, runc's own errors
same "features" features
mkdir -p "$T/spec-$IDO" "$T/spec-$IDR"
same "spec -b DIR" spec -b "$T/spec-@ID@"
tap_is "$(cat "$T/spec-$IDO/config.json")" "$(cat "$T/spec-$IDR/config.json")" "spec writes runc's config.json"
same "help (runc's own)" --help
same "unknown command: runc's answer" frobnicate
same "unknown flag: runc's answer" state --bogus @ID@
same "missing container: runc's error" state no-such-container
same "runc's error in a json log" --log "$T/log-@ID@.json" --log-format json state no-such-container
tap_is "$(jq -r .msg "$T/log-$IDO.json")" "$(jq -r .msg "$T/log-$IDR.json")" "runc's json log record passes through"

# the wrapper's own errors: runc's log convention
SIFOCI_RUNTIME=/nonexistent/runc "$OCI_RUNC" --log "$T/own.json" --log-format json state x 2>"$T/own.err"
rc=$?
tap_is "$rc:$(wc -l <"$T/own.err")" "1:1" "own error: exit 1 and one line on stderr"
tap_like "$(cat "$T/own.err")" "^oci-runc: runtime '/nonexistent/runc': No such file" "own error: the bare message on stderr when --log is given"
tap_is "$(jq -r .level "$T/own.json")" error "own error: json log record, level error"
tap_like "$(jq -r .msg "$T/own.json")" "^oci-runc: runtime '/nonexistent/runc'" "own error: json log record, msg"
tap_like "$(jq -r .time "$T/own.json")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})$' "own error: json log record, RFC 3339 time"
tap_is "$(jq -r 'keys | join(",")' "$T/own.json")" "level,msg,time" "own error: the record has runc's keys"
out=$(SIFOCI_RUNTIME=nosuchruntime "$OCI_RUNC" --log-format=json list 2>&1 >/dev/null)
tap_is "$(jq -r .level <<<"$out" 2>&1)" error "own error without --log: the json record on stderr"
out=$(SIFOCI_RUNTIME=nosuchruntime "$OCI_RUNC" list 2>&1 >/dev/null)
tap_like "$out" '^time="[^"]+" level=error msg="oci-runc: runtime '\''nosuchruntime'\'' not found' "own error, text format: runc's logrus line"
out=$(SIFOCI_RUNTIME=$OCI_RUNC "$OCI_RUNC" list 2>&1)
tap_like "$out" "is oci-runc itself" "a runtime that is oci-runc itself is refused, not exec'd forever"
out=$(SIFOCI_PERSONALITY=runc "$OCI" --version 2>&1 | head -1)
tap_like "$out" '^oci-runc version' "SIFOCI_PERSONALITY=runc selects the personality for plain oci"

# crun: runc's command line in crun's spelling (a stand-in crun shows the argv)
mkdir -p "$T/fake"
printf '#!/bin/sh\nfor a in "$@"; do printf "%%s " "$a"; done\necho\n' >"$T/fake/crun"
chmod +x "$T/fake/crun"
xl() { SIFOCI_RUNTIME=$T/fake/crun "$OCI_RUNC" "$@" 2>&1 | sed 's/ $//'; }
tap_is "$(xl --root /r kill x kill --all)" "--root /r kill --all x KILL" "crun: flags before the ID, signal in upper case"
tap_is "$(xl -root=/r --log-format=json --debug=false delete --force=true x)" "--root /r --log-format json delete --force x" "crun: Go spellings (-x=v, =true/false) made plain"
tap_is "$(xl exec -t --ignore-paused -e A=1 -p=/p.json x ls -la --tty)" "exec --tty --env A=1 --process /p.json x ls -la --tty" "crun: exec stops at the ID; --ignore-paused dropped"
tap_is "$(xl --criu /usr/sbin/criu --systemd-cgroup list -q)" "--systemd-cgroup list --quiet" "crun: --criu dropped"
tap_is "$(xl create -b /b --console-socket /s --pid-file /p --no-pivot --no-new-keyring --preserve-fds=2 x)" \
  "create --bundle /b --console-socket /s --pid-file /p --no-pivot --no-new-keyring --preserve-fds 2 x" "crun: create flags"
tap_is "$(xl help create)" "create --help" "crun: help VERB"
ln -s "$T/fake/crun" "$T/fake/runc"
tap_is "$(SIFOCI_RUNTIME=$T/fake/runc "$OCI_RUNC" kill -a x 2>&1 | sed 's/ $//')" "kill --all x" "crun: a 'runc' that links to crun is crun"
tap_is "$(xl ps x -- -ef)" "ps x -- -ef" "crun: ps arguments after the ID untouched"
tap_is "$(xl state -- -odd)" "state -- -odd" "crun: a positional that looks like a flag stays one"
for bad in "checkpoint x" "restore x" "events x" "features" "run --keep x" "exec -g 1 x true" "update --l3-cache-schema L3:0=f x"; do
  out=$(SIFOCI_RUNTIME=$T/fake/crun "$OCI_RUNC" $bad 2>&1)
  tap_like "$?|$out" "^1\|time=.* msg=\"oci-runc: .*not supported with crun: " "crun: '$bad' refused with a reason"
done
out=$(SIFOCI_RUNTIME=$T/fake/crun "$OCI_RUNC" state --nope x 2>&1)
tap_like "$?|$out" 'flag provided but not defined: -nope' "crun: an unknown flag is refused as runc would"
out=$(SIFOCI_RUNTIME=$T/fake/crun "$OCI_RUNC" frobnicate 2>&1)
tap_like "$?|$out" "^3\|.*No help topic for 'frobnicate'" "crun: an unknown command exits 3 as runc does"
if command -v crun >/dev/null; then
  mkdir -p "$T/cspec-o" "$T/cspec-c"
  SIFOCI_RUNTIME=crun "$OCI_RUNC" spec -b "$T/cspec-o" && crun spec -b "$T/cspec-c"
  tap_is "$(cat "$T/cspec-o/config.json")" "$(cat "$T/cspec-c/config.json")" "real crun: spec -b"
  tap_is "$(SIFOCI_RUNTIME=crun "$OCI_RUNC" --root "$T/croot" list -f json)" "$(crun --root "$T/croot" list -f json)" "real crun: list -f json"
  if crun --root "$T/croot" run -b "$T/b-run" "probe-$S" >/dev/null 2>"$T/crun-probe"; [ $? = 5 ]; then
    out=$(SIFOCI_RUNTIME=crun "$OCI_RUNC" --root "$T/croot" run -b "$T/b-run" "c-$S" 2>/dev/null)
    tap_is "$?|$out" "5|hi" "real crun: run, output and exit status"
  else
    tap_diag "crun cannot run containers on this host ($(tail -1 "$T/crun-probe")): crun lifecycle not tested"
  fi
fi
tap_done
