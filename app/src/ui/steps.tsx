// The capture steps shared by sampler and witness: tag, face, GPS, photos.
import { useRef, useState } from 'preact/hooks';
import { api } from '../api';
import type { Captured, CmdError, Collected, ScannedTag } from '../api';
import { msg, toCmdError } from '../logic/errors';
import { normaliseTyped } from '../logic/wedge';
import { formatMetres } from '../logic/format';
import { siteKey } from '../logic/labels';
import { Camera, cameraCall } from './camera';
import { ErrorBanner } from './feedback';
import { sleep, useApp } from './ctx';

// ------------------------------------------------------------------ tag

export function TagStep(props: { onTag: (t: ScannedTag) => void; check?: (t: ScannedTag) => CmdError | null; hint?: string }) {
  const { t } = useApp();
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CmdError | null>(null);
  const [cameraOff, setCameraOff] = useState(false);
  const lastRejected = useRef<string | null>(null);
  const doneRef = useRef(false);

  const accept = (tag: ScannedTag) => {
    if (doneRef.current) return;
    const problem = props.check?.(tag) ?? null;
    if (problem) {
      lastRejected.current = tag.code;
      setError(problem);
      return;
    }
    doneRef.current = true;
    props.onTag(tag);
  };

  const submitManual = async (e?: Event) => {
    e?.preventDefault();
    const typed = normaliseTyped(text);
    if (!typed) return;
    setBusy(true);
    setError(null);
    try {
      accept(await api.manualTag(typed));
    } catch (err) {
      setError(toCmdError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="step" aria-labelledby="tag-title">
      <h2 id="tag-title">{t('tag.title')}</h2>
      <p class="lead">{props.hint ?? t('tag.hint')}</p>
      {!cameraOff && (
        <Camera
          purpose="tag"
          onEvent={(ev) => {
            if (ev.kind === 'tag' && ev.tag && ev.tag.code !== lastRejected.current) accept(ev.tag);
          }}
          onUnavailable={() => setCameraOff(true)}
        />
      )}
      <ErrorBanner error={error} onClose={() => setError(null)} />
      <form class="manual" onSubmit={(e) => void submitManual(e)}>
        <label for="tag-manual">{t('tag.manualLabel')}</label>
        <p class="small">{t('tag.manualNote')}</p>
        <div class="row">
          <input
            id="tag-manual"
            data-testid="tag-manual-input"
            inputMode="numeric"
            autoComplete="off"
            value={text}
            onInput={(e) => setText((e.target as HTMLInputElement).value)}
          />
          <button type="submit" class="btn" data-testid="tag-manual-submit" disabled={busy || !normaliseTyped(text)}>
            {t('tag.manualSubmit')}
          </button>
        </div>
      </form>
    </section>
  );
}

// ------------------------------------------------------------------ face

export function FaceResult({ captured }: { captured: Captured }) {
  const { t } = useApp();
  const fc = captured.face_check;
  const live = fc?.liveness;
  const ok = !!fc && fc.matched && (!live || live.passed);
  return (
    <div class={`face-result ${ok ? 'tone-ok' : 'tone-bad'}`} data-testid="face-result" data-matched={fc?.matched ? 'true' : 'false'}>
      <img class="thumb" src={captured.preview} alt={t('face.photoAlt')} />
      <div>
        <div class="big-line">{fc?.matched ? t('face.matched') : t('face.notMatched')}</div>
        {fc && <div class="small">{t('face.score', { score: (fc.score_milli / 1000).toFixed(2), threshold: (fc.threshold_milli / 1000).toFixed(2) })}</div>}
        {live && <div class="small">{live.passed ? t('face.liveOk') : t('face.liveFailed')}</div>}
      </div>
    </div>
  );
}

export function FaceStep(props: { unitProject?: string | null; onDone: (c: Captured) => void }) {
  const { t, lang } = useApp();
  const [status, setStatus] = useState<{ ready: boolean; text: string } | null>(null);
  const [challenge, setChallenge] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CmdError | null>(null);
  const [result, setResult] = useState<Captured | null>(null);

  const capture = async () => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const l = await cameraCall(() => api.livenessBegin());
      setChallenge(lang === 'zh-CN' ? l.prompt_zh : l.prompt_en);
      // Frames keep flowing from the camera loop while the person follows the prompt.
      await sleep(1500);
      const c = await cameraCall(() => api.cameraCapture());
      setChallenge(null);
      const fc = c.face_check;
      if (fc && fc.matched && (!fc.liveness || fc.liveness.passed)) {
        props.onDone(c);
        return;
      }
      setResult(c);
    } catch (e) {
      setChallenge(null);
      setError(toCmdError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="step" aria-labelledby="face-title">
      <h2 id="face-title">{t('face.title')}</h2>
      <Camera
        purpose="face"
        unitProject={props.unitProject ?? null}
        onEvent={(ev) => {
          if (ev.face) setStatus({ ready: ev.face.ready, text: msg(ev.face, lang) });
        }}
      />
      <div class={`face-status ${status?.ready ? 'tone-ok' : 'tone-warn'}`} data-testid="face-status" data-ready={status?.ready ? 'true' : 'false'} aria-live="polite">
        {status ? status.text || (status.ready ? t('face.ready') : t('face.adjust')) : t('face.looking')}
      </div>
      {challenge && (
        <div class="challenge" data-testid="face-challenge" role="status" aria-live="assertive">
          {challenge}
        </div>
      )}
      <ErrorBanner error={error} onClose={() => setError(null)} />
      {result && (
        <>
          <FaceResult captured={result} />
          <p class="small">{t('face.failedExplain')}</p>
        </>
      )}
      <div class="actions">
        {result?.face_check && (
          <button type="button" class="btn btn-secondary" data-testid="face-next" onClick={() => props.onDone(result)}>
            {t('face.continueAnyway')}
          </button>
        )}
        <button type="button" class="btn btn-primary" data-testid="face-capture" disabled={busy} onClick={() => void capture()}>
          {busy ? t('face.checking') : result ? t('face.retry') : t('face.capture')}
        </button>
      </div>
    </section>
  );
}

// ------------------------------------------------------------------ GPS

export function GpsSummary({ c, testid }: { c: Collected; testid?: string }) {
  const { t, lang } = useApp();
  const tone = c.site === 'inside' ? 'ok' : c.site === 'outside' || c.best === null ? 'bad' : 'warn';
  return (
    <div class={`gps-result tone-${tone}`} data-testid={testid} data-site={c.site ?? ''}>
      <div class="big-line">{t(siteKey(c.site))}</div>
      <div>{t('gps.accuracy', { m: formatMetres(c.accuracy_m) })}</div>
      <div class="small">{t('gps.fixes', { n: c.fixes.length })}</div>
      {c.mock_seen && <div class="tone-bad">{t('gps.mock')}</div>}
      <div class="small">{msg(c, lang)}</div>
    </div>
  );
}

export function GpsStep(props: { unitProject: string | null; onDone: (c: Collected) => void }) {
  const { t } = useApp();
  const [busy, setBusy] = useState(false);
  const [elapsed, setElapsed] = useState(0);
  const [result, setResult] = useState<Collected | null>(null);
  const [error, setError] = useState<CmdError | null>(null);

  const collect = async () => {
    setBusy(true);
    setError(null);
    setElapsed(0);
    const started = Date.now();
    const id = setInterval(() => setElapsed(Math.floor((Date.now() - started) / 1000)), 500);
    try {
      setResult(await api.locationCollect(props.unitProject));
    } catch (e) {
      setError(toCmdError(e));
    } finally {
      clearInterval(id);
      setBusy(false);
    }
  };

  return (
    <section class="step" aria-labelledby="gps-title">
      <h2 id="gps-title">{t('gps.title')}</h2>
      <p class="lead">{t('gps.hint')}</p>
      {busy && (
        <div class="progress" role="status" aria-live="polite">
          {t('gps.waiting', { s: elapsed })}
        </div>
      )}
      {result && <GpsSummary c={result} testid="gps-result" />}
      <ErrorBanner error={error} onClose={() => setError(null)} />
      <div class="actions">
        <button type="button" class={`btn ${result ? 'btn-secondary' : 'btn-primary'}`} data-testid="gps-collect" disabled={busy} onClick={() => void collect()}>
          {result ? t('gps.again') : t('gps.collect')}
        </button>
        {result && (
          <button type="button" class="btn btn-primary" data-testid="gps-next" disabled={busy} onClick={() => props.onDone(result)}>
            {t('common.next')}
          </button>
        )}
      </div>
    </section>
  );
}

// ------------------------------------------------------------------ photos

export function PhotoStep(props: { unitProject?: string | null; initial?: Captured[]; onDone: (photos: Captured[]) => void }) {
  const { t } = useApp();
  const [photos, setPhotos] = useState<Captured[]>(props.initial ?? []);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CmdError | null>(null);

  const capture = async () => {
    setBusy(true);
    setError(null);
    try {
      const c = await cameraCall(() => api.cameraCapture());
      setPhotos((p) => [...p, c]);
    } catch (e) {
      setError(toCmdError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="step" aria-labelledby="photo-title">
      <h2 id="photo-title">{t('photo.title')}</h2>
      <p class="lead">{t('photo.hint')}</p>
      <Camera purpose="photo" unitProject={props.unitProject ?? null} />
      <ErrorBanner error={error} onClose={() => setError(null)} />
      <div class="photo-count" data-testid="photo-count" data-count={photos.length} aria-live="polite">
        {t('photo.count', { n: photos.length })}
      </div>
      <div class="thumbs">
        {photos.map((p, i) => (
          <figure key={p.media.sha256} class="thumb-box">
            <img class="thumb" src={p.preview} alt={t('photo.alt', { n: i + 1 })} />
            <button type="button" class="btn btn-small btn-secondary" data-testid="photo-remove" onClick={() => setPhotos(photos.filter((x) => x !== p))}>
              {t('common.remove')}
            </button>
          </figure>
        ))}
      </div>
      <div class="actions">
        <button type="button" class={`btn ${photos.length ? 'btn-secondary' : 'btn-primary'}`} data-testid="photo-capture" disabled={busy} onClick={() => void capture()}>
          {busy ? t('photo.taking') : t('photo.capture')}
        </button>
        <button type="button" class="btn btn-primary" data-testid="photos-next" disabled={busy || photos.length === 0} onClick={() => props.onDone(photos)}>
          {t('common.next')}
        </button>
      </div>
    </section>
  );
}
