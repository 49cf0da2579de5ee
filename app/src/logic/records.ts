// Reading what the screens need out of RecordView.body (the Rust
// RecordBody, serialised with serde: payload = {kind, data}).
import type { RecordView, SpecimenKind } from '../api';

interface Payload {
  kind: string;
  data: Record<string, unknown>;
}

export function payloadOf(r: RecordView): Payload | null {
  const b = r.body as { payload?: unknown } | null;
  const p = b && typeof b === 'object' ? (b.payload as Payload | undefined) : undefined;
  if (!p || typeof p !== 'object' || typeof p.kind !== 'string' || !p.data || typeof p.data !== 'object') return null;
  return p;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

export interface SamplingInfo {
  tag: string | null;
  project: string | null;
  unitProject: string | null;
  kind: SpecimenKind | null;
  part: string | null;
  grade: string | null;
  quantity: number | null;
  unit: string | null;
  tests: string[];
}

export function samplingInfo(r: RecordView): SamplingInfo | null {
  const p = payloadOf(r);
  if (!p || p.kind !== 'sampling') return null;
  const sp = (p.data.specimen ?? {}) as Record<string, unknown>;
  return {
    tag: str(p.data.tag),
    project: str(p.data.project),
    unitProject: str(p.data.unit_project),
    kind: (str(sp.kind) as SpecimenKind | null) ?? null,
    part: str(sp.part),
    grade: str(sp.grade),
    quantity: typeof sp.quantity === 'number' ? sp.quantity : null,
    unit: str(sp.unit),
    tests: Array.isArray(sp.tests) ? sp.tests.filter((x): x is string => typeof x === 'string') : [],
  };
}

/** The sampling a witnessing record attests. */
export function witnessedSampling(r: RecordView): string | null {
  const p = payloadOf(r);
  return p && p.kind === 'witnessing' ? str(p.data.sampling) : null;
}

export interface CommissionInfo {
  formNo: string;
  lab: string;
  witness: string;
  unitProject: string | null;
  items: { tag: string; sampling: string; witnessing: string }[];
}

export function commissionInfo(r: RecordView): CommissionInfo | null {
  const p = payloadOf(r);
  if (!p || p.kind !== 'commission') return null;
  const items = Array.isArray(p.data.items) ? (p.data.items as Record<string, unknown>[]) : [];
  return {
    formNo: str(p.data.form_no) ?? '',
    lab: str(p.data.lab) ?? '',
    witness: str(p.data.witness) ?? '',
    unitProject: str(p.data.unit_project),
    items: items.map((i) => ({ tag: str(i.tag) ?? '', sampling: str(i.sampling) ?? '', witnessing: str(i.witnessing) ?? '' })),
  };
}

/** The author's person id (RecordView.author is the id as a string). */
export function authorOf(r: RecordView): string {
  const b = r.body as { author?: unknown } | null;
  return (b && typeof b === 'object' && typeof b.author === 'string' ? b.author : null) ?? r.author;
}
