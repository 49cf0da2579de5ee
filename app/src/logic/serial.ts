// Camera commands must reach the shell in order (a stop from the screen
// being left must not overtake the start of the next one): one queue.

export function serial() {
  let tail: Promise<unknown> = Promise.resolve();
  return function run<T>(job: () => Promise<T>): Promise<T> {
    const p = tail.then(job, job);
    tail = p.catch(() => undefined);
    return p;
  };
}
