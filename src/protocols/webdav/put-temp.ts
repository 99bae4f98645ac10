/**
 * Names of the hidden files replacing PUTs write into (methods/put.ts): `.ferry-put-<16 hex>` in
 * the target's collection. One whose PUT died with its process stays behind; `ferry fsck` lists
 * those older than its --min-age.
 */
import { randomBytes } from 'node:crypto';

const PUT_TEMP_PREFIX = '.ferry-put-';

/** A fresh hidden name (64 random bits). */
export const putTempName = (): Buffer => Buffer.from(`${PUT_TEMP_PREFIX}${randomBytes(8).toString('hex')}`);

/** True for a name putTempName() could have made. */
export const isPutTempName = (name: string): boolean => /^\.ferry-put-[0-9a-f]{16}$/.test(name);
