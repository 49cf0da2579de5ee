// Always on screen: what waits to upload, the last sync, problems; sync now.
import { useState } from 'preact/hooks';
import { api } from '../api';
import type { SyncReport } from '../api';
import { msg, toCmdError } from '../logic/errors';
import { formatAgo, formatBytes } from '../logic/format';
import { otherLang } from '../i18n';
import { useApp, useNow } from './ctx';

export function StatusBar() {
  const { status, t, lang, setLang, refreshStatus, reloadProfile } = useApp();
  const now = useNow(5000);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
  const [open, setOpen] = useState(false);

  const sync = async () => {
    setBusy(true);
    setNote(null);
    try {
      const r: SyncReport = await api.syncNow();
      setNote({ ok: r.refused === 0 && r.rejected === 0, text: t('sync.report', { up: r.uploaded, ok: r.accepted, refused: r.refused + r.rejected, got: r.received }) });
      await reloadProfile();
    } catch (e) {
      setNote({ ok: false, text: msg(toCmdError(e), lang) });
    } finally {
      setBusy(false);
      refreshStatus();
    }
  };

  const s = status;
  const problems = s ? s.alarms.length + (s.refused_records > 0 ? 1 : 0) + (s.rejected_records > 0 ? 1 : 0) + (s.last_error_zh ? 1 : 0) : 0;
  const pending = s ? s.pending_records + s.pending_media : 0;
  return (
    <header class="topbar">
      <div class="status-bar" data-testid="status-bar" data-problems={problems} role="status">
        <button type="button" class="status-main" aria-expanded={open} onClick={() => setOpen(!open)}>
          <span class={`dot ${problems ? 'bad' : pending ? 'warn' : 'ok'}`} aria-hidden="true" />
          <span data-testid="status-pending" data-records={s?.pending_records ?? 0} data-media={s?.pending_media ?? 0}>
            {s && !s.enrolled
              ? t('status.notEnrolled')
              : s
              ? pending
                ? t('status.pending', { n: s.pending_records, m: s.pending_media, bytes: formatBytes(s.pending_media_bytes) })
                : t('status.allSent')
              : t('status.unknown')}
          </span>
          <span class="status-sync" data-testid="status-last-sync">{t('status.lastSync', { when: formatAgo(s?.last_sync_ms ?? null, now, t) })}</span>
          {problems > 0 && <span class="status-problems" data-testid="status-problems">{t('status.problems', { n: problems })}</span>}
        </button>
        <button type="button" class="btn btn-small" data-testid="sync-now" disabled={busy} onClick={() => void sync()}>
          {busy ? t('sync.running') : t('sync.now')}
        </button>
        <button
          type="button"
          class="btn btn-small btn-lang"
          data-testid="lang-toggle"
          lang={otherLang(lang)}
          onClick={() => setLang(otherLang(lang))}
          aria-label={t('lang.switchLabel')}
        >
          {t('lang.other')}
        </button>
      </div>
      {note && (
        <div class={`sync-note ${note.ok ? 'tone-ok' : 'tone-bad'}`} data-testid="sync-result" aria-live="polite">
          {note.text}
        </div>
      )}
      {s && !s.time_anchored && s.enrolled && <div class="sync-note tone-warn">{t('status.notAnchored')}</div>}
      {/* Alarms and a failed last sync stay visible without opening the details. */}
      {s && s.alarms.length > 0 && (
        <div class="status-alert" role="alert" data-testid="status-alarm">
          {msg(s.alarms[0], lang)}
          {s.alarms.length > 1 && ` ${t('status.moreAlarms', { n: s.alarms.length - 1 })}`}
        </div>
      )}
      {s && s.alarms.length === 0 && s.last_error_zh && !note && (
        <div class="sync-note tone-bad" data-testid="status-error">
          {t('status.lastError', { text: msg({ message_zh: s.last_error_zh, message_en: s.last_error_en }, lang) })}
        </div>
      )}
      {open && s && (
        <div class="status-detail" data-testid="status-detail">
          <div>{t('status.pendingRecords', { n: s.pending_records })}</div>
          <div>{t('status.pendingMedia', { n: s.pending_media, bytes: formatBytes(s.pending_media_bytes) })}</div>
          {s.refused_records > 0 && <div class="tone-bad">{t('status.refused', { n: s.refused_records })}</div>}
          {s.rejected_records > 0 && <div class="tone-bad">{t('status.rejected', { n: s.rejected_records })}</div>}
          {s.last_error_zh && <div class="tone-bad">{t('status.lastError', { text: msg({ message_zh: s.last_error_zh, message_en: s.last_error_en }, lang) })}</div>}
          {s.alarms.map((a, i) => (
            <div key={i} class="tone-bad" data-testid="alarm" data-kind={a.kind}>
              {msg(a, lang)}
            </div>
          ))}
        </div>
      )}
    </header>
  );
}
