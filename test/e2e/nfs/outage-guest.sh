#!/bin/bash
# Redis outage check, run INSIDE the nfs-vm guest (hard NFSv3 mount at $NFS_MNT, root, export with
# no_root_squash) by kernel-client.test.ts against `ferry serve` on a Redis volume. Writes a file,
# then prints OUTAGE-READY; the host stops Redis and starts it again some seconds later. Meanwhile
# the guest reads, creates, writes, fsyncs and lists: ferry answers NFS3ERR_JUKEBOX while Redis is
# away, so these calls must wait and then succeed, with no error reaching the programs.
# Prints PASS/FAIL per check and "N passed, M failed".
. /run/nfs-vm/guest-lib.sh
guest_setup outage

mkdir -p "$MNT/outage" && cd "$MNT/outage" || { echo "FAIL setup"; echo "0 passed, 1 failed"; exit 1; }
head -c $((4 * 1024 * 1024)) /dev/urandom > before.bin && sync before.bin || { echo "FAIL setup: before.bin"; exit 1; }
sha256sum before.bin > "$SCRATCH/before.sha"
drop_caches
echo "OUTAGE-READY"

# --- the host stops Redis now; calls from here on meet the outage
sleep 3
t0=$SECONDS
( sha256sum -c "$SCRATCH/before.sha" ) > "$SCRATCH/out" 2>&1
result read_waits_for_redis $?

( echo during > during.txt && sync during.txt && drop_caches && [ "$(cat during.txt)" = during ] ) > "$SCRATCH/out" 2>&1
result create_and_fsync_wait_for_redis $?

( ls -l > "$SCRATCH/ls" && grep -q before.bin "$SCRATCH/ls" && grep -q during.txt "$SCRATCH/ls" ) > "$SCRATCH/out" 2>&1
result list_after_the_outage $?

took=$((SECONDS - t0))
( echo "the calls took ${took}s"; [ "$took" -ge 3 ] ) > "$SCRATCH/out" 2>&1
result calls_met_the_outage $?
echo "guest calls took ${took}s"

cd "$MNT" && rm -rf "$MNT/outage"
guest_finish
