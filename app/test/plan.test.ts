import { describe, expect, it } from 'vitest';
import type { PlanItemView, UnitProject } from '../src/api';
import { emptyDraft, specimenOf } from '../src/logic/forms';
import { byUnitProject, chosenItem, draftFromItem, outsidePlan, planChoices, remaining } from '../src/logic/plan';
import type { UnitChoice } from '../src/logic/grants';

function planItem(item: string, unit: string, extra: Partial<PlanItemView['item']> = {}, counts = { planned: 24, sampled: 7 }): PlanItemView {
  return {
    project: 'P-1', unit_project: unit, unit_project_name: `${unit} 楼`, plan_record: 'a'.repeat(64), version: 2, ...counts,
    item: {
      item, kind: 'rebar', part: '主体 钢筋原材', grade: 'HRB400E Φ20', tests: ['屈服强度', '抗拉强度'], unit: '根', per_sampling: 5,
      rule: { per: { per: 60, total: 720, measure: 'tonne' } }, from_ms: 0, until_ms: 1, stage: '主体结构', ...extra,
    },
  };
}
const unit = (id: string): UnitChoice => ({ unit: { id, project: 'P-1', name: id, boundary: { exterior: [], holes: [] } } as UnitProject, projectName: 'P' });

describe('picking from the approved sampling plan (R4)', () => {
  it('offers only the items of unit projects the person may sample on, in the engine’s order', () => {
    const items = [planItem('A', 'U-1'), planItem('B', 'U-2'), planItem('C', 'U-1')];
    expect(planChoices(items, [unit('U-1')]).map((i) => i.item.item)).toEqual(['A', 'C']);
    expect(planChoices(items, [])).toEqual([]);
    expect(byUnitProject(planChoices(items, [unit('U-1'), unit('U-2')])).map((g) => [g.unitProject, g.items.map((i) => i.item.item)])).toEqual([
      ['U-1', ['A']],
      ['U-2', ['B']],
      ['U-1', ['C']],
    ]);
  });

  it('an item fills in the specimen; the batch and seal the person typed stay', () => {
    const typed = { ...emptyDraft('concrete_cube', '组'), batch: 'LH-0315', seal: 'F-9', part: 'typed', quantity: '9' };
    const d = draftFromItem(planItem('BAR-1', 'U-1'), typed);
    expect(specimenOf(d)).toEqual({
      kind: 'rebar', part: '主体 钢筋原材', grade: 'HRB400E Φ20', batch_no: 'LH-0315', quantity: 5, unit: '根', tests: ['屈服强度', '抗拉强度'],
      plan_item: 'BAR-1',
    });
    expect(d.seal).toBe('F-9');
  });

  it('outside the plan the fields stay and the link to the item goes', () => {
    const d = outsidePlan(draftFromItem(planItem('BAR-1', 'U-1'), emptyDraft('rebar', '根')));
    expect(specimenOf(d).plan_item).toBeNull();
    expect(d.part).toBe('主体 钢筋原材');
    expect(specimenOf(emptyDraft('rebar', '根')).plan_item).toBeNull();
  });

  it('the chosen item is found on its own unit project only', () => {
    const items = [planItem('A', 'U-1'), planItem('A', 'U-2', { part: '2# 主体' })];
    const d = draftFromItem(items[1], emptyDraft('rebar', '根'));
    expect(chosenItem(items, d, 'U-2')?.item.part).toBe('2# 主体');
    expect(chosenItem(items, d, 'U-3')).toBeNull();
    expect(chosenItem(items, outsidePlan(d), 'U-2')).toBeNull();
  });

  it('what remains never goes below zero (the phone may know of more samplings than planned)', () => {
    expect(remaining(planItem('A', 'U-1', {}, { planned: 24, sampled: 7 }))).toBe(17);
    expect(remaining(planItem('A', 'U-1', {}, { planned: 3, sampled: 5 }))).toBe(0);
  });
});
