// R11: the lab receiver scans each tag (camera, USB scanner as keyboard,
// or typed digits), sees the server's verdict on the whole custody trail,
// and accepts or rejects the specimen.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import type { CmdError, Created, ReceiptDecision, RejectReason, ScannedTag, TrailRecord, TrailResponse } from '../api';
import { msg, toCmdError } from '../logic/errors';
import { WedgeBuffer, normaliseTyped } from '../logic/wedge';
import { formatDateTime, short } from '../logic/format';
import { REJECT_REASONS, purposeKey, recordKindKey, recordKindTone, rejectKey, stateKey, stateTone } from '../logic/labels';
import { pickUnit } from '../logic/map';
import { Camera } from '../ui/camera';
import { Done, ErrorBanner, FindingList, useSigner } from '../ui/feedback';
import { TrailMap } from '../ui/widgets';
import { useApp } from '../ui/ctx';

/** The commission the receipt answers: the trail's latest commission record. */
export function commissionOf(trail: TrailResponse): string | null {
  const cs = trail.records.filter((r) => r.kind === 'commission');
  if (cs.length === 0) return null;
  return cs.reduce((a, b) => (b.log_index > a.log_index ? b : a)).id;
}

/** Media a lab may look at: never faces (PIPL), only pictures. */
export function viewableMedia(r: TrailRecord) {
  return r.media.filter((m) => m.purpose !== 'face' && m.media_type.startsWith('image/'));
}

function TrailPhoto({ sha, purpose }: { sha: string; purpose: string }) {
  const { t, lang } = useApp();
  const [src, setSrc] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    api.trailMedia(sha).then(setSrc, (e) => setErr(msg(toCmdError(e), lang)));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [sha]);
  return (
    <figure class="thumb-box" data-testid="trail-photo" data-sha={sha}>
      {src ? <img class="thumb" src={src} alt={t(purposeKey(purpose))} /> : <div class="thumb placeholder">{err ?? t('common.loading')}</div>}
      <figcaption class="small">{t(purposeKey(purpose))}</figcaption>
    </figure>
  );
}

function Verdict({ trail }: { trail: TrailResponse }) {
  const { t, lang, profile } = useApp();
  const units = useMemo(() => (profile?.projects ?? []).flatMap((p) => p.unit_projects), [profile]);
  const fixes = trail.records.flatMap((r) => r.fixes);
  const unit = pickUnit(units, fixes);
  const label = (r: TrailRecord) => {
    const k = recordKindKey(r.kind);
    return k ? t(k) : lang === 'zh-CN' ? r.kind_zh : r.kind;
  };
  return (
    <section class={`verdict ${trail.ok ? 'tone-ok' : 'tone-bad'}`} data-testid="lab-verdict" data-ok={trail.ok ? 'true' : 'false'} aria-live="polite">
      <div class="verdict-head">
        <span class="verdict-mark" aria-hidden="true">{trail.ok ? '✓' : '✗'}</span>
        <div>
          <div class="big-line">{lang === 'zh-CN' ? trail.summary_zh : trail.summary_en}</div>
          <div class="small">
            {t('lab.tagStage', { tag: trail.tag_printed, stage: lang === 'zh-CN' ? trail.stage_zh : trail.stage })}
          </div>
        </div>
      </div>
      <ul class="checks-list">
        {trail.checks.map((c) => (
          <li key={c.name} class={c.ok ? 'tone-ok' : 'tone-bad'} data-testid="lab-check" data-name={c.name} data-ok={c.ok ? 'true' : 'false'}>
            <span aria-hidden="true">{c.ok ? '✓' : '✗'}</span> {msg(c, lang)}
            <span class="sr-only">{c.ok ? t('lab.checkOk') : t('lab.checkFail')}</span>
          </li>
        ))}
      </ul>
      {trail.to_confirm.length > 0 && (
        <div class="to-confirm" data-testid="lab-to-confirm">
          <p>{t('lab.toConfirm')}</p>
          <FindingList findings={trail.to_confirm} />
        </div>
      )}
      <TrailMap
        unit={unit}
        layers={trail.records
          .filter((r) => r.fixes.length > 0)
          .map((r) => ({ key: r.id, tone: recordKindTone(r.kind), fixes: r.fixes, label: `${label(r)} · ${r.author_name}` }))}
      />
      <h3>{t('lab.records')}</h3>
      <ol class="trail">
        {trail.records.map((r) => (
          <li key={r.id} class={`trail-rec ${recordKindTone(r.kind)}`} data-testid="lab-record" data-record={r.id} data-kind={r.kind}>
            <div class="row-between">
              <strong>{label(r)}</strong>
              <span class={`badge tone-${stateTone(r.status)}`}>{t(stateKey(r.status))}</span>
            </div>
            <div>
              {r.author_name} · {r.org_name} <span class="small mono">{t('lab.device', { fp: short(r.device_fingerprint) })}</span>
            </div>
            <div class="small">{t('lab.claimed', { when: formatDateTime(r.claimed_ms) })}</div>
            <div class="small">
              {r.proven_earliest_ms !== null || r.proven_latest_ms !== null
                ? t('lab.proven', { from: formatDateTime(r.proven_earliest_ms), to: formatDateTime(r.proven_latest_ms) })
                : t('lab.unanchored')}
            </div>
            <div class="small">{t('lab.firstSeen', { when: formatDateTime(r.first_seen_ms), index: r.log_index })}</div>
            <FindingList findings={r.findings} />
            <div class="thumbs">
              {viewableMedia(r).map((m) => (
                <TrailPhoto key={m.sha256} sha={m.sha256} purpose={m.purpose} />
              ))}
            </div>
          </li>
        ))}
      </ol>
    </section>
  );
}

export function LabScreen() {
  const { t } = useApp();
  const inputRef = useRef<HTMLInputElement>(null);
  const wedge = useRef(new WedgeBuffer());
  const [value, setValue] = useState('');
  const [camera, setCamera] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CmdError | null>(null);
  const [tag, setTag] = useState<ScannedTag | null>(null);
  const [trail, setTrail] = useState<TrailResponse | null>(null);
  const [reason, setReason] = useState<RejectReason>('tag_damaged');
  const [note, setNote] = useState('');
  const [last, setLast] = useState<Created | null>(null);
  const [session, setSession] = useState<{ tag: string; accepted: boolean; id: string }[]>([]);
  const decision = useRef<ReceiptDecision>({ decision: 'accepted' });

  const focusScan = () => {
    const a = document.activeElement;
    // Keep the scanner's keystrokes landing here, unless the person is typing elsewhere.
    if (!a || a === document.body || a === inputRef.current) inputRef.current?.focus();
  };
  useEffect(() => {
    inputRef.current?.focus();
    const onFocusOut = () => setTimeout(focusScan, 0);
    document.addEventListener('focusout', onFocusOut);
    return () => document.removeEventListener('focusout', onFocusOut);
  }, []);

  // Only the latest scan's answers are shown (a scanner can fire again while the server answers).
  const seq = useRef(0);
  const verify = async (tg: ScannedTag, n: number) => {
    setTag(tg);
    setTrail(null);
    try {
      const tr = await api.verifyTag(tg.code);
      if (n === seq.current) setTrail(tr);
    } catch (e) {
      if (n === seq.current) setError(toCmdError(e));
    } finally {
      if (n === seq.current) setBusy(false);
    }
  };

  const scanned = async (text: string, scanner: boolean | null, direct?: ScannedTag) => {
    const n = ++seq.current;
    setError(null);
    setLast(null);
    setTag(null);
    setTrail(null);
    setBusy(true);
    try {
      const tg = direct ?? (scanner ? await api.scannerTag(text) : await api.manualTag(normaliseTyped(text)));
      if (n === seq.current) await verify(tg, n);
    } catch (e) {
      if (n === seq.current) {
        setError(toCmdError(e));
        setBusy(false);
      }
    }
  };

  const commission = trail ? commissionOf(trail) : null;
  const signer = useSigner(
    (confirm) => api.createReceipt({ tag: tag!.code, tag_read: tag!.read, commission: commission!, decision: decision.current }, confirm),
    (c) => {
      setSession((s) => [{ tag: tag!.printed, accepted: decision.current.decision === 'accepted', id: c.id }, ...s]);
      setLast(c);
      setTrail(null);
      setTag(null);
      setNote('');
      setTimeout(() => inputRef.current?.focus(), 0);
    },
  );

  const decide = (d: ReceiptDecision) => {
    decision.current = d;
    signer.sign();
  };

  return (
    <div class="flow">
      <h1>{t('lab.title')}</h1>
      <form
        class="scan-box"
        onSubmit={(e) => {
          e.preventDefault();
        }}
      >
        <label for="lab-scan">{t('lab.scanLabel')}</label>
        <input
          id="lab-scan"
          ref={inputRef}
          class="scan-input mono"
          data-testid="lab-scan-input"
          autoComplete="off"
          autoCapitalize="off"
          spellcheck={false}
          value={value}
          onKeyDown={(e) => {
            const r = wedge.current.key(e.key, e.timeStamp || performance.now());
            if (e.key === 'Enter' || e.key === 'Tab') e.preventDefault();
            if (r) {
              setValue('');
              void scanned(r.text, r.scanner);
            }
          }}
          onPaste={(e) => {
            e.preventDefault();
            const text = e.clipboardData?.getData('text') ?? '';
            wedge.current.paste(text);
            setValue(wedge.current.text);
          }}
          onInput={(e) => {
            const v = (e.target as HTMLInputElement).value;
            wedge.current.sync(v);
            setValue(v);
          }}
        />
        <p class="small">{t('lab.scanHint')}</p>
        <button type="button" class="btn btn-secondary" data-testid="lab-camera" aria-pressed={camera} onClick={() => setCamera(!camera)}>
          {camera ? t('lab.cameraOff') : t('lab.cameraOn')}
        </button>
      </form>
      {camera && (
        <Camera
          purpose="tag"
          onEvent={(ev) => {
            if (ev.kind === 'tag' && ev.tag && !busy && ev.tag.code !== tag?.code) {
              setCamera(false);
              void scanned(ev.tag.printed, null, ev.tag);
            }
          }}
        />
      )}
      {busy && <p role="status">{t('lab.verifying')}</p>}
      <ErrorBanner error={error} onClose={() => setError(null)} />
      {last && <Done created={last} title={t('done.receipt')} />}
      {tag && trail && (
        <div class="lab-result">
          <Verdict trail={trail} />
          <section class="card form decide" aria-labelledby="decide-title">
            <h2 id="decide-title">{t('lab.decideTitle', { tag: tag.printed })}</h2>
            {!commission && <p class="banner banner-error">{t('lab.noCommission')}</p>}
            {!trail.ok && <p class="banner banner-warn" data-testid="lab-verdict-warning">{t('lab.verdictBad')}</p>}
            {signer.view}
            {!signer.confirming && (
              <>
                <button
                  type="button"
                  class="btn btn-primary btn-huge"
                  data-testid="lab-accept"
                  disabled={signer.busy || !commission}
                  onClick={() => decide({ decision: 'accepted' })}
                >
                  {t('lab.accept')}
                </button>
                <label for="lab-reason">{t('lab.reason')}</label>
                <select id="lab-reason" data-testid="lab-reject-reason" value={reason} onChange={(e) => setReason((e.target as HTMLSelectElement).value as RejectReason)}>
                  {REJECT_REASONS.map((r) => (
                    <option key={r} value={r}>
                      {t(rejectKey(r))}
                    </option>
                  ))}
                </select>
                <label for="lab-note">{reason === 'other' ? t('lab.noteRequired') : t('lab.note')}</label>
                <textarea id="lab-note" data-testid="lab-reject-note" rows={2} value={note} onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} />
                <button
                  type="button"
                  class="btn btn-danger btn-big"
                  data-testid="lab-reject"
                  disabled={signer.busy || !commission || (reason === 'other' && !note.trim())}
                  onClick={() => decide({ decision: 'rejected', reason, note: note.trim() })}
                >
                  {t('lab.reject')}
                </button>
              </>
            )}
          </section>
        </div>
      )}
      {session.length > 0 && (
        <section class="card" aria-labelledby="sess-title">
          <h2 id="sess-title">{t('lab.session', { n: session.length })}</h2>
          <ul class="list" data-testid="lab-session">
            {session.map((s) => (
              <li key={s.id} class={s.accepted ? 'tone-ok' : 'tone-bad'}>
                <span class="mono">{s.tag}</span> · {s.accepted ? t('lab.accepted') : t('lab.rejected')}
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
