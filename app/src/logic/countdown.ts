// The witness window countdown (R8). The window length comes from the
// profile's policy; remaining time from the engine's anchor-based estimate.

export type Urgency = 'ok' | 'warn' | 'urgent' | 'late';

/** "mm:ss" (or "h:mm:ss") of |ms|; positive values round up so 0:00 means over. */
export function formatCountdown(ms: number): string {
  const neg = ms < 0;
  const total = neg ? Math.floor(-ms / 1000) : Math.ceil(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Colour threshold: more than half the window left is calm, the last quarter urgent. */
export function urgency(remainingMs: number, windowMs: number): Urgency {
  if (remainingMs <= 0) return 'late';
  if (windowMs <= 0) return 'urgent';
  if (remainingMs > windowMs / 2) return 'ok';
  if (remainingMs > windowMs / 4) return 'warn';
  return 'urgent';
}

/** Fraction of the window left, clamped to 0..1 (for the progress bar). */
export function fractionLeft(remainingMs: number, windowMs: number): number {
  if (windowMs <= 0) return 0;
  return Math.max(0, Math.min(1, remainingMs / windowMs));
}

/**
 * A local deadline from the engine's `remaining_ms` at the moment it was
 * read: ticking on this phone's clock between polls, never trusting the
 * phone's wall clock against `deadline_ms`.
 */
export function localDeadline(remainingMs: number, readAtLocalMs: number): number {
  return readAtLocalMs + remainingMs;
}
