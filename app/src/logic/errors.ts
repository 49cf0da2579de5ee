// Turning whatever a failed `invoke` rejected with into a CmdError, and
// choosing what the screen does with it. The rules are in Rust: these
// helpers only route Rust's answer to the right piece of UI.
import type { CmdError, Finding, Lang } from '../api';

/** Normalise a rejection (CmdError from the shell, an Error, a string). */
export function toCmdError(e: unknown): CmdError {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    const o = e as Partial<CmdError> & { code: string; message?: string };
    const fallback = typeof o.message === 'string' ? o.message : o.code;
    return {
      code: o.code,
      message_zh: typeof o.message_zh === 'string' && o.message_zh ? o.message_zh : fallback,
      message_en: typeof o.message_en === 'string' && o.message_en ? o.message_en : fallback,
      findings: Array.isArray(o.findings) ? o.findings : [],
    };
  }
  const text = e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e);
  return { code: 'internal', message_zh: text, message_en: text, findings: [] };
}

/** Pick the message in the person's language (falls back to the other one). */
export function msg(o: { message_zh: string | null; message_en: string | null }, lang: Lang): string {
  const zh = o.message_zh ?? '';
  const en = o.message_en ?? '';
  return lang === 'zh-CN' ? zh || en : en || zh;
}

export type Outcome<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'confirm'; findings: Finding[]; error: CmdError }
  | { kind: 'error'; error: CmdError };

/** Classify a rejection: needs_confirmation asks the person; everything else stops the flow. */
export function classify(e: unknown): Outcome<never> {
  const error = toCmdError(e);
  if (error.code === 'needs_confirmation') return { kind: 'confirm', findings: error.findings, error };
  return { kind: 'error', error };
}

/** Call a signing command; a needs_confirmation answer is returned for the person to confirm. */
export async function attempt<T>(call: (confirm: boolean) => Promise<T>, confirm: boolean): Promise<Outcome<T>> {
  try {
    return { kind: 'ok', value: await call(confirm) };
  } catch (e) {
    return classify(e);
  }
}

/** R8: a witnessing after the window, as Rust reports it. */
export function isLateFinding(f: Finding): boolean {
  return f.code === 'late_by_device_clock' || f.code.startsWith('late');
}

const ORDER: Record<string, number> = { reject: 0, refuse: 1, defer: 2, flag: 3, notice: 4 };
/** Most serious first; late witnessing at the very top. */
export function sortFindings(fs: Finding[]): Finding[] {
  return [...fs].sort((a, b) => {
    const la = isLateFinding(a) ? -1 : 0;
    const lb = isLateFinding(b) ? -1 : 0;
    if (la !== lb) return la - lb;
    return (ORDER[a.disposition] ?? 9) - (ORDER[b.disposition] ?? 9);
  });
}

/** The CSS tone of a finding's disposition. */
export function dispositionTone(d: string): 'bad' | 'warn' | 'info' {
  if (d === 'reject' || d === 'refuse') return 'bad';
  if (d === 'flag' || d === 'defer') return 'warn';
  return 'info';
}
