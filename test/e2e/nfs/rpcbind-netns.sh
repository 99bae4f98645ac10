#!/bin/bash
# Run by rpcbind.test.ts inside `unshare --net --mount --pid` (a private loopback and /run, so the
# machine's own network and any system rpcbind are untouched): starts Debian's rpcbind, then
# `ferry serve --portmap rpcbind`, and prints what rpcinfo and a port-less libnfs client see while
# ferry runs and after it stopped. Usage: rpcbind-netns.sh FERRY_MAIN_JS DATA_DIR NFS_PORT MOUNT_PORT
set -u
main=$1 data=$2 nfs_port=$3 mount_port=$4
ip link set lo up
mount -t tmpfs -o mode=755 tmpfs /run
rpcbind -f -w &
for _ in $(seq 100); do rpcinfo -p 127.0.0.1 >/dev/null 2>&1 && break; sleep 0.1; done
rpcinfo -p 127.0.0.1 >/dev/null || { echo "rpcbind did not start"; exit 1; }
"${FERRY_NODE:-node}" "$main" serve --data-dir "$data" --nfs-port "$nfs_port" --mount-port "$mount_port" --host 127.0.0.1 \
  --portmap rpcbind --no-webdav --no-admin > "$data.log" 2>&1 &
ferry=$!
for _ in $(seq 150); do rpcinfo -p 127.0.0.1 | grep -q ' 100005 ' && break; sleep 0.2; done
echo "=== while serving"
rpcinfo -p 127.0.0.1
echo "=== nfs-ls without ports"
echo hi > "$data.up"
nfs-cp "$data.up" 'nfs://127.0.0.1//found-through-rpcbind.txt?version=3' >/dev/null && nfs-ls 'nfs://127.0.0.1/?version=3'
echo "=== stopped"
kill -TERM "$ferry"
wait "$ferry"
echo "ferry exit $?"
rpcinfo -p 127.0.0.1
