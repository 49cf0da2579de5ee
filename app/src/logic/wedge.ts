// A USB barcode scanner at a lab workstation types like a keyboard: a fast
// burst of characters ending in Enter. The input stays focused; this
// buffer tells a scanner burst from a person typing the printed digits.

export interface WedgeResult {
  text: string;
  /** true: a scanner burst (api.scannerTag); false: typed by hand (api.manualTag). */
  scanner: boolean;
}

export interface WedgeOptions {
  /** Mean gap between keystrokes at or below which it is a scanner (ms). */
  maxMeanGapMs: number;
  /** Shortest text a scanner burst can be. */
  minScannerLength: number;
}

export const DEFAULT_WEDGE: WedgeOptions = { maxMeanGapMs: 35, minScannerLength: 8 };

export class WedgeBuffer {
  private chars: string[] = [];
  private times: number[] = [];
  private pasted = false;
  constructor(private opts: WedgeOptions = DEFAULT_WEDGE) {}

  /**
   * Feed one keydown (key name as in KeyboardEvent.key, time in ms).
   * Returns a result on Enter (or Tab, which some scanners send), else null.
   */
  key(key: string, atMs: number): WedgeResult | null {
    if (key === 'Enter' || key === 'Tab') return this.finish();
    if (key === 'Backspace') {
      this.chars.pop();
      this.times.pop();
      // A correction is a person typing.
      this.pasted = false;
      this.times = this.times.map(() => Number.NaN);
      return null;
    }
    if (key === 'Escape') {
      this.clear();
      return null;
    }
    if (key.length !== 1) return null; // Shift, Control …
    this.chars.push(key);
    this.times.push(atMs);
    return null;
  }

  /** Text pasted into the field counts as typed (not a scanner). */
  paste(text: string): void {
    for (const ch of text) {
      this.chars.push(ch);
      this.times.push(Number.NaN);
    }
    this.pasted = true;
  }

  /** Replace the buffer with the input's value (the person edited it). */
  sync(value: string): void {
    if (value === this.text) return;
    this.chars = [...value];
    this.times = this.chars.map(() => Number.NaN);
  }

  get text(): string {
    return this.chars.join('');
  }

  clear(): void {
    this.chars = [];
    this.times = [];
    this.pasted = false;
  }

  private finish(): WedgeResult | null {
    const text = this.text.trim();
    const times = this.times;
    const pasted = this.pasted;
    this.clear();
    if (!text) return null;
    return { text, scanner: !pasted && isBurst(times, this.opts) && text.length >= this.opts.minScannerLength };
  }
}

/** Whether keystroke times look like a scanner: every gap known and the mean gap short. */
export function isBurst(times: number[], opts: WedgeOptions = DEFAULT_WEDGE): boolean {
  if (times.length < 2 || times.some((t) => Number.isNaN(t))) return false;
  let sum = 0;
  for (let i = 1; i < times.length; i++) sum += times[i] - times[i - 1];
  return sum / (times.length - 1) <= opts.maxMeanGapMs;
}

/** The printed digits as typed: spaces, dashes and full-width digits tolerated. */
export function normaliseTyped(text: string): string {
  return text
    .replace(/[\uFF10-\uFF19]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xff10 + 48))
    .replace(/[\s\-_]/g, '')
    .trim();
}
