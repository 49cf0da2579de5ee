// Errors, warnings to confirm, and the success message after signing.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { CmdError, Created, Finding } from '../api';
import { attempt, dispositionTone, isLateFinding, msg, sortFindings } from '../logic/errors';
import { useApp } from './ctx';

export function FindingList({ findings, testid }: { findings: Finding[]; testid?: string }) {
  const { lang, t } = useApp();
  if (findings.length === 0) return null;
  return (
    <ul class="findings" data-testid={testid}>
      {sortFindings(findings).map((f, i) => (
        <li key={i} class={`finding tone-${dispositionTone(f.disposition)}${isLateFinding(f) ? ' late' : ''}`} data-code={f.code}>
          <span class="finding-rule">{f.rule}</span>
          <span class="finding-text">{lang === 'zh-CN' ? f.message_zh || f.message_en : f.message_en || f.message_zh}</span>
          <span class="finding-disp">{t(`disp.${f.disposition}` as 'disp.flag')}</span>
        </li>
      ))}
    </ul>
  );
}

/** The big red banner: a command failed and the flow does not go on. */
export function ErrorBanner({ error, onClose }: { error: CmdError | null; onClose?: () => void }) {
  const { lang, t } = useApp();
  const ref = useRef<HTMLDivElement>(null);
  // On a phone the banner can appear below the camera preview: bring it into view.
  useEffect(() => {
    if (error) ref.current?.scrollIntoView?.({ block: 'center', behavior: 'smooth' });
  }, [error]);
  return (
    <div aria-live="assertive" class="error-slot">
      {error && (
        <div ref={ref} class="banner banner-error" role="alert" data-testid="error" data-code={error.code}>
          <div class="banner-title">{msg(error, lang)}</div>
          <div class="banner-code">{t('error.code', { code: error.code })}</div>
          <FindingList findings={error.findings} />
          {onClose && (
            <button type="button" class="btn btn-small" data-testid="error-close" onClick={onClose}>
              {t('common.dismiss')}
            </button>
          )}
        </div>
      )}
    </div>
  );
}

/** needs_confirmation: show the warnings, late witnessing first and loud, and ask. */
export function ConfirmBox(props: { findings: Finding[]; busy: boolean; onConfirm: () => void; onCancel: () => void }) {
  const { t } = useApp();
  const late = props.findings.some(isLateFinding);
  return (
    <div class="banner banner-warn" role="alertdialog" aria-live="assertive" aria-labelledby="confirm-title">
      {late && <div class="late-banner" data-testid="late-warning">{t('confirm.late')}</div>}
      <div class="banner-title" id="confirm-title">{t('confirm.title')}</div>
      <FindingList findings={props.findings} testid="warnings" />
      <p>{t('confirm.explain')}</p>
      <div class="row">
        <button type="button" class="btn btn-secondary" data-testid="confirm-cancel" onClick={props.onCancel} disabled={props.busy}>
          {t('confirm.cancel')}
        </button>
        <button type="button" class="btn btn-warn" data-testid="confirm-warnings" onClick={props.onConfirm} disabled={props.busy}>
          {late ? t('confirm.signLate') : t('confirm.sign')}
        </button>
      </div>
    </div>
  );
}

export function Done({ created, title }: { created: Created; title?: string }) {
  const { t } = useApp();
  return (
    <div class="banner banner-ok" role="status" aria-live="polite" data-testid="done" data-record={created.id}>
      <div class="banner-title">{title ?? t('done.signed')}</div>
      <div class="mono small">{t('done.id', { id: created.id.slice(0, 16) })}</div>
      <FindingList findings={[...created.warnings, ...created.notices]} testid="done-findings" />
    </div>
  );
}

/**
 * A signing command with the confirm flow: the first call goes with
 * confirm = false; a needs_confirmation answer shows its findings and the
 * person's explicit confirm calls again with confirm = true.
 */
export function useSigner<R>(call: (confirm: boolean) => Promise<R>, onDone: (r: R) => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CmdError | null>(null);
  const [confirm, setConfirm] = useState<Finding[] | null>(null);
  const run = async (withConfirm: boolean) => {
    setBusy(true);
    setError(null);
    const out = await attempt(call, withConfirm);
    setBusy(false);
    if (out.kind === 'ok') {
      setConfirm(null);
      onDone(out.value);
    } else if (out.kind === 'confirm' && !withConfirm) {
      setConfirm(out.findings);
    } else {
      setConfirm(null);
      setError(out.error);
    }
  };
  const view = (
    <>
      <ErrorBanner error={error} onClose={() => setError(null)} />
      {confirm && (
        <ConfirmBox findings={confirm} busy={busy} onConfirm={() => void run(true)} onCancel={() => setConfirm(null)} />
      )}
    </>
  );
  return { busy, error, confirming: confirm !== null, sign: () => void run(false), view, setError };
}
