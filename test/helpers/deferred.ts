/** A promise settled from outside, for handlers a test releases by hand. */
export class Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve: (value: T) => void = () => undefined;
  reject: (err: unknown) => void = () => undefined;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/**
 * Waits until `predicate` holds, checking every `intervalMs`; fails after `timeoutMs` naming
 * `what`. The predicate may be async (a query to a server). For state that changes asynchronously on the server side; not a timing assertion.
 */
export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000, intervalMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
