// The approved sampling plan (R4) as the sampler picks from it: the items
// in force (the engine folds the plan records the sync brought, offline)
// on the unit projects the person may sample, each filling the specimen in
// — fewer taps, fewer typos. Whether a sampling is inside the plan is
// decided in Rust (the draft check marks one outside it); the screen only
// offers the choice and says what will happen.
import type { PlanItemView } from '../api';
import type { SpecimenDraft } from './forms';
import type { UnitChoice } from './grants';

/** Items on the unit projects the person may sample on, in the engine's order. */
export function planChoices(items: readonly PlanItemView[], units: readonly UnitChoice[]): PlanItemView[] {
  const allowed = new Set(units.map((u) => u.unit.id));
  return items.filter((i) => allowed.has(i.unit_project));
}

/** The choices grouped by unit project, keeping their order. */
export function byUnitProject(items: readonly PlanItemView[]): { unitProject: string; name: string; items: PlanItemView[] }[] {
  const out: { unitProject: string; name: string; items: PlanItemView[] }[] = [];
  for (const i of items) {
    const last = out[out.length - 1];
    if (last && last.unitProject === i.unit_project) last.items.push(i);
    else out.push({ unitProject: i.unit_project, name: i.unit_project_name, items: [i] });
  }
  return out;
}

/** Samplings the plan still asks for, as far as this phone knows (never below zero). */
export function remaining(i: PlanItemView): number {
  return Math.max(0, i.planned - i.sampled);
}

/**
 * The specimen as the plan item describes it: kind, part, grade, tests, unit
 * and the specimens per sampling. What a plan cannot know (the delivery's
 * batch number, the seal) is kept from what the person typed.
 */
export function draftFromItem(i: PlanItemView, prev: SpecimenDraft): SpecimenDraft {
  return {
    ...prev,
    kind: i.item.kind,
    part: i.item.part,
    grade: i.item.grade,
    tests: i.item.tests.join(', '),
    unit: i.item.unit,
    quantity: String(i.item.per_sampling),
    planItem: i.item.item,
  };
}

/** The same draft taken outside the plan: its fields stay, its link to an item goes. */
export function outsidePlan(d: SpecimenDraft): SpecimenDraft {
  return { ...d, planItem: null };
}

/** The item a draft names, among those held. */
export function chosenItem(items: readonly PlanItemView[], d: SpecimenDraft, unitProject: string): PlanItemView | null {
  if (d.planItem === null) return null;
  return items.find((i) => i.item.item === d.planItem && i.unit_project === unitProject) ?? null;
}
