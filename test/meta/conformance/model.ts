/**
 * Model-based test of the meta conformance suite (STYLE.md §5, after juicefs random_test.go):
 * fast-check generates sequences of mkdir/create/unlink/rmdir/rename/link/write/truncate; each op
 * runs against BaseMeta and a plain in-memory tree, errnos must agree, and at the end the whole
 * tree (names, types, nlink, lengths), the volume counters and dir stats must match the model.
 * With trash on, removed entries must show up in trash as `<parent>-<ino>-<name>` and keep counting.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Errno, isFsError } from '../../../src/util/errno.js';
import type { BaseMeta } from '../../../src/meta/base.js';
import { CHUNK_SIZE, FileType, type Ino, ROOT_INODE, TRASH_INODE, align4K } from '../../../src/meta/types.js';
import { ROOT, collect, n, write } from './helpers.js';

/** `existing`: the source is picked among the existing entries (else a random, maybe missing, name). */
type Op =
  | { kind: 'mkdir' | 'create'; dir: number; name: number }
  | { kind: 'unlink' | 'rmdir'; dir: number; name: number; existing: boolean }
  | { kind: 'rename'; dir: number; name: number; existing: boolean; dir2: number; name2: number }
  | { kind: 'link'; file: number; dir: number; name: number }
  | { kind: 'write'; file: number; off: number; len: number }
  | { kind: 'truncate'; file: number; size: number };

const NAMES = ['a', 'b', 'c'];
const SPAN = 3 * CHUNK_SIZE;

const existing = fc.boolean();
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('mkdir' as const, 'create' as const), dir: fc.nat(), name: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('unlink' as const, 'rmdir' as const), dir: fc.nat(), name: fc.nat(), existing }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('rename' as const), dir: fc.nat(), name: fc.nat(), existing, dir2: fc.nat(), name2: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('link' as const), file: fc.nat(), dir: fc.nat(), name: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('write' as const), file: fc.nat(), off: fc.integer({ min: 0, max: SPAN - 1 }), len: fc.integer({ min: 1, max: 1 << 20 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), file: fc.nat(), size: fc.integer({ min: 0, max: SPAN }) }) },
);

interface Node {
  type: FileType.File | FileType.Directory;
  length: number;
  /** Directories only: name -> child. */
  entries: Map<string, Ino>;
}

class Tree {
  readonly nodes = new Map<Ino, Node>([[ROOT_INODE, { type: FileType.Directory, length: 4096, entries: new Map() }]]);
  /** A file ever had a second link: dir stats legitimately stop following its length (Attr.parent = 0). */
  linked = false;
  /** Removed entries kept in trash (trash on): trash name -> inode. */
  readonly trash = new Map<string, Ino>();

  constructor(readonly trashOn: boolean) {}

  /** Inodes reachable from the root (what ops may pick). */
  live(): Set<Ino> {
    const seen = new Set<Ino>([ROOT_INODE]);
    const todo: Ino[] = [ROOT_INODE];
    for (let cur = todo.pop(); cur !== undefined; cur = todo.pop()) {
      for (const c of this.node(cur).entries.values()) {
        if (seen.has(c)) continue;
        seen.add(c);
        todo.push(c);
      }
    }
    return seen;
  }

  /** Directory and name of a source entry: one of the existing entries, or a random name in a random directory. */
  source(op: { dir: number; name: number; existing: boolean }): [Ino, string] {
    if (op.existing) {
      const all: [Ino, string][] = [];
      for (const d of this.list(FileType.Directory)) for (const name of [...this.node(d).entries.keys()].sort()) all.push([d, name]);
      const e = all[op.name % Math.max(1, all.length)];
      if (e !== undefined) return e;
    }
    return [this.pick(FileType.Directory, op.dir) ?? ROOT_INODE, NAMES[op.name % NAMES.length] ?? 'a'];
  }

  node(ino: Ino): Node {
    const x = this.nodes.get(ino);
    assert.ok(x !== undefined, `model has no inode ${ino}`);
    return x;
  }

  list(type: FileType): Ino[] {
    return [...this.live()].filter((k) => this.node(k).type === type).sort((a, b) => (a < b ? -1 : 1));
  }

  pick(type: FileType, i: number): Ino | null {
    const l = this.list(type);
    return l.length === 0 ? null : (l[i % l.length] ?? null);
  }

  nlink(ino: Ino): number {
    const x = this.node(ino);
    if (x.type === FileType.Directory) return 2 + [...x.entries.values()].filter((c) => this.node(c).type === FileType.Directory).length;
    let count = 0;
    for (const d of this.nodes.values()) for (const c of d.entries.values()) if (c === ino) count++;
    for (const c of this.trash.values()) if (c === ino) count++;
    return count;
  }

  parentOf(dir: Ino): Ino | null {
    for (const [p, d] of this.nodes) for (const c of d.entries.values()) if (c === dir) return p;
    return null;
  }

  /** True when `a` is `b` or an ancestor of `b`. */
  contains(a: Ino, b: Ino): boolean {
    for (let cur: Ino | null = b; cur !== null; cur = cur === ROOT_INODE ? null : this.parentOf(cur)) if (cur === a) return true;
    return false;
  }

  /** Removes entry `name` of `dir`; drops the child when no link is left. */
  remove(dir: Ino, name: string): void {
    const d = this.node(dir);
    const child = d.entries.get(name);
    assert.ok(child !== undefined);
    d.entries.delete(name);
    if (this.trashOn) this.trash.set(`${dir}-${child}-${name}`, child);
    else if (this.node(child).type === FileType.Directory || this.nlink(child) === 0) this.nodes.delete(child);
  }
}

/** The errno a call failed with, or null on success. */
async function outcome<T>(p: Promise<T>): Promise<{ errno: string | null; value: T | null }> {
  try {
    return { errno: null, value: await p };
  } catch (err) {
    if (!isFsError(err)) throw err;
    return { errno: err.code, value: null };
  }
}

async function apply(meta: BaseMeta, m: Tree, op: Op): Promise<void> {
  const label = JSON.stringify(op);
  const check = (got: string | null, want: Errno | null): void => assert.equal(got, want === null ? null : Errno[want], label);
  switch (op.kind) {
    case 'mkdir':
    case 'create': {
      const dir = m.pick(FileType.Directory, op.dir) ?? ROOT_INODE;
      const name = NAMES[op.name % NAMES.length] ?? 'a';
      const want = m.node(dir).entries.has(name) ? Errno.EEXIST : null;
      const r = op.kind === 'mkdir'
        ? await outcome(meta.mkdir(ROOT, dir, n(name), 0o755, 0))
        : await outcome(meta.create(ROOT, dir, n(name), 0o644, 0, true));
      check(r.errno, want);
      if (r.value !== null) {
        const type = op.kind === 'mkdir' ? FileType.Directory : FileType.File;
        m.nodes.set(r.value.ino, { type, length: type === FileType.Directory ? 4096 : 0, entries: new Map() });
        m.node(dir).entries.set(name, r.value.ino);
      }
      return;
    }
    case 'unlink':
    case 'rmdir': {
      const [dir, name] = m.source(op);
      const child = m.node(dir).entries.get(name);
      let want: Errno | null = null;
      if (child === undefined) want = Errno.ENOENT;
      else if (op.kind === 'unlink' && m.node(child).type === FileType.Directory) want = Errno.EISDIR;
      else if (op.kind === 'rmdir' && m.node(child).type !== FileType.Directory) want = Errno.ENOTDIR;
      else if (op.kind === 'rmdir' && m.node(child).entries.size > 0) want = Errno.ENOTEMPTY;
      const r = await outcome(op.kind === 'unlink' ? meta.unlink(ROOT, dir, n(name)) : meta.rmdir(ROOT, dir, n(name)));
      check(r.errno, want);
      if (want === null) m.remove(dir, name);
      return;
    }
    case 'rename': {
      const [sp, sn] = m.source(op);
      const dp = m.pick(FileType.Directory, op.dir2) ?? ROOT_INODE;
      const dn = NAMES[op.name2 % NAMES.length] ?? 'a';
      const src = m.node(sp).entries.get(sn);
      const dst = m.node(dp).entries.get(dn);
      let want: Errno | null = null;
      let noop = false;
      if (src === undefined) want = Errno.ENOENT;
      else if ((sp === dp && sn === dn) || dst === src) noop = true;
      else {
        const srcDir = m.node(src).type === FileType.Directory;
        const dstDir = dst !== undefined && m.node(dst).type === FileType.Directory;
        if (dst !== undefined && srcDir && !dstDir) want = Errno.ENOTDIR;
        else if (dst !== undefined && !srcDir && dstDir) want = Errno.EISDIR;
        else if (srcDir && sp !== dp && m.contains(src, dp)) want = Errno.EINVAL;
        else if (dst !== undefined && dstDir && m.node(dst).entries.size > 0) want = Errno.ENOTEMPTY;
      }
      const r = await outcome(meta.rename(ROOT, sp, n(sn), dp, n(dn)));
      check(r.errno, want);
      if (want === null && !noop && src !== undefined) {
        if (dst !== undefined) m.remove(dp, dn);
        m.node(sp).entries.delete(sn);
        m.node(dp).entries.set(dn, src);
      }
      return;
    }
    case 'link': {
      const file = m.pick(FileType.File, op.file);
      if (file === null) return;
      const dir = m.pick(FileType.Directory, op.dir) ?? ROOT_INODE;
      const name = NAMES[op.name % NAMES.length] ?? 'a';
      const want = m.node(dir).entries.has(name) ? Errno.EEXIST : null;
      const r = await outcome(meta.link(ROOT, file, dir, n(name)));
      check(r.errno, want);
      if (want === null) {
        m.node(dir).entries.set(name, file);
        m.linked = true;
      }
      return;
    }
    case 'write': {
      const file = m.pick(FileType.File, op.file);
      if (file === null) return;
      const len = 1 + ((op.len - 1) % Math.min(1 << 20, CHUNK_SIZE - (op.off % CHUNK_SIZE)));
      await write(meta, file, op.off, len);
      const x = m.node(file);
      x.length = Math.max(x.length, op.off + len);
      return;
    }
    case 'truncate': {
      const file = m.pick(FileType.File, op.file);
      if (file === null) return;
      await meta.setattr(ROOT, file, { size: op.size });
      m.node(file).length = op.size;
      return;
    }
  }
}

async function compare(meta: BaseMeta, m: Tree): Promise<void> {
  const live = m.live();
  for (const [ino, x] of m.nodes) {
    if (x.type !== FileType.Directory || !live.has(ino)) continue;
    const listed = (await collect(meta.readdir(ROOT, ino, { plus: true, batchSize: 2 }))).filter((e) => e.cookie > 2n);
    const got = listed.map((e) => e.name.toString()).sort();
    assert.deepEqual(got, [...x.entries.keys()].sort(), `entries of ${ino}`);
    for (const e of listed) {
      const child = x.entries.get(e.name.toString());
      assert.equal(e.ino, child, `ino of ${ino}/${e.name.toString()}`);
      if (child === undefined) continue;
      const c = m.node(child);
      assert.equal(e.type, c.type);
      assert.equal(e.attr?.nlink, m.nlink(child), `nlink of ${child}`);
      assert.equal(e.attr?.length, c.length, `length of ${child}`);
    }
    const stats = await meta.dirStats(ino);
    assert.ok(stats !== null);
    assert.equal(stats.usedInodes, x.entries.size, `dir stat inodes of ${ino}`);
    if (!m.linked) {
      const kids = [...x.entries.values()].map((c) => m.node(c));
      assert.equal(stats.dataLength, kids.reduce((s, k) => s + (k.type === FileType.File ? k.length : 0), 0), `dir stat length of ${ino}`);
      assert.equal(stats.usedSpace, kids.reduce((s, k) => s + align4K(k.length), 0), `dir stat space of ${ino}`);
    }
  }
  let hourDirs = 0;
  if (m.trashOn) {
    const hours = (await collect(meta.readdir(ROOT, TRASH_INODE))).filter((e) => e.cookie > 2n);
    hourDirs = hours.length;
    const trashed = new Map<string, Ino>();
    for (const h of hours) {
      for (const e of (await collect(meta.readdir(ROOT, h.ino, { plus: true }))).filter((x) => x.cookie > 2n)) {
        trashed.set(e.name.toString(), e.ino);
        const x = m.node(e.ino);
        assert.equal(e.attr?.length, x.length, `length of trashed ${e.ino}`);
        assert.equal(e.attr?.nlink, m.nlink(e.ino), `nlink of trashed ${e.ino}`);
      }
    }
    assert.deepEqual([...trashed.entries()].sort(), [...m.trash.entries()].sort(), 'trash entries');
  }
  const c = await meta.counters();
  const others = [...m.nodes.entries()].filter(([ino]) => ino !== ROOT_INODE).map(([, v]) => v);
  assert.equal(c.usedInodes, others.length + hourDirs, 'usedInodes');
  assert.equal(c.usedSpace, others.reduce((s, v) => s + align4K(v.length), 0) + hourDirs * 4096, 'usedSpace');
}

/**
 * Runs the model test; `fresh` returns a BaseMeta over a newly formatted, empty volume (with
 * TrashDays > 0 when `trash`). With trash on there are no hard links, so no two removals can
 * want the same trash name and the outcome does not depend on the clock's hour.
 */
export async function modelBasedTest(fresh: () => Promise<BaseMeta>, opts: { trash: boolean; numRuns: number }): Promise<void> {
  const arb = opts.trash ? opArb.filter((op) => op.kind !== 'link') : opArb;
  await fc.assert(
    fc.asyncProperty(fc.array(arb, { minLength: 1, maxLength: 40 }), async (ops) => {
      const meta = await fresh();
      const model = new Tree(opts.trash);
      for (const op of ops) await apply(meta, model, op);
      await compare(meta, model);
    }),
    { numRuns: opts.numRuns },
  );
}
