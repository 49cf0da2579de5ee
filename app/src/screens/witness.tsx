// The witness's flow (R8-R10): pick a sampling waiting for me (synced, or
// scanned from the sampler's screen), scan its tag, face, GPS, photos,
// handwritten signature, sign. Also: co-sign commission forms naming me.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import type { Captured, CmdError, Collected, Created, HandshakeOffer, MediaRef, RecordView, ScannedTag } from '../api';
import { toCmdError } from '../logic/errors';
import { witnessForm } from '../logic/forms';
import { toCosign } from '../logic/commission';
import { commissionInfo, samplingInfo } from '../logic/records';
import { formatDateTime } from '../logic/format';
import { personName } from '../logic/grants';
import { translate } from '../i18n';
import { Camera } from '../ui/camera';
import { Done, ErrorBanner, useSigner } from '../ui/feedback';
import { FaceStep, GpsStep, PhotoStep, TagStep } from '../ui/steps';
import { Countdown, FlowSummary, SignaturePad, Stepper } from '../ui/widgets';
import { useOpenSamplings } from '../ui/open';
import type { OpenEntry } from '../ui/open';
import { useApp, useNow } from '../ui/ctx';

/** Tag codes compared on their digits (printed forms may carry spaces or dashes). */
export function sameTag(a: string, b: string): boolean {
  const d = (s: string) => s.replace(/\D/g, '');
  return d(a) !== '' && d(a) === d(b);
}

export function WitnessScreen() {
  const { t, profile } = useApp();
  const now = useNow(1000);
  const { list, error, reload } = useOpenSamplings(5000);
  const [picked, setPicked] = useState<OpenEntry | null>(null);
  const [offers, setOffers] = useState<Record<string, HandshakeOffer>>({});
  const [paste, setPaste] = useState('');
  const [scan, setScan] = useState(false);
  const [hsError, setHsError] = useState<CmdError | null>(null);
  const [hsBusy, setHsBusy] = useState(false);
  const scanned = useRef(false);
  const windowMs = profile?.policy.witness_window_ms ?? 0;

  const [fresh, setFresh] = useState<string | null>(null);
  const [notOpen, setNotOpen] = useState(false);

  const receive = async (text: string) => {
    setHsBusy(true);
    setHsError(null);
    setNotOpen(false);
    try {
      const offer = await api.receiveHandshake(text.trim());
      setOffers((o) => ({ ...o, [offer.record]: offer }));
      setPaste('');
      // The scanned sampling joins the list, marked; the person picks it.
      setFresh(offer.record);
      const l = await api.openSamplings().catch(() => null);
      await reload();
      if (l && !l.some((x) => x.record === offer.record)) setNotOpen(true);
      setTimeout(() => document.querySelector(`[data-testid="witness-item"][data-record="${offer.record}"]`)?.scrollIntoView?.({ block: 'center' }), 0);
    } catch (e) {
      setHsError(toCmdError(e));
    } finally {
      scanned.current = false;
      setHsBusy(false);
    }
  };

  if (picked) {
    return <WitnessFlow entry={picked} offer={offers[picked.record] ?? null} onLeave={() => { setPicked(null); void reload(); }} />;
  }

  const waiting = (list ?? []).filter((o) => !o.mine);
  return (
    <div class="flow">
      <h1>{t('witness.title')}</h1>
      <ErrorBanner error={error} />
      <section class="card" aria-labelledby="wl-title">
        <h2 id="wl-title">{t('witness.listTitle')}</h2>
        <ul class="list" data-testid="witness-list" data-count={waiting.length}>
          {list === null && <li>{t('common.loading')}</li>}
          {list !== null && waiting.length === 0 && <li data-testid="witness-empty">{t('witness.none')}</li>}
          {waiting.map((o) => (
            <li key={o.record}>
              <button
                type="button"
                class={`list-btn${fresh === o.record ? ' fresh' : ''}`}
                data-testid="witness-item"
                data-record={o.record}
                data-source={o.source}
                onClick={() => setPicked(o)}
              >
                <div class="list-main">
                  {fresh === o.record && <span class="badge tone-info" data-testid="witness-fresh">{t('witness.fresh')}</span>}
                  <span class="mono big-line">{o.tag_printed}</span>
                  <span>{o.kind}</span>
                  <span class="small">
                    {t('witness.by', { who: personName(profile, o.author) })} · {formatDateTime(o.sampled_ms, false)} · {t(`source.${o.source}` as 'source.own')}
                  </span>
                </div>
                <Countdown remainingMs={o.local - now} windowMs={windowMs} />
              </button>
            </li>
          ))}
        </ul>
      </section>

      <section class="card" aria-labelledby="hs-title">
        <h2 id="hs-title">{t('witness.hsTitle')}</h2>
        <p class="small">{t('witness.hsHint')}</p>
        {scan ? (
          <>
            <Camera
              purpose="qr"
              onEvent={(ev) => {
                if (ev.kind === 'qr' && ev.text && !scanned.current) {
                  scanned.current = true;
                  setScan(false);
                  void receive(ev.text);
                }
              }}
            />
            <button type="button" class="btn btn-secondary" data-testid="handshake-scan-stop" onClick={() => setScan(false)}>
              {t('enroll.stopScan')}
            </button>
          </>
        ) : (
          <button type="button" class="btn btn-primary btn-big" data-testid="handshake-scan" onClick={() => setScan(true)}>
            {t('witness.hsScan')}
          </button>
        )}
        <ErrorBanner error={hsError} onClose={() => setHsError(null)} />
        {notOpen && <p class="banner banner-warn" data-testid="handshake-not-open">{t('witness.hsNotOpen')}</p>}
        <form
          class="manual"
          onSubmit={(e) => {
            e.preventDefault();
            if (paste.trim()) void receive(paste);
          }}
        >
          <label for="hs-paste">{t('witness.hsPaste')}</label>
          <textarea id="hs-paste" data-testid="handshake-paste" rows={3} value={paste} onInput={(e) => setPaste((e.target as HTMLTextAreaElement).value)} />
          <button type="submit" class="btn" data-testid="handshake-submit" disabled={hsBusy || !paste.trim()}>
            {t('witness.hsSubmit')}
          </button>
        </form>
      </section>

      <CosignList />
    </div>
  );
}

/** Commission forms that name me as their witness and wait for my co-signature (R10). */
export function CosignList() {
  const { t, profile } = useApp();
  const [items, setItems] = useState<RecordView[] | null>(null);
  const [done, setDone] = useState<Record<string, boolean>>({});
  const [error, setError] = useState<CmdError | null>(null);
  useEffect(() => {
    if (!profile) return;
    api.history(200).then(
      (h) => setItems(toCosign(h, profile.person.id)),
      (e) => setError(toCmdError(e)),
    );
  }, [profile]);
  if (!items || (items.length === 0 && !error)) return null;
  const cosign = async (id: string) => {
    setError(null);
    try {
      await api.cosign(id);
      setDone((d) => ({ ...d, [id]: true }));
    } catch (e) {
      setError(toCmdError(e));
    }
  };
  return (
    <section class="card" aria-labelledby="cs-title">
      <h2 id="cs-title">{t('cosign.title')}</h2>
      <ErrorBanner error={error} onClose={() => setError(null)} />
      <ul class="list">
        {items.map((r) => {
          const c = commissionInfo(r);
          return (
            <li key={r.id} data-testid="cosign-item" data-record={r.id}>
              <div>
                {t('cosign.form', { no: c?.formNo ?? '', n: c?.items.length ?? 0 })} · {personName(profile, r.author)}
              </div>
              {done[r.id] ? (
                <span class="badge tone-ok" data-testid="cosign-done">{t('cosign.done')}</span>
              ) : (
                <button type="button" class="btn btn-primary" data-testid="cosign" data-record={r.id} onClick={() => void cosign(r.id)}>
                  {t('cosign.action')}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

type WStep = 'tag' | 'face' | 'gps' | 'photos' | 'signature' | 'review';
const WSTEPS: WStep[] = ['tag', 'face', 'gps', 'photos', 'signature', 'review'];

function WitnessFlow({ entry, offer, onLeave }: { entry: OpenEntry; offer: HandshakeOffer | null; onLeave: () => void }) {
  const { t, profile } = useApp();
  const now = useNow(1000);
  const { list } = useOpenSamplings(5000);
  const [step, setStep] = useState<WStep>('tag');
  const [unitProject, setUnitProject] = useState<string | null>(offer?.unit_project ?? null);
  const [tag, setTag] = useState<ScannedTag | null>(null);
  const [face, setFace] = useState<Captured | null>(null);
  const [gps, setGps] = useState<Collected | null>(null);
  const [photos, setPhotos] = useState<Captured[]>([]);
  const [signature, setSignature] = useState<MediaRef | null>(null);
  const [sigBusy, setSigBusy] = useState(false);
  const [sigError, setSigError] = useState<CmdError | null>(null);
  const [remarks, setRemarks] = useState('');
  const [created, setCreated] = useState<Created | null>(null);
  const live = list?.find((o) => o.record === entry.record) ?? entry;

  useEffect(() => {
    if (unitProject) return;
    api.record(entry.record).then(
      (r) => {
        const u = r ? samplingInfo(r)?.unitProject : null;
        if (u) setUnitProject(u);
      },
      () => undefined,
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [entry.record]);

  const signer = useSigner(
    (confirm) => api.createWitnessing(witnessForm({ sampling: entry.record, tag: tag!, face: face!, gps: gps!, photos, signature, remarks }), confirm),
    setCreated,
  );

  const idx = WSTEPS.indexOf(step);
  const header = (
    <>
      <h1>{t('witness.flowTitle')}</h1>
      <div class="card">
        <div>
          <span class="mono big-line">{entry.tag_printed}</span> · {entry.kind} · {personName(profile, entry.author)}
        </div>
        <Countdown remainingMs={live.local - now} windowMs={profile?.policy.witness_window_ms ?? 0} testid="witness-countdown" />
      </div>
    </>
  );

  if (created) {
    return (
      <div class="flow">
        {header}
        <Done created={created} title={t('done.witnessing')} />
        <button type="button" class="btn btn-big" data-testid="witness-back" onClick={onLeave}>
          {t('witness.backToList')}
        </button>
      </div>
    );
  }

  const mismatch = (tg: ScannedTag): CmdError | null =>
    sameTag(tg.code, entry.tag) || sameTag(tg.printed, entry.tag_printed)
      ? null
      : {
          code: 'tag_mismatch',
          message_zh: translate('zh-CN', 'witness.tagMismatch', { got: tg.printed, want: entry.tag_printed }),
          message_en: translate('en', 'witness.tagMismatch', { got: tg.printed, want: entry.tag_printed }),
          findings: [],
        };

  const storeSig = async (png: Uint8Array) => {
    setSigBusy(true);
    setSigError(null);
    try {
      setSignature(await api.storeSignature(png));
      setStep('review');
    } catch (e) {
      setSigError(toCmdError(e));
    } finally {
      setSigBusy(false);
    }
  };

  return (
    <div class="flow">
      {header}
      <Stepper steps={WSTEPS.map((s) => t(`witness.step.${s}` as 'witness.step.tag'))} current={idx} />
      {step !== 'tag' && <FlowSummary tag={tag} face={idx > 1 ? face : null} gps={idx > 2 ? gps : null} photos={idx > 3 ? photos.length : undefined} />}
      <div class="row">
        <button type="button" class="btn btn-small btn-secondary" data-testid="step-back" onClick={() => (idx === 0 ? onLeave() : setStep(WSTEPS[idx - 1]))}>
          {idx === 0 ? t('witness.backToList') : t('common.back')}
        </button>
      </div>
      {step === 'tag' && (
        <TagStep
          hint={t('witness.tagHint', { tag: entry.tag_printed })}
          check={mismatch}
          onTag={(tg) => {
            setTag(tg);
            setStep('face');
          }}
        />
      )}
      {step === 'face' && (
        <FaceStep
          unitProject={unitProject}
          onDone={(c) => {
            setFace(c);
            setStep('gps');
          }}
        />
      )}
      {step === 'gps' && (
        <GpsStep
          unitProject={unitProject}
          onDone={(c) => {
            setGps(c);
            setStep('photos');
          }}
        />
      )}
      {step === 'photos' && (
        <PhotoStep
          unitProject={unitProject}
          initial={photos}
          onDone={(p) => {
            setPhotos(p);
            setStep('signature');
          }}
        />
      )}
      {step === 'signature' && (
        <section class="step" aria-labelledby="sig-title">
          <h2 id="sig-title">{t('sign.title')}</h2>
          <p class="lead">{t('sign.hint')}</p>
          <SignaturePad busy={sigBusy} onDone={(png) => void storeSig(png)} />
          <ErrorBanner error={sigError} onClose={() => setSigError(null)} />
        </section>
      )}
      {step === 'review' && tag && face && gps && (
        <section class="step review" aria-labelledby="wr-title">
          <h2 id="wr-title">{t('review.title')}</h2>
          <div class="thumbs">
            {photos.map((p, i) => (
              <img key={p.media.sha256} class="thumb" src={p.preview} alt={t('photo.alt', { n: i + 1 })} />
            ))}
          </div>
          <p>{signature ? t('witness.signatureStored') : t('witness.noSignature')}</p>
          <label for="w-remarks">{t('witness.remarks')}</label>
          <textarea id="w-remarks" data-testid="witness-remarks" rows={2} value={remarks} onInput={(e) => setRemarks((e.target as HTMLTextAreaElement).value)} />
          {signer.view}
          {!signer.confirming && (
            <button type="button" class="btn btn-primary btn-huge" data-testid="witness-sign" disabled={signer.busy} onClick={signer.sign}>
              {signer.busy ? t('review.signing') : t('witness.sign')}
            </button>
          )}
        </section>
      )}
    </div>
  );
}
