#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Slurm Prolog for sifoci's oci.conf: makes the job user's state root,
# /run/sifoci-slurm/UID, owned by the user, mode 0700, in a root-owned 0755
# /run/sifoci-slurm.  slurmd runs it as root on each node before the job's
# first step there (SLURM_JOB_UID set); the user's RunTimeRun then creates
# containers in it and root's RunTimeQuery/Kill/Delete act in it as the user.
# Only root can add or swap entries of a 0755 directory, so no user can make
# or replace another's.  Install it (e.g. /etc/slurm/prolog-sifoci.sh,
# mode 0755) and name it in slurm.conf, `Prolog=/etc/slurm/prolog-sifoci.sh`,
# or call it from the site's own Prolog.  A non-zero exit drains the node:
# it fails only when the directory cannot be made as described.
set -eu
base=/run/sifoci-slurm
uid=${SLURM_JOB_UID:-}
case $uid in
'' | *[!0-9]*)
  echo "prolog-sifoci: SLURM_JOB_UID '$uid' is not a uid" >&2
  exit 1
  ;;
esac
for d in "$base" "$base/$uid"; do
  if [ -L "$d" ]; then
    echo "prolog-sifoci: $d is a symbolic link (refused)" >&2
    exit 1
  fi
done
install -d -m 0755 -o 0 -g 0 "$base"
gid=${SLURM_JOB_GID:-$(id -g "$uid")}
install -d -m 0700 -o "$uid" -g "$gid" "$base/$uid"
