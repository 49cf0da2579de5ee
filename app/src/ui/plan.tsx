// The sampler picks the approved plan item (R4) instead of typing the
// specimen: one tap fills kind, part, grade, tests, unit and quantity and
// moves on. What a plan cannot know (the delivery's batch number, the seal)
// is typed first, if it applies. Sampling outside the plan stays possible,
// and the screen says the record will be marked.
import type { PlanItemView } from '../api';
import type { SpecimenDraft } from '../logic/forms';
import { byUnitProject, remaining } from '../logic/plan';
import { specimenKey } from '../logic/labels';
import { useApp } from './ctx';

export function PlanPicker(props: {
  items: PlanItemView[];
  draft: SpecimenDraft;
  setDraft: (d: SpecimenDraft) => void;
  onPick: (item: PlanItemView) => void;
  onOutside: () => void;
}) {
  const { t } = useApp();
  const d = props.draft;
  const val = (e: Event) => (e.target as HTMLInputElement).value;
  return (
    <section class="step" aria-labelledby="plan-title">
      <h2 id="plan-title">{t('plan.title')}</h2>
      <p class="small">{t('plan.hint')}</p>
      <div class="row">
        <div class="grow">
          <label for="p-batch">{t('specimen.batch')}</label>
          <input id="p-batch" data-testid="specimen-batch" value={d.batch} onInput={(e) => props.setDraft({ ...d, batch: val(e) })} />
        </div>
        <div class="grow">
          <label for="p-seal">{t('specimen.seal')}</label>
          <input id="p-seal" data-testid="specimen-seal" value={d.seal} onInput={(e) => props.setDraft({ ...d, seal: val(e) })} />
        </div>
      </div>
      {byUnitProject(props.items).map((g) => (
        <div key={g.unitProject} class="plan-unit">
          <h3>{g.name}</h3>
          <ul class="list" data-testid="plan-items" data-unit={g.unitProject}>
            {g.items.map((i) => (
              <li key={i.item.item}>
                <button
                  type="button"
                  class={`list-btn plan-item${remaining(i) === 0 ? ' plan-done' : ''}`}
                  data-testid="plan-item"
                  data-item={i.item.item}
                  data-unit={i.unit_project}
                  data-remaining={remaining(i)}
                  onClick={() => props.onPick(i)}
                >
                  <div class="list-main">
                    <span class="big-line">
                      {i.item.part} · {i.item.grade}
                    </span>
                    <span>
                      {t(specimenKey(i.item.kind))} · {i.item.tests.join(t('common.listSep'))}
                    </span>
                    <span class="small">
                      {t('plan.perSampling', { n: i.item.per_sampling, unit: i.item.unit })} · {i.item.stage}
                    </span>
                  </div>
                  <span class="badge" data-testid="plan-item-count">
                    {t('plan.count', { sampled: i.sampled, planned: i.planned })}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </div>
      ))}
      <button type="button" class="btn btn-secondary" data-testid="plan-outside" onClick={props.onOutside}>
        {t('plan.outside')}
      </button>
    </section>
  );
}

/** Above the typed form: the item a sampling is taken against, or that it is outside the plan. */
export function PlanNote(props: { item: PlanItemView | null; anyPlan: boolean; onChange: () => void }) {
  const { t } = useApp();
  if (props.item) {
    const i = props.item;
    return (
      <div class="banner banner-ok" data-testid="plan-chosen" data-item={i.item.item}>
        <div class="banner-title">{t('plan.chosen', { part: i.item.part, grade: i.item.grade })}</div>
        <div class="small">{t('plan.chosenHint', { version: i.version })}</div>
        <button type="button" class="btn btn-small" data-testid="plan-change" onClick={props.onChange}>
          {t('plan.change')}
        </button>
      </div>
    );
  }
  return (
    <div class="banner banner-warn" data-testid="plan-outside-note" role="status">
      <div class="banner-title">{t(props.anyPlan ? 'plan.outsideTitle' : 'plan.noneTitle')}</div>
      <div>{t(props.anyPlan ? 'plan.outsideHint' : 'plan.noneHint')}</div>
      {props.anyPlan && (
        <button type="button" class="btn btn-small" data-testid="plan-change" onClick={props.onChange}>
          {t('plan.backToPlan')}
        </button>
      )}
    </div>
  );
}
