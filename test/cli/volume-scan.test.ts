import assert from 'node:assert/strict';
import { classifyObject, type HeldSlices } from '../../src/cli/volume-scan.js';

const B = 64 * 1024;
const old = new Date('2026-01-01T00:00:00Z');
const cutoff = new Date('2026-06-01T00:00:00Z');
const obj = (key: string, mtime = old): { key: string; size: number; mtime: Date } => ({ key, size: 1, mtime });

describe('cli volume scan: classifying listed objects like juicefs gc', () => {
  const held: HeldSlices = {
    referenced: new Map([[10n, new Set([150 * 1024])]]),
    pending: new Map([[20n, new Set([100])]]),
    records: 1,
  };

  it('a block of a referenced slice whose name fits the slice size is valid, in both key layouts', () => {
    assert.equal(classifyObject(obj('chunks/0/0/10_0_65536'), held, B, cutoff), 'valid');
    assert.equal(classifyObject(obj('chunks/0/0/10_2_22528'), held, B, cutoff), 'valid');
    assert.equal(classifyObject(obj('chunks/0A/0/10_1_65536'), held, B, cutoff), 'valid');
  });

  it('a block whose index or length does not fit the referenced slice is leaked', () => {
    assert.equal(classifyObject(obj('chunks/0/0/10_3_65536'), held, B, cutoff), 'leaked');
    assert.equal(classifyObject(obj('chunks/0/0/10_2_65536'), held, B, cutoff), 'leaked');
  });

  it('blocks of slices waiting for deletion are pending, unknown slices are leaked', () => {
    assert.equal(classifyObject(obj('chunks/0/0/20_0_100'), held, B, cutoff), 'pending');
    assert.equal(classifyObject(obj('chunks/0/0/30_0_100'), held, B, cutoff), 'leaked');
  });

  it('objects newer than the cutoff (or without a time) are young, never leaked; non-block keys are other', () => {
    assert.equal(classifyObject(obj('chunks/0/0/30_0_100', new Date('2026-07-01T00:00:00Z')), held, B, cutoff), 'young');
    assert.equal(classifyObject(obj('chunks/0/0/30_0_100', new Date(0)), held, B, cutoff), 'young');
    assert.equal(classifyObject(obj('chunks/README'), held, B, cutoff), 'other');
  });
});
