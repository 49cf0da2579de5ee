// Dates, sizes and durations as people read them (24-hour clock).
import type { T } from '../i18n';

const p2 = (n: number) => String(n).padStart(2, '0');

/** YYYY-MM-DD HH:mm:ss in local time (24 h), as zh-CN forms print it. */
export function formatDateTime(ms: number | null | undefined, withSeconds = true): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  const date = `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}`;
  const time = `${p2(d.getHours())}:${p2(d.getMinutes())}` + (withSeconds ? `:${p2(d.getSeconds())}` : '');
  return `${date} ${time}`;
}

export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  return `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

/** "just now", "5 min ago", "3 h ago", else the date. */
export function formatAgo(ms: number | null, now: number, t: T): string {
  if (ms === null) return t('status.never');
  const d = Math.max(0, now - ms);
  if (d < 60_000) return t('time.justNow');
  if (d < 3_600_000) return t('time.minutesAgo', { n: Math.floor(d / 60_000) });
  if (d < 86_400_000) return t('time.hoursAgo', { n: Math.floor(d / 3_600_000) });
  return formatDateTime(ms, false);
}

export function formatMetres(m: number | null | undefined): string {
  if (m === null || m === undefined || !Number.isFinite(m)) return '—';
  return m < 10 ? `${m.toFixed(1)} m` : `${Math.round(m)} m`;
}

/** A shortened hash for people (first 8 hex digits). */
export function short(id: string, n = 8): string {
  return id.length > n ? id.slice(0, n) : id;
}

/** Tests typed as one line: split on commas (either width), 、 and semicolons. */
export function splitTests(text: string): string[] {
  return text
    .split(/[,，、;；\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}
