#!/bin/bash
# POSIX behaviour of an NFSv3 mount, run INSIDE the nfs-vm guest (Linux kernel NFS client) with the
# export mounted at $NFS_MNT (default /mnt/nfs), as root, on an export with no_root_squash.
# Prints "PASS <name>" / "FAIL <name>" (with the failing output indented) per check and ends with
# "N passed, M failed"; exits 1 when anything failed. Local scratch goes to the guest's /tmp (RAM).
# Environment: BIG_MB (size of the large-file check, default 64), MANY (entries of the big
# directory, default 10000).
set -u
export LC_ALL=C PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
MNT=${NFS_MNT:-/mnt/nfs}
BIG_MB=${BIG_MB:-64}
MANY=${MANY:-10000}
SCRATCH=$(mktemp -d /tmp/posix.XXXXXX)
WORK="$MNT/posix-suite.$$"
mkdir -p "$WORK" || { echo "FAIL setup: cannot mkdir $WORK"; echo "0 passed, 1 failed"; exit 1; }
pass=0
fail=0

# Makes the next reads come from the server, not the client's page cache.
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

check() {
  local name=$1
  shift
  local dir="$WORK/$name"
  mkdir -p "$dir"
  local t0=$SECONDS rc
  # Not inside `if`: bash ignores set -e in a subshell whose status a condition tests.
  ( cd "$dir" || exit 1; set -e -o pipefail; "$@" ) > "$SCRATCH/out" 2>&1
  rc=$?
  if [ "$rc" = 0 ]; then
    echo "PASS $name ($((SECONDS - t0))s)"
    pass=$((pass + 1))
  else
    echo "FAIL $name"
    tail -n 30 "$SCRATCH/out" | sed 's/^/    /'
    fail=$((fail + 1))
  fi
}

expect_eq() { # expect_eq WHAT GOT WANT
  if [ "$2" != "$3" ]; then echo "$1: got '$2', want '$3'"; return 1; fi
}

t_nested_mkdir() {
  mkdir -p a/b/c/d/e/f/g
  test -d a/b/c/d/e/f/g
  touch a/b/c/d/e/f/g/leaf
  drop_caches
  test -f a/b/c/d/e/f/g/leaf
  expect_eq "find" "$(find a | wc -l)" 8
}

t_write_read_checksum() {
  head -c 3000000 /dev/urandom > "$SCRATCH/w"
  cp "$SCRATCH/w" data
  drop_caches
  expect_eq sha256 "$(sha256sum < data)" "$(sha256sum < "$SCRATCH/w")"
  expect_eq size "$(stat -c %s data)" 3000000
  head -c 4096 /dev/urandom > "$SCRATCH/p"
  dd if="$SCRATCH/p" of=data bs=4096 seek=100 conv=notrunc status=none
  dd if="$SCRATCH/p" of="$SCRATCH/w" bs=4096 seek=100 conv=notrunc status=none
  drop_caches
  cmp data "$SCRATCH/w"
}

t_append() {
  printf 'one\n' > f
  printf 'two\n' >> f
  drop_caches
  printf 'three\n' >> f
  drop_caches
  expect_eq content "$(cat f)" "$(printf 'one\ntwo\nthree')"
  expect_eq size "$(stat -c %s f)" 14
}

t_truncate() {
  printf 'abcdefghij' > f
  truncate -s 1048576 f
  drop_caches
  expect_eq size-up "$(stat -c %s f)" 1048576
  expect_eq head "$(head -c 10 f)" abcdefghij
  expect_eq zeros "$(tail -c +11 f | tr -d '\0' | wc -c)" 0
  truncate -s 4 f
  drop_caches
  expect_eq size-down "$(stat -c %s f)" 4
  expect_eq content "$(cat f)" abcd
  truncate -s 8 f
  expect_eq regrow "$(od -An -c f | tr -s ' ')" " a b c d \\0 \\0 \\0 \\0"
  : > f
  expect_eq empty "$(stat -c %s f)" 0
}

t_rename() {
  echo file > f
  mv f g
  test ! -e f
  expect_eq file "$(cat g)" file
  mkdir d
  echo inner > d/x
  mv d e
  expect_eq dir "$(cat e/x)" inner
  echo old > target
  echo new > src
  mv src target
  expect_eq over "$(cat target)" new
  test ! -e src
  mkdir sub
  mv g sub/
  mv e sub/e2
  expect_eq into "$(cat sub/g)$(cat sub/e2/x)" fileinner
  mkdir -p m/n
  mkdir p
  mv p m/n/
  test -d m/n/p
  mkdir full && touch full/x && mkdir emptydir
  if mv emptydir full 2>/dev/null && [ -d full/emptydir ]; then :; else echo "dir into dir failed"; return 1; fi
  drop_caches
  expect_eq listing "$(ls)" "$(printf 'full\nm\nsub\ntarget')"
}

t_hardlinks() {
  echo data > f
  ln f g
  expect_eq nlink "$(stat -c %h f)" 2
  expect_eq same-inode "$(stat -c %i f)" "$(stat -c %i g)"
  echo more >> g
  drop_caches
  expect_eq shared "$(cat f)" "$(printf 'data\nmore')"
  rm f
  expect_eq nlink-after "$(stat -c %h g)" 1
  expect_eq survivor "$(cat g)" "$(printf 'data\nmore')"
  mkdir d
  if ln d d2 2>/dev/null; then echo "hard link to a directory succeeded"; return 1; fi
}

t_symlinks() {
  echo target-content > t
  ln -s t l
  ln -s /nonexistent/path dangling
  ln -s "$(printf 'x%.0s' $(seq 1 1000))" long
  drop_caches
  expect_eq readlink "$(readlink l)" t
  expect_eq through "$(cat l)" target-content
  expect_eq dangling "$(readlink dangling)" /nonexistent/path
  expect_eq long "$(readlink long | wc -c)" 1001
  test -L l
  expect_eq lstat-type "$(stat -c %F l)" "symbolic link"
}

t_attrs() {
  echo x > f
  chmod 640 f
  expect_eq mode "$(stat -c %a f)" 640
  chmod 1755 f
  expect_eq sticky "$(stat -c %a f)" 1755
  chown 1234:5678 f
  expect_eq owner "$(stat -c %u:%g f)" 1234:5678
  touch -m -d '2001-02-03 04:05:06.123456789 UTC' f
  touch -a -d '1999-12-31 23:59:59 UTC' f
  drop_caches
  expect_eq mtime "$(stat -c %Y f)" 981173106
  expect_eq mtime-ns "$(stat -c %y f | cut -d. -f2 | cut -c1-9)" 123456789
  expect_eq atime "$(stat -c %X f)" 946684799
  mkdir d
  chmod 700 d
  chown 42:43 d
  expect_eq dir "$(stat -c %a:%u:%g d)" 700:42:43
}

t_unlink_open_file() {
  printf 'still here' > f
  exec 3< f
  rm f
  test ! -e f
  expect_eq read-after-unlink "$(cat <&3)" 'still here'
  exec 3<&-
  printf 'written after' > g
  exec 4<> g
  rm g
  printf 'XX' >&4
  exec 4<&-
  # the client removes its .nfsXXXX silly-rename files after the last close, asynchronously
  local i
  for i in $(seq 1 50); do [ "$(ls -A | wc -l)" = 0 ] && break; sleep 0.1; done
  expect_eq empty-dir "$(ls -A)" ""
}

t_rmdir_nonempty() {
  mkdir -p d/sub
  touch d/f
  if rmdir d 2>/dev/null; then echo "rmdir of a non-empty directory succeeded"; return 1; fi
  test -d d
  rm d/f
  if rmdir d 2>/dev/null; then echo "rmdir with a subdirectory succeeded"; return 1; fi
  rmdir d/sub
  rmdir d
  test ! -e d
  touch file
  if rmdir file 2>/dev/null; then echo "rmdir of a file succeeded"; return 1; fi
}

t_big_directory() {
  mkdir many
  (cd many && seq -f 'entry-%06g' 1 "$MANY" | xargs touch)
  drop_caches
  expect_eq count "$(ls many | wc -l)" "$MANY"
  ls many | sort > "$SCRATCH/listed"
  seq -f 'entry-%06g' 1 "$MANY" | sort > "$SCRATCH/wanted"
  cmp "$SCRATCH/listed" "$SCRATCH/wanted"
  expect_eq ls-l "$(ls -l many | grep -c '^-')" "$MANY"
  expect_eq find "$(find many -type f | wc -l)" "$MANY"
  rm -rf many
  test ! -e many
}

t_sparse() {
  printf 'start' > s
  dd if=/dev/zero of=s bs=1 count=0 seek=104857600 status=none
  printf 'end' | dd of=s bs=1 seek=104857600 conv=notrunc status=none
  drop_caches
  expect_eq size "$(stat -c %s s)" 104857603
  expect_eq head "$(head -c 5 s)" start
  expect_eq tail "$(tail -c 3 s)" end
  expect_eq hole "$(dd if=s bs=1M skip=50 count=1 status=none | tr -d '\0' | wc -c)" 0
}

t_large_file() {
  head -c "$((BIG_MB * 1048576))" /dev/urandom > "$SCRATCH/big"
  local want
  want=$(sha256sum < "$SCRATCH/big")
  cp "$SCRATCH/big" big
  rm -f "$SCRATCH/big"
  drop_caches
  expect_eq sha256 "$(sha256sum < big)" "$want"
  expect_eq size "$(stat -c %s big)" "$((BIG_MB * 1048576))"
  rm big
}

t_git() {
  export HOME=$SCRATCH/home GIT_CONFIG_NOSYSTEM=1
  mkdir -p "$HOME"
  git config --global user.email t@example.com
  git config --global user.name tester
  git config --global init.defaultBranch main
  local repo=$SCRATCH/repo
  git init -q "$repo"
  for i in $(seq 1 20); do
    head -c $((i * 5000)) /dev/urandom | base64 > "$repo/file$i.txt"
    mkdir -p "$repo/dir$((i % 4))"
    echo "$i" > "$repo/dir$((i % 4))/n$i"
    git -C "$repo" add -A
    git -C "$repo" commit -q -m "commit $i"
  done
  git clone -q "$repo" clone
  git clone -q --no-local "$repo" clone2
  drop_caches
  git -C clone fsck --full --strict
  git -C clone2 fsck --full --strict
  expect_eq head "$(git -C clone rev-parse HEAD)" "$(git -C "$repo" rev-parse HEAD)"
  git -C clone status --porcelain > "$SCRATCH/st"
  test ! -s "$SCRATCH/st"
  echo change >> clone/file1.txt
  git -C clone commit -q -am change
  git -C clone gc -q
  git -C clone fsck --full --strict
}

t_tar() {
  local src=$SCRATCH/tree
  mkdir -p "$src/a/b/c" "$src/empty"
  for i in $(seq 1 50); do head -c $((i * 997)) /dev/urandom > "$src/a/f$i"; done
  head -c 2000000 /dev/urandom > "$src/a/b/large"
  : > "$src/a/b/c/zero"
  ln -s ../f1 "$src/a/b/rel-link"
  ln "$src/a/f2" "$src/a/b/hard"
  chmod 600 "$src/a/f3"
  chmod 755 "$src/a/f4"
  touch -d '2010-01-01 00:00:00 UTC' "$src/a/f5"
  tar -C "$src" -cf "$SCRATCH/t.tar" .
  mkdir x
  tar -C x -xpf "$SCRATCH/t.tar"
  drop_caches
  diff -r --no-dereference "$src" x
  expect_eq modes "$(cd x && stat -c '%n %a %s %Y' a/f3 a/f4 a/f5)" "$(cd "$src" && stat -c '%n %a %s %Y' a/f3 a/f4 a/f5)"
  expect_eq hardlink "$(stat -c %h x/a/b/hard)" 2
  expect_eq symlink "$(readlink x/a/b/rel-link)" ../f1
  tar -C x -cf "$SCRATCH/t2.tar" .
  mkdir "$SCRATCH/back" && tar -C "$SCRATCH/back" -xf "$SCRATCH/t2.tar"
  diff -r --no-dereference "$src" "$SCRATCH/back"
}

t_concurrency() {
  head -c 4000000 /dev/urandom > "$SCRATCH/shared"
  cp "$SCRATCH/shared" shared
  local want
  want=$(sha256sum < "$SCRATCH/shared")
  local pids=()
  for w in 1 2 3 4; do
    ( head -c $((1000000 + w * 100000)) /dev/urandom > "$SCRATCH/w$w"
      for round in 1 2 3; do cp "$SCRATCH/w$w" "out$w.$round"; done ) &
    pids+=($!)
  done
  for r in 1 2 3 4; do
    ( for round in 1 2 3; do drop_caches 2>/dev/null; [ "$(sha256sum < shared)" = "$want" ] || exit 1; done ) &
    pids+=($!)
  done
  ( for i in $(seq 1 200); do echo "line $i" >> appended; done ) &
  pids+=($!)
  local bad=0
  for p in "${pids[@]}"; do wait "$p" || bad=1; done
  [ $bad = 0 ] || { echo "a reader or writer failed"; return 1; }
  drop_caches
  for w in 1 2 3 4; do for round in 1 2 3; do cmp "out$w.$round" "$SCRATCH/w$w"; done; done
  expect_eq appended "$(wc -l < appended)" 200
}

check nested_mkdir t_nested_mkdir
check write_read_checksum t_write_read_checksum
check append t_append
check truncate t_truncate
check rename t_rename
check hardlinks t_hardlinks
check symlinks t_symlinks
check chmod_chown_utimes t_attrs
check unlink_open_file t_unlink_open_file
check rmdir_nonempty t_rmdir_nonempty
check big_directory t_big_directory
check sparse_file t_sparse
check large_file t_large_file
check git_clone_fsck t_git
check tar_roundtrip t_tar
check concurrent_readers_writers t_concurrency

rm -rf "$WORK" "$SCRATCH" || { echo "FAIL cleanup: cannot remove $WORK"; fail=$((fail + 1)); }
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
