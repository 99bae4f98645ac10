/**
 * The WRITE/COMMIT verifier (RFC 1813 §3.3.7, §3.3.21): 8 bytes that stay the same while the data
 * acknowledged as UNSTABLE is still safe in this process, and change on every process start and
 * whenever buffered data may have been lost (a failed flush), so clients resend what they have
 * not seen committed. Never changed merely because a flush happened.
 */
import { randomBytes } from 'node:crypto';

export class WriteVerifier {
  #value: Buffer = randomBytes(8);
  #changes = 0;

  /** The current verifier (do not mutate). */
  get value(): Buffer {
    return this.#value;
  }

  /** How many times it changed since start (for logs and tests). */
  get changes(): number {
    return this.#changes;
  }

  /** Picks a new verifier: uncommitted writes acknowledged before this point may be lost. */
  change(): void {
    let next = randomBytes(8);
    while (next.equals(this.#value)) next = randomBytes(8);
    this.#value = next;
    this.#changes++;
  }
}
