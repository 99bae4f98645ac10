/**
 * Names of the hidden files replacing PUTs write into (methods/put.ts): `.ferry-put-<16 hex>` in
 * the target's collection. One whose PUT died with its process stays behind; `ferry fsck` lists
 * those older than its --min-age.
 */
import { randomBytes } from 'node:crypto';

const PREFIX = '.ferry-put-';
/** Random bytes in a name, written as twice as many hex digits. */
const RANDOM_BYTES = 8;
const HEX_TAIL = new RegExp(`^[0-9a-f]{${2 * RANDOM_BYTES}}$`);

/** A fresh hidden name. */
export const putTempName = (): Buffer => Buffer.from(`${PREFIX}${randomBytes(RANDOM_BYTES).toString('hex')}`);

/** True for a name putTempName() could have made. */
export const isPutTempName = (name: string): boolean => name.startsWith(PREFIX) && HEX_TAIL.test(name.slice(PREFIX.length));
