// Small hand-made records and profiles, typed by the contract generated
// from the Rust types (src/contract/): a fixture Rust could not send does
// not compile.
import type {
  Commission, FaceCheck, GrantView, Payload, PlanItemView, Policy, Profile, Receipt, RecordView, Sampling, SignedCheckpoint,
  TrailRecord, Witnessing,
} from '../src/api';

let n = 0;
const hex = (s: string) => (s + '0'.repeat(64)).slice(0, 64);

/** A value Rust would never send, for tests of how the screens survive one. */
export const odd = <T>(v: unknown): T => v as T;

export const face: FaceCheck = { photo: hex('f'), model: 'test', score_milli: 900, threshold_milli: 700, matched: true, liveness: null };

export function rec(payload: Payload, extra: Partial<RecordView> = {}): RecordView {
  n += 1;
  return {
    id: hex(extra.id ?? `${payload.kind.slice(0, 2)}${n}`),
    kind: payload.kind,
    kind_zh: payload.kind,
    mine: true,
    seq: n,
    author: 'P-ZW',
    tags: [],
    state: 'accepted',
    findings: [],
    created_ms: 1_700_000_000_000 + n * 1000,
    receipt_verified: false,
    log_index: null,
    media: [],
    body: {
      v: 1, device: 'D'.repeat(43), author: extra.author ?? 'P-ZW', seq: n, prev: null, payload,
      evidence: { media: [], fixes: [], time: { wall_ms: 1_700_000_000_000 + n * 1000, boot_id: 'boot', mono_ms: n, anchor: null } },
    },
    cosigners: [],
    ...extra,
  };
}

export function sampling(tag: string, unit = 'U-1', extra: Partial<RecordView> = {}) {
  const data: Sampling = {
    tag, tag_read: { method: 'camera', decoder: 'test' }, seal: null, project: 'P-1', unit_project: unit,
    specimen: { kind: 'concrete_cube', part: '3F', grade: 'C30', batch_no: 'B1', quantity: 1, unit: '组', tests: ['抗压强度'], plan_item: null },
    face,
  };
  return rec({ kind: 'sampling', data }, { tags: [tag], ...extra });
}

export function witnessingOf(sampling: string, tag: string): Witnessing {
  return {
    sampling, tag, tag_read: { method: 'camera', decoder: 'test' }, handshake: 'synced', sampling_sig: 'S'.repeat(86),
    face, hand_signature: null, remarks: '',
  };
}

export function witnessing(of: RecordView, extra: Partial<RecordView> = {}) {
  const data = witnessingOf(of.id, of.tags[0]);
  return rec({ kind: 'witnessing', data }, { mine: false, author: 'P-LN', tags: of.tags, ...extra });
}

export function commission(items: [RecordView, RecordView][], witness = 'P-LN', extra: Partial<RecordView> = {}) {
  const data: Commission = {
    form_no: 'F-1', project: 'P-1', unit_project: 'U-1', lab: 'ORG-LAB', witness,
    items: items.map(([s, w]) => ({ tag: s.tags[0], sampling: s.id, witnessing: w.id, tests: [] })),
  };
  return rec({ kind: 'commission', data }, extra);
}

const checkpoint: SignedCheckpoint = { checkpoint: { size: 8, root: hex('r'), server_ms: 1 }, server_key: 'K'.repeat(43), sig: 'S'.repeat(86) };
export const trailCheckpoint = checkpoint;

/** A trail record as the server sends it, with its receipt and envelope. */
export function trailRecord(r: Omit<TrailRecord, 'receipt' | 'envelope'>): TrailRecord {
  const receipt: Receipt = { record: r.id, leaf_index: r.log_index, checkpoint, proof: [] };
  return { ...r, receipt, envelope: {} };
}

/** The policy, as Rust's defaults have it but for a tighter fix accuracy. */
export const policy: Policy = {
  witness_window_ms: 1_200_000, mono_drift_ppm: 1000, clock_skew_tolerance_ms: 120_000, accuracy_sigma: 2,
  max_fix_accuracy_m: 30, co_presence_max_m: 100, max_plausible_speed_mps: 50, face_match_threshold: 0.7,
};

export function grant(role: GrantView['role'], extra: Partial<GrantView> = {}): GrantView {
  return { grant: `G-${role}`, role, project: 'P-1', valid_from_ms: 1000, valid_until_ms: null, revoked_at_ms: null, face_reference: null, ...extra };
}

export function profile(grants: GrantView[]): Profile {
  return {
    person: { id: 'P-ZW', name: '张伟', org: 'ORG-C' },
    org: { id: 'ORG-C', name: '施工单位', role: 'contractor', credit_code: null, jurisdiction: null },
    org_role: 'contractor',
    grants,
    projects: [
      {
        project: { id: 'P-1', name: '营口某住宅', owner: 'ORG-O', jurisdiction: '210802' },
        unit_projects: [
          { id: 'U-1', project: 'P-1', name: '1#楼', boundary: { exterior: [], holes: [] } },
          { id: 'U-2', project: 'P-1', name: '2#楼', boundary: { exterior: [], holes: [] } },
        ],
        tag_batches: [],
        labs: [{ project: 'P-1', unit_project: 'U-1', lab: 'ORG-LAB', kinds: ['concrete_cube'] }],
        organisations: [{ id: 'ORG-LAB', name: '检测中心', role: 'lab', credit_code: null, jurisdiction: null }],
      },
      {
        project: { id: 'P-2', name: '另一项目', owner: 'ORG-O', jurisdiction: '210802' },
        unit_projects: [{ id: 'U-9', project: 'P-2', name: '9#楼', boundary: { exterior: [], holes: [] } }],
        tag_batches: [],
        labs: [],
        organisations: [],
      },
    ],
    server_keys: [],
    key_handovers: [],
    policy,
    people: [
      { id: 'P-ZW', name: '张伟', org: 'ORG-C' },
      { id: 'P-LN', name: '李娜', org: 'ORG-S' },
    ],
    device_revoked_ms: null,
  };
}

/** An item of an approved sampling plan in force, as the engine lists it (R4). */
export function planItem(item: string, unit = 'U-1', extra: Partial<PlanItemView['item']> = {}, counts = { planned: 24, sampled: 7 }): PlanItemView {
  return {
    project: 'P-1', unit_project: unit, unit_project_name: unit === 'U-1' ? '1#楼' : unit, plan_record: hex('p1'), version: 2, ...counts,
    item: {
      item, kind: 'concrete_cube', part: '3层 柱', grade: 'C30', tests: ['抗压强度'], unit: '组', per_sampling: 1,
      rule: { count: { samplings: counts.planned } }, from_ms: 0, until_ms: 2_000_000_000_000, stage: '主体结构', ...extra,
    },
  };
}
