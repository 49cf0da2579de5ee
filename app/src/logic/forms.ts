// Building the forms the signing commands take from what the steps captured.
import type { Captured, Collected, FaceCheck, ScannedTag, SamplingForm, Specimen, SpecimenKind, WitnessForm, MediaRef } from '../api';
import { splitTests } from './format';

export interface SpecimenDraft {
  kind: SpecimenKind;
  part: string;
  grade: string;
  batch: string;
  quantity: string;
  unit: string;
  tests: string;
  seal: string;
  /** The approved plan item it is taken against (R4); null: outside the plan. */
  planItem: string | null;
}

export function emptyDraft(kind: SpecimenKind, unit: string): SpecimenDraft {
  return { kind, part: '', grade: '', batch: '', quantity: '1', unit, tests: '', seal: '', planItem: null };
}

/** Quantity as typed (full-width digits tolerated); NaN when not a positive whole number. */
export function parseQuantity(text: string): number {
  const s = text.replace(/[\uFF10-\uFF19]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xff10 + 48)).trim();
  if (!/^\d+$/.test(s)) return Number.NaN;
  const n = Number(s);
  return n > 0 ? n : Number.NaN;
}

/** Whether the draft is filled in enough to go on (the rules themselves run in Rust). */
export function draftComplete(d: SpecimenDraft, unitProject: string): boolean {
  return !!unitProject && d.part.trim() !== '' && !Number.isNaN(parseQuantity(d.quantity)) && d.unit.trim() !== '';
}

export function specimenOf(d: SpecimenDraft): Specimen {
  return {
    kind: d.kind,
    part: d.part.trim(),
    grade: d.grade.trim(),
    batch_no: d.batch.trim(),
    quantity: parseQuantity(d.quantity),
    unit: d.unit.trim(),
    tests: splitTests(d.tests),
    plan_item: d.planItem,
  };
}

function faceOf(face: Captured): FaceCheck {
  if (!face.face_check) throw new Error('face capture without a face check');
  return face.face_check;
}

export function samplingForm(a: {
  tag: ScannedTag;
  unitProject: string;
  draft: SpecimenDraft;
  face: Captured;
  gps: Collected;
  photos: Captured[];
}): SamplingForm {
  return {
    tag: a.tag.code,
    tag_read: a.tag.read,
    seal: a.draft.seal.trim() || null,
    unit_project: a.unitProject,
    specimen: specimenOf(a.draft),
    face: faceOf(a.face),
    media: [a.face.media, ...a.photos.map((p) => p.media)],
    fixes: a.gps.fixes,
  };
}

export function witnessForm(a: {
  sampling: string;
  tag: ScannedTag;
  face: Captured;
  gps: Collected;
  photos: Captured[];
  signature: MediaRef | null;
  remarks: string;
}): WitnessForm {
  return {
    sampling: a.sampling,
    tag: a.tag.code,
    tag_read: a.tag.read,
    face: faceOf(a.face),
    hand_signature: a.signature?.sha256 ?? null,
    remarks: a.remarks.trim(),
    media: [a.face.media, ...a.photos.map((p) => p.media), ...(a.signature ? [a.signature] : [])],
    fixes: a.gps.fixes,
  };
}
