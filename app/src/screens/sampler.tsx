// The sampler's flow (R6-R8): tag → specimen (picked from the approved
// sampling plan, R4, or typed outside it) → face → GPS → photos → review
// and sign → the witness window countdown and handshake QR.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import type { Captured, Collected, Created, PlanItemView, ScannedTag, SpecimenKind } from '../api';
import { draftComplete, emptyDraft, samplingForm, specimenOf } from '../logic/forms';
import type { SpecimenDraft } from '../logic/forms';
import { unitChoices, findUnit } from '../logic/grants';
import { DEFAULT_UNIT, UNITS } from '../logic/domain';
import { SPECIMEN_KINDS, specimenKey } from '../logic/labels';
import { msg, toCmdError } from '../logic/errors';
import { formatMetres } from '../logic/format';
import { Done, useSigner } from '../ui/feedback';
import { FaceStep, GpsStep, PhotoStep, TagStep, GpsSummary } from '../ui/steps';
import { Countdown, FlowSummary, Stepper, sanitizeSvg } from '../ui/widgets';
import { useOpenSamplings } from '../ui/open';
import { PlanNote, PlanPicker } from '../ui/plan';
import { chosenItem, draftFromItem, outsidePlan, planChoices } from '../logic/plan';
import { useApp, useNow } from '../ui/ctx';

type Step = 'tag' | 'specimen' | 'face' | 'gps' | 'photos' | 'review';
const STEPS: Step[] = ['tag', 'specimen', 'face', 'gps', 'photos', 'review'];

export function SamplerScreen() {
  const { t, profile } = useApp();
  const now = useMemo(() => Date.now(), []);
  const units = useMemo(() => unitChoices(profile, 'sampler', now), [profile, now]);
  const [step, setStep] = useState<Step>('tag');
  const [tag, setTag] = useState<ScannedTag | null>(null);
  const [unitProject, setUnitProject] = useState(units.length === 1 ? units[0].unit.id : '');
  const [draft, setDraft] = useState<SpecimenDraft>(() => emptyDraft('concrete_cube', DEFAULT_UNIT.concrete_cube));
  const [face, setFace] = useState<Captured | null>(null);
  const [gps, setGps] = useState<Collected | null>(null);
  const [photos, setPhotos] = useState<Captured[]>([]);
  const [created, setCreated] = useState<Created | null>(null);
  // The approved plan items held offline (R4); null while loading.
  const [planItems, setPlanItems] = useState<PlanItemView[] | null>(null);
  const [picking, setPicking] = useState(true);
  useEffect(() => {
    // Without them the sampler still works: the typed form, outside the plan.
    api.planItems().then(setPlanItems, () => setPlanItems([]));
  }, []);
  const choices = useMemo(() => planChoices(planItems ?? [], units), [planItems, units]);
  const item = chosenItem(choices, draft, unitProject);
  const unit = findUnit(profile, unitProject);

  const signer = useSigner(
    (confirm) => api.createSampling(samplingForm({ tag: tag!, unitProject, draft, face: face!, gps: gps!, photos }), confirm),
    (c) => setCreated(c),
  );

  if (created) return <OpenSamplingScreen record={created.id} created={created} />;

  const labels = STEPS.map((s) => t(`sampler.step.${s}` as 'sampler.step.tag'));
  const idx = STEPS.indexOf(step);
  return (
    <div class="flow">
      <h1>{t('sampler.title')}</h1>
      <Stepper steps={labels} current={idx} />
      {step !== 'tag' && (
        <FlowSummary tag={tag} unitName={idx > 1 ? unit?.name : null} face={idx > 2 ? face : null} gps={idx > 3 ? gps : null} photos={idx > 4 ? photos.length : undefined} />
      )}
      {step !== 'tag' && step !== 'review' && (
        <button type="button" class="btn btn-small btn-secondary" data-testid="step-back" onClick={() => setStep(STEPS[idx - 1])}>
          {t('common.back')}
        </button>
      )}
      {step === 'tag' && (
        <TagStep
          onTag={(tg) => {
            setTag(tg);
            setStep('specimen');
          }}
        />
      )}
      {step === 'specimen' && planItems === null && <p>{t('common.loading')}</p>}
      {step === 'specimen' && planItems !== null && picking && choices.length > 0 && (
        <PlanPicker
          items={choices}
          draft={draft}
          setDraft={setDraft}
          onPick={(i) => {
            // One tap: the item fills the specimen and the flow goes on.
            setUnitProject(i.unit_project);
            setDraft(draftFromItem(i, draft));
            setPicking(false);
            setStep('face');
          }}
          onOutside={() => {
            setDraft(outsidePlan(draft));
            setPicking(false);
          }}
        />
      )}
      {step === 'specimen' && planItems !== null && !(picking && choices.length > 0) && (
        <>
          <PlanNote item={item} anyPlan={choices.length > 0} onChange={() => setPicking(true)} />
          <SpecimenStep
            units={units}
            unitProject={unitProject}
            setUnitProject={setUnitProject}
            draft={draft}
            setDraft={setDraft}
            fromPlan={item !== null}
            onNext={() => setStep('face')}
          />
        </>
      )}
      {step === 'face' && (
        <FaceStep
          unitProject={unitProject || null}
          onDone={(c) => {
            setFace(c);
            setStep('gps');
          }}
        />
      )}
      {step === 'gps' && (
        <GpsStep
          unitProject={unitProject || null}
          onDone={(c) => {
            setGps(c);
            setStep('photos');
          }}
        />
      )}
      {step === 'photos' && (
        <PhotoStep
          unitProject={unitProject || null}
          initial={photos}
          onDone={(p) => {
            setPhotos(p);
            setStep('review');
          }}
        />
      )}
      {step === 'review' && tag && face && gps && (
        <section class="step review" aria-labelledby="review-title">
          <h2 id="review-title">{t('review.title')}</h2>
          <dl class="facts">
            <dt>{t('summary.tag')}</dt>
            <dd class="mono">{tag.printed}</dd>
            <dt>{t('specimen.unitProject')}</dt>
            <dd>{unit?.name ?? unitProject}</dd>
            <dt>{t('plan.review')}</dt>
            <dd data-testid="review-plan" data-item={item?.item.item ?? ''} class={item ? '' : 'tone-warn'}>
              {item ? t('plan.reviewItem', { part: item.item.part, grade: item.item.grade, version: item.version }) : t('plan.reviewOutside')}
            </dd>
            <dt>{t('specimen.kind')}</dt>
            <dd>{t(specimenKey(draft.kind))}</dd>
            <dt>{t('specimen.part')}</dt>
            <dd>{draft.part}</dd>
            <dt>{t('specimen.grade')}</dt>
            <dd>{draft.grade || '—'}</dd>
            <dt>{t('specimen.batch')}</dt>
            <dd>{draft.batch || '—'}</dd>
            <dt>{t('specimen.quantity')}</dt>
            <dd>
              {specimenOf(draft).quantity} {draft.unit}
            </dd>
            <dt>{t('specimen.tests')}</dt>
            <dd>{specimenOf(draft).tests.join(t('common.listSep')) || '—'}</dd>
            {draft.seal.trim() && (
              <>
                <dt>{t('specimen.seal')}</dt>
                <dd>{draft.seal}</dd>
              </>
            )}
            <dt>{t('summary.gps')}</dt>
            <dd>{formatMetres(gps.accuracy_m)}</dd>
          </dl>
          <GpsSummary c={gps} />
          <div class="thumbs">
            <img class="thumb" src={face.preview} alt={t('face.photoAlt')} />
            {photos.map((p, i) => (
              <img key={p.media.sha256} class="thumb" src={p.preview} alt={t('photo.alt', { n: i + 1 })} />
            ))}
          </div>
          <div class="row">
            <button type="button" class="btn btn-secondary" data-testid="review-edit" onClick={() => setStep('specimen')} disabled={signer.busy}>
              {t('review.edit')}
            </button>
          </div>
          {signer.view}
          {!signer.confirming && (
            <button type="button" class="btn btn-primary btn-huge" data-testid="review-sign" disabled={signer.busy} onClick={signer.sign}>
              {signer.busy ? t('review.signing') : t('review.sign')}
            </button>
          )}
        </section>
      )}
    </div>
  );
}

function SpecimenStep(props: {
  units: ReturnType<typeof unitChoices>;
  unitProject: string;
  setUnitProject: (u: string) => void;
  draft: SpecimenDraft;
  setDraft: (d: SpecimenDraft) => void;
  /** Taken against a plan item: its unit project and kind are the item's. */
  fromPlan: boolean;
  onNext: () => void;
}) {
  const { t } = useApp();
  const d = props.draft;
  const set = (patch: Partial<SpecimenDraft>) => props.setDraft({ ...d, ...patch });
  const val = (e: Event) => (e.target as HTMLInputElement).value;
  const ok = draftComplete(d, props.unitProject);
  return (
    <section class="step" aria-labelledby="specimen-title">
      <h2 id="specimen-title">{t('specimen.title')}</h2>
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          if (ok) props.onNext();
        }}
      >
        <label for="f-unit">{t('specimen.unitProject')}</label>
        <select id="f-unit" data-testid="unit-project" value={props.unitProject} disabled={props.fromPlan} onChange={(e) => props.setUnitProject(val(e))}>
          <option value="">{t('common.choose')}</option>
          {props.units.map((u) => (
            <option key={u.unit.id} value={u.unit.id}>
              {u.projectName} · {u.unit.name}
            </option>
          ))}
        </select>
        {props.units.length === 0 && <p class="tone-bad">{t('specimen.noUnits')}</p>}

        <label for="f-kind">{t('specimen.kind')}</label>
        <select
          id="f-kind"
          data-testid="specimen-kind"
          value={d.kind}
          disabled={props.fromPlan}
          onChange={(e) => {
            const kind = val(e) as SpecimenKind;
            // Follow the usual unit unless the person chose another one.
            set({ kind, unit: d.unit === DEFAULT_UNIT[d.kind] ? DEFAULT_UNIT[kind] : d.unit });
          }}
        >
          {SPECIMEN_KINDS.map((k) => (
            <option key={k} value={k}>
              {t(specimenKey(k))}
            </option>
          ))}
        </select>

        <label for="f-part">{t('specimen.part')}</label>
        <input id="f-part" data-testid="specimen-part" value={d.part} placeholder={t('specimen.partExample')} onInput={(e) => set({ part: val(e) })} />

        <label for="f-grade">{t('specimen.grade')}</label>
        <input id="f-grade" data-testid="specimen-grade" value={d.grade} placeholder={t('specimen.gradeExample')} onInput={(e) => set({ grade: val(e) })} />

        <label for="f-batch">{t('specimen.batch')}</label>
        <input id="f-batch" data-testid="specimen-batch" value={d.batch} onInput={(e) => set({ batch: val(e) })} />

        <div class="row">
          <div class="grow">
            <label for="f-qty">{t('specimen.quantity')}</label>
            <input id="f-qty" data-testid="specimen-quantity" inputMode="numeric" value={d.quantity} onInput={(e) => set({ quantity: val(e) })} />
          </div>
          <div class="grow">
            <label for="f-unitname">{t('specimen.unit')}</label>
            <select id="f-unitname" data-testid="specimen-unit" value={d.unit} onChange={(e) => set({ unit: val(e) })}>
              {(UNITS as readonly string[]).includes(d.unit) ? null : <option value={d.unit}>{d.unit}</option>}
              {UNITS.map((u) => (
                <option key={u} value={u}>
                  {u}
                </option>
              ))}
            </select>
          </div>
        </div>

        <label for="f-tests">{t('specimen.tests')}</label>
        <input id="f-tests" data-testid="specimen-tests" value={d.tests} placeholder={t('specimen.testsExample')} onInput={(e) => set({ tests: val(e) })} />

        <label for="f-seal">{t('specimen.seal')}</label>
        <input id="f-seal" data-testid="specimen-seal" value={d.seal} onInput={(e) => set({ seal: val(e) })} />

        {!ok && <p class="small">{t('specimen.required')}</p>}
        <button type="submit" class="btn btn-primary btn-big" data-testid="specimen-next" disabled={!ok}>
          {t('common.next')}
        </button>
      </form>
    </section>
  );
}

/** After signing: the big countdown of the witness window and the handshake QR. */
export function OpenSamplingScreen({ record, created }: { record: string; created?: Created }) {
  const { t, lang, profile, go } = useApp();
  const now = useNow(1000);
  const { list } = useOpenSamplings(5000);
  const [qr, setQr] = useState<{ text: string; svg: string } | null>(null);
  const [qrError, setQrError] = useState<string | null>(null);
  const seen = useRef(false);
  useEffect(() => {
    api.handshakeQr(record).then(
      (q) => setQr({ text: q.text, svg: sanitizeSvg(q.svg) }),
      (e) => setQrError(msg(toCmdError(e), lang)),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [record]);
  const entry = list?.find((o) => o.record === record) ?? null;
  if (entry) seen.current = true;
  const windowMs = profile?.policy.witness_window_ms ?? 0;

  return (
    <section class="flow" aria-labelledby="open-title">
      {created && <Done created={created} title={t('done.sampling')} />}
      <h1 id="open-title">{t('open.title')}</h1>
      <div aria-live="polite">
        {entry ? (
          <>
            <p class="lead">{t('open.tag', { tag: entry.tag_printed, kind: entry.kind })}</p>
            <Countdown remainingMs={entry.local - now} windowMs={windowMs} big testid="countdown" />
          </>
        ) : list === null ? (
          <p>{t('common.loading')}</p>
        ) : (
          <div class="banner banner-ok" data-testid="open-closed">
            {seen.current ? t('open.closed') : t('open.notOpen')}
          </div>
        )}
      </div>
      <div class="card">
        <h2>{t('open.qrTitle')}</h2>
        <p>{t('open.qrHint')}</p>
        {qr ? (
          <>
            <div class="qr" data-testid="handshake-qr" dangerouslySetInnerHTML={{ __html: qr.svg }} />
            <div class="small">{t('open.qrText')}</div>
            <div class="mono small hs-text" data-testid="handshake-text">
              {qr.text}
            </div>
          </>
        ) : qrError ? (
          <div class="banner banner-error" role="alert">{qrError}</div>
        ) : (
          <p>{t('common.loading')}</p>
        )}
      </div>
      <button type="button" class="btn btn-big" data-testid="open-home" onClick={() => go({ name: 'home' })}>
        {t('nav.home')}
      </button>
    </section>
  );
}
