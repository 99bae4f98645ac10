#!/bin/bash
# Server-restart check, run INSIDE the nfs-vm guest (hard NFSv3 mount at $NFS_MNT, root, export
# with no_root_squash) by kernel-client.test.ts. Before: writes and fsyncs files, keeps fds and a
# cwd inside the mount, leaves unsynced data in the page cache, then prints RESTART-READY. The host
# SIGKILLs `ferry serve`, starts it again on the same ports and writes "restarted" into
# $NFS_MNT/restart.phase; the guest waits for that (its calls in between hang and are retried by
# the hard mount), then checks what survived. Prints PASS/FAIL per check and "N passed, M failed".
. /run/nfs-vm/guest-lib.sh
guest_setup restart
WAIT_SEC=${WAIT_SEC:-600}
fsync_fd() { /usr/bin/python3 -c "import os; os.fsync($1)"; }

# --- before the kill
mkdir -p "$MNT/restart/work/deep" && cd "$MNT/restart/work/deep" || { echo "FAIL setup"; echo "0 passed, 1 failed"; exit 1; }
head -c $((8 * 1024 * 1024)) /dev/urandom > synced.bin && sync synced.bin || { echo "FAIL setup: synced.bin"; exit 1; }
sha256sum synced.bin > "$SCRATCH/synced.sha"
exec 3>>log.txt
echo "before restart" >&3
fsync_fd 3
exec 4<synced.bin
# Written but neither fsynced nor closed (every close() flushes and commits on NFS): the client
# still holds it, dirty or sent UNSTABLE, when the server dies. Builtin printf, so no child closes fd 5.
printf '%s\n' $(seq 1 200000) > "$SCRATCH/pending.txt"
exec 5>pending.txt
printf '%s\n' $(seq 1 200000) >&5
printf 'waiting\n' > "$MNT/restart.phase" && sync "$MNT/restart.phase"
echo "RESTART-READY"

# --- the host kills and restarts the server, then flips the phase file
t0=$SECONDS
until phase=$(cat "$MNT/restart.phase" 2> "$SCRATCH/err") && [ "$phase" = restarted ]; do
  if [ $((SECONDS - t0)) -gt "$WAIT_SEC" ]; then
    # Either the host never restarted ferry, or the old handles no longer work (e.g. ESTALE).
    echo "FAIL restart_signal: restart.phase not 'restarted' after ${WAIT_SEC}s; last read: '${phase:-}' $(cat "$SCRATCH/err")"
    echo "$pass passed, $((fail + 1)) failed"
    exit 1
  fi
  sleep 1
done
echo "guest saw the restart after $((SECONDS - t0))s"

# --- after the restart, with the same cwd, fds and handles
( [ "$(pwd)" = "$MNT/restart/work/deep" ] && ls . | grep -qx synced.bin && echo new > relative.txt && [ "$(cat relative.txt)" = new ] ) > "$SCRATCH/out" 2>&1
result cwd_keeps_working $?

( drop_caches && sha256sum -c "$SCRATCH/synced.sha" ) > "$SCRATCH/out" 2>&1
result fsynced_bytes_intact $?

( drop_caches && [ "$(sha256sum <&4 | cut -d' ' -f1)" = "$(cut -d' ' -f1 "$SCRATCH/synced.sha")" ] ) > "$SCRATCH/out" 2>&1
result open_fd_reads_after_restart $?

( echo "after restart" >&3 && fsync_fd 3 && drop_caches && printf 'before restart\nafter restart\n' | cmp - log.txt ) > "$SCRATCH/out" 2>&1
result open_fd_writes_after_restart $?
exec 3>&- 4<&-

( fsync_fd 5 && drop_caches && cmp "$SCRATCH/pending.txt" pending.txt ) > "$SCRATCH/out" 2>&1
result unsynced_writes_resent_and_intact $?
exec 5>&-

( head -c $((4 * 1024 * 1024)) /dev/urandom > "$SCRATCH/new.bin" && cp "$SCRATCH/new.bin" new.bin && sync new.bin && drop_caches && cmp "$SCRATCH/new.bin" new.bin ) > "$SCRATCH/out" 2>&1
result new_writes_after_restart $?

cd "$MNT" && rm -rf "$MNT/restart" "$MNT/restart.phase"
guest_finish
