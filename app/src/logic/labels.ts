// Labels (catalogue keys) and colour tones for the codes Rust returns.
import type { MediaPurpose, OrgRole, PersonRole, RejectReason, SpecimenKind } from '../api';
import type { MsgKey } from '../i18n';

export type RecordState = 'pending' | 'accepted' | 'refused' | 'deferred' | 'rejected';
export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'muted';

export const STATE_TONE: Record<RecordState, Tone> = {
  pending: 'warn',
  accepted: 'ok',
  refused: 'bad',
  deferred: 'info',
  rejected: 'bad',
};

export function stateKey(state: string): MsgKey {
  switch (state) {
    case 'pending': return 'state.pending';
    case 'accepted': return 'state.accepted';
    case 'refused': return 'state.refused';
    case 'deferred': return 'state.deferred';
    case 'rejected': return 'state.rejected';
    default: return 'state.unknown';
  }
}

export function stateTone(state: string): Tone {
  return (STATE_TONE as Record<string, Tone>)[state] ?? 'muted';
}

export const SPECIMEN_KINDS: SpecimenKind[] = [
  'concrete_cube', 'mortar_cube', 'rebar', 'rebar_coupler', 'rebar_weld', 'waterproofing', 'masonry', 'cement', 'other',
];

export function specimenKey(k: string): MsgKey {
  return ((SPECIMEN_KINDS as string[]).includes(k) ? `kind.${k}` : 'kind.other') as MsgKey;
}

export const REJECT_REASONS: RejectReason[] = [
  'tag_damaged', 'tag_mismatch', 'form_mismatch', 'specimen_damaged', 'seal_broken', 'out_of_scope', 'other',
];

export function rejectKey(r: RejectReason): MsgKey {
  return `reject.${r}` as MsgKey;
}

const ROLES: PersonRole[] = ['sampler', 'witness', 'lab_receiver', 'lab_tester', 'lab_reporter', 'inspector', 'admin'];
export function roleKey(r: string): MsgKey {
  return ((ROLES as string[]).includes(r) ? `role.${r}` : 'role.unknown') as MsgKey;
}

const ORG_ROLES: OrgRole[] = ['owner', 'contractor', 'supervisor', 'lab', 'tag_supplier', 'regulator', 'operator'];
export function orgRoleKey(r: string): MsgKey {
  return ((ORG_ROLES as string[]).includes(r) ? `org.${r}` : 'role.unknown') as MsgKey;
}

const RECORD_KINDS = ['sampling', 'witnessing', 'commission', 'lab_receipt', 'test_data', 'test_reviewed', 'report', 'report_revoked'];
/** A record kind's label; admin facts fall back to Rust's kind_zh / kind. */
export function recordKindKey(kind: string): MsgKey | null {
  return RECORD_KINDS.includes(kind) ? (`record.${kind}` as MsgKey) : null;
}

export function recordKindTone(kind: string): string {
  return RECORD_KINDS.includes(kind) ? `k-${kind}` : 'k-other';
}

const PURPOSES: MediaPurpose[] = ['face', 'process', 'tag', 'seal', 'hand_signature', 'letter', 'commission_form', 'test_curve', 'report_document'];
export function purposeKey(p: string): MsgKey {
  return ((PURPOSES as string[]).includes(p) ? `media.${p}` : 'media.other') as MsgKey;
}

export function siteKey(site: string | null): MsgKey {
  switch (site) {
    case 'inside': return 'gps.inside';
    case 'outside': return 'gps.outside';
    case 'uncertain': return 'gps.uncertain';
    default: return 'gps.noSite';
  }
}
