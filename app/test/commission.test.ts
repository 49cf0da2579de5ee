import { describe, expect, it } from 'vitest';
import { candidates, defaultWitness, itemsFor, selectable, suggestFormNo, toCosign, toggle } from '../src/logic/commission';
import { commissionInfo, samplingInfo, witnessedSampling } from '../src/logic/records';
import { commission, odd, rec, sampling, witnessing } from './fixtures';

describe('commission item selection (R10)', () => {
  it('offers my own samplings that have an accepted or pending witnessing', () => {
    const s1 = sampling('310261000000000011');
    const s2 = sampling('310261000000000022', 'U-1', { state: 'pending' });
    const s3 = sampling('310261000000000033'); // not witnessed
    const w1 = witnessing(s1);
    const w2 = witnessing(s2, { state: 'pending' });
    const c = candidates([s1, s2, s3, w1, w2]);
    expect(c.map((x) => x.sampling.id)).toEqual([s1.id, s2.id]);
    expect(c[0]).toMatchObject({ witnessing: w1, tagPrinted: '310261000000000011', unitProject: 'U-1', project: 'P-1', kind: 'concrete_cube', witnessAuthor: 'P-LN' });
  });

  it('leaves out refused witnessings, refused samplings, others’ samplings and ones already on a form', () => {
    const s1 = sampling('1');
    const s2 = sampling('2', 'U-1', { state: 'refused' });
    const s3 = sampling('3', 'U-1', { mine: false });
    const s4 = sampling('4');
    const s5 = sampling('5');
    const w1 = witnessing(s1, { state: 'refused' });
    const ws = [s2, s3, s4, s5].map((s) => witnessing(s));
    const onForm = commission([[s4, ws[2]]]);
    const refusedForm = commission([[s5, ws[3]]], 'P-LN', { state: 'refused' });
    const c = candidates([s1, s2, s3, s4, s5, w1, ...ws, onForm, refusedForm]);
    // s5's form was refused: it can go on a new one.
    expect(c.map((x) => x.sampling.tags[0])).toEqual(['5']);
  });

  it('prefers an accepted witnessing over a pending one', () => {
    const s = sampling('1');
    const wp = witnessing(s, { state: 'pending' });
    const wa = witnessing(s, { state: 'accepted' });
    expect(candidates([s, wp, wa])[0].witnessing.id).toBe(wa.id);
    expect(candidates([s, wa, wp])[0].witnessing.id).toBe(wa.id);
  });

  it('one form, one unit project: selection is restricted and toggles keep order', () => {
    const a = sampling('A', 'U-1');
    const b = sampling('B', 'U-2');
    const c = sampling('C', 'U-1');
    const all = candidates([a, b, c, witnessing(a), witnessing(b), witnessing(c)]);
    let sel: string[] = [];
    sel = toggle(all, sel, c.id);
    sel = toggle(all, sel, a.id);
    expect(sel).toEqual([a.id, c.id]);
    expect(selectable(all[1], all.filter((x) => sel.includes(x.sampling.id)))).toBe(false);
    expect(toggle(all, sel, b.id)).toEqual(sel); // refused: another unit project
    sel = toggle(all, sel, a.id);
    sel = toggle(all, sel, c.id);
    expect(sel).toEqual([]);
    expect(toggle(all, sel, b.id)).toEqual([b.id]);
    expect(toggle(all, sel, 'nope')).toEqual([]);
  });

  it('items are [sampling, witnessing] pairs; the default witness is who watched', () => {
    const a = sampling('A');
    const b = sampling('B');
    const wa = witnessing(a);
    const wb = witnessing(b, { author: 'P-XX' });
    const all = candidates([a, b, wa, wb]);
    expect(itemsFor(all, [b.id, a.id])).toEqual([[a.id, wa.id], [b.id, wb.id]]);
    expect(defaultWitness(all, [a.id])).toBe('P-LN');
    expect(defaultWitness(all, [b.id])).toBe('P-XX');
    expect(defaultWitness(all, [])).toBeNull();
  });

  it('suggests a form number from the date', () => {
    expect(suggestFormNo(new Date(2026, 0, 2, 3, 4))).toBe('WT-20260102-0304');
  });

  it('lists commissions naming me that I have not co-signed', () => {
    const s = sampling('A');
    const w = witnessing(s);
    const forMe = commission([[s, w]], 'P-LN', { mine: false });
    const done = commission([[s, w]], 'P-LN', { mine: false, cosigners: ['P-LN'] });
    const other = commission([[s, w]], 'P-OTHER', { mine: false });
    const mine = commission([[s, w]], 'P-LN', { mine: true });
    expect(toCosign([forMe, done, other, mine, s, w], 'P-LN').map((r) => r.id)).toEqual([forMe.id]);
  });
});

describe('reading record bodies', () => {
  it('sampling, witnessing and commission payloads', () => {
    const s = sampling('T1', 'U-7');
    expect(samplingInfo(s)).toMatchObject({ tag: 'T1', unitProject: 'U-7', kind: 'concrete_cube', quantity: 1, unit: '组', tests: ['抗压强度'] });
    const w = witnessing(s);
    expect(witnessedSampling(w)).toBe(s.id);
    expect(witnessedSampling(s)).toBeNull();
    expect(commissionInfo(commission([[s, w]]))).toMatchObject({ formNo: 'F-1', lab: 'ORG-LAB', witness: 'P-LN', items: [{ tag: 'T1', sampling: s.id, witnessing: w.id }] });
  });
  it('survives odd bodies', () => {
    expect(samplingInfo({ ...sampling('T'), body: odd(null) })).toBeNull();
    expect(samplingInfo({ ...sampling('T'), body: odd({ payload: 'x' }) })).toBeNull();
    expect(commissionInfo(rec(odd({ kind: 'commission', data: { items: 'x' } })))?.items).toEqual([]);
  });
});
