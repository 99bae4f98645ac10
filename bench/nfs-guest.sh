#!/bin/bash
# Runs INSIDE the nfs-vm guest (Linux kernel NFSv3 client, export mounted at $NFS_MNT) for
# `npm run bench:nfs`: creates N files of 4 KiB in one directory, `ls -l`s them after dropping
# the guest's caches, deletes them, then fio 4 KiB random reads (O_DIRECT, libaio, 16 deep) on a
# FIO_MB file for FIO_SEC seconds. Prints "RESULT <name> <value>" lines, and after each phase the
# client's cumulative per-procedure counters from /proc/self/mountstats as "OPSTAT <phase> <proc>
# <calls> <rtt ms> <execute ms>" lines; the host does the sums.
# Uses only bash builtins in the file loop (no fork per file: the guest CPU is emulated).
set -euo pipefail
N=${N:-10000}
FIO_MB=${FIO_MB:-256}
FIO_SEC=${FIO_SEC:-20}
cd "$NFS_MNT"
now() { date +%s.%N; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
# per-op lines of the (only) NFS mount: "PROC: ops trans timeouts sent recv queue_ms rtt_ms execute_ms ..."
opstats() { awk -v phase="$1" '/per-op statistics/ { on = 1; next } on && $1 ~ /^[A-Z_]+:$/ && NF >= 9 { sub(":", "", $1); print "OPSTAT", phase, $1, $2, $8, $9 }' /proc/self/mountstats; }
block=$(head -c 3072 /dev/urandom | base64 -w 0)   # 4096 printable bytes
[ ${#block} -eq 4096 ]

# a new name per run: ext4 picks the block group of a directory made in a `chattr +T` one (ganesha's
# export) from a hash of its name, and a fixed name would land where the last run deleted its files
small="small-$RANDOM$RANDOM"
mkdir "$small"
drop
opstats start
t0=$(now)
for ((i = 0; i < N; i++)); do printf '%s' "$block" > "$small/f$i"; done
sync
t1=$(now)
echo "RESULT create_s $(echo "$t1 - $t0" | bc -l)"
opstats create

drop
t0=$(now)
count=$(ls -l "$small" | grep -c '^-')
t1=$(now)
[ "$count" -eq "$N" ] || { echo "ls -l saw $count files, not $N" >&2; exit 1; }
echo "RESULT ls_s $(echo "$t1 - $t0" | bc -l)"
opstats ls

drop
t0=$(now)
rm -rf "$small"
t1=$(now)
echo "RESULT delete_s $(echo "$t1 - $t0" | bc -l)"
opstats delete

fio --name=layout --filename=fio.dat --size="${FIO_MB}M" --rw=write --bs=1M --ioengine=psync --end_fsync=1 --output=/dev/null
drop
iops=$(fio --name=randread --filename=fio.dat --size="${FIO_MB}M" --rw=randread --bs=4k --ioengine=libaio --iodepth=16 \
  --direct=1 --runtime="$FIO_SEC" --time_based --output-format=terse --terse-version=3 | awk -F';' '{print $8}')
echo "RESULT fio_randread_iops $iops"
rm -f fio.dat
