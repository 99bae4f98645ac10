# Sourced by the guest check scripts (restart-guest.sh, outage-guest.sh) as
# /run/nfs-vm/guest-lib.sh (nfs-vm copies it beside the script): the environment, the scratch dir,
# and the PASS/FAIL bookkeeping. `guest_setup NAME` first; `result NAME RC` per check, with the
# check's output in "$SCRATCH/out"; `guest_finish` prints "N passed, M failed" and sets the exit code.
set -u
export LC_ALL=C PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
MNT=${NFS_MNT:-/mnt/nfs}
pass=0
fail=0

guest_setup() { SCRATCH=$(mktemp -d "/tmp/$1.XXXXXX"); }
result() { # result NAME RC
  if [ "$2" = 0 ]; then echo "PASS $1"; pass=$((pass + 1)); else echo "FAIL $1"; sed 's/^/    /' "$SCRATCH/out"; fail=$((fail + 1)); fi
}
# Makes the next reads come from the server, not the client's page cache.
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
guest_finish() { rm -rf "$SCRATCH"; echo "$pass passed, $fail failed"; [ "$fail" = 0 ]; }
