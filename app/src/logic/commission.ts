// R10: which samplings can go on a commission form. Kept simple: my own
// sampling records (not refused/rejected) that a witnessing record names
// (accepted or pending) and that no live commission of mine lists yet.
import type { RecordView } from '../api';
import { commissionInfo, samplingInfo, witnessedSampling, authorOf } from './records';

export interface Candidate {
  sampling: RecordView;
  witnessing: RecordView;
  tagPrinted: string;
  unitProject: string | null;
  project: string | null;
  kind: string | null;
  witnessAuthor: string;
}

const LIVE = new Set(['pending', 'accepted', 'deferred']);
const WITNESS_OK = new Set(['pending', 'accepted']);

export function candidates(history: RecordView[]): Candidate[] {
  const committed = new Set<string>();
  for (const r of history) {
    if (r.kind !== 'commission' || !r.mine || !LIVE.has(r.state)) continue;
    for (const it of commissionInfo(r)?.items ?? []) committed.add(it.sampling);
  }
  const witnessBySampling = new Map<string, RecordView>();
  for (const r of history) {
    if (r.kind !== 'witnessing' || !WITNESS_OK.has(r.state)) continue;
    const s = witnessedSampling(r);
    if (!s) continue;
    const prev = witnessBySampling.get(s);
    // Prefer an accepted witnessing over a pending one.
    if (!prev || (prev.state !== 'accepted' && r.state === 'accepted')) witnessBySampling.set(s, r);
  }
  const out: Candidate[] = [];
  for (const r of history) {
    if (r.kind !== 'sampling' || !r.mine || !LIVE.has(r.state) || committed.has(r.id)) continue;
    const w = witnessBySampling.get(r.id);
    if (!w) continue;
    const info = samplingInfo(r);
    out.push({
      sampling: r,
      witnessing: w,
      tagPrinted: r.tags[0] ?? info?.tag ?? '',
      unitProject: info?.unitProject ?? null,
      project: info?.project ?? null,
      kind: info?.kind ?? null,
      witnessAuthor: authorOf(w),
    });
  }
  return out;
}

/** One form covers one unit project: an item is selectable if it shares the selection's unit project. */
export function selectable(c: Candidate, selected: Candidate[]): boolean {
  if (selected.length === 0) return true;
  return selected.every((s) => s.unitProject === c.unitProject);
}

/** Toggle one sampling in the selection, keeping candidates' order. */
export function toggle(all: Candidate[], selectedIds: string[], id: string): string[] {
  const set = new Set(selectedIds);
  if (set.has(id)) set.delete(id);
  else {
    const c = all.find((x) => x.sampling.id === id);
    const sel = all.filter((x) => set.has(x.sampling.id));
    if (!c || !selectable(c, sel)) return selectedIds;
    set.add(id);
  }
  return all.filter((x) => set.has(x.sampling.id)).map((x) => x.sampling.id);
}

/** CommissionForm.items: [sampling id, witnessing id] pairs. */
export function itemsFor(all: Candidate[], selectedIds: string[]): [string, string][] {
  return all.filter((c) => selectedIds.includes(c.sampling.id)).map((c) => [c.sampling.id, c.witnessing.id]);
}

/** The witness most of the selected items were witnessed by (the form's default). */
export function defaultWitness(all: Candidate[], selectedIds: string[]): string | null {
  const counts = new Map<string, number>();
  for (const c of all) if (selectedIds.includes(c.sampling.id)) counts.set(c.witnessAuthor, (counts.get(c.witnessAuthor) ?? 0) + 1);
  let best: string | null = null;
  let n = 0;
  for (const [k, v] of counts) if (v > n) [best, n] = [k, v];
  return best;
}

/** A form number to start from: WT-YYYYMMDD-HHMM (the person may edit it). */
export function suggestFormNo(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `WT-${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}`;
}

/** Commissions that name me as witness and that I have not co-signed yet. */
export function toCosign(history: RecordView[], me: string): RecordView[] {
  return history.filter((r) => {
    if (r.kind !== 'commission' || r.mine) return false;
    const c = commissionInfo(r);
    return !!c && c.witness === me && !r.cosigners.includes(me);
  });
}
