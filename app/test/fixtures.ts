// Small hand-made records and profiles in the shapes Rust serialises.
import type { GrantView, Profile, RecordView } from '../src/api';

let n = 0;
const hex = (s: string) => (s + '0'.repeat(64)).slice(0, 64);

export function rec(kind: string, payload: Record<string, unknown>, extra: Partial<RecordView> = {}): RecordView {
  n += 1;
  return {
    id: hex(extra.id ?? `${kind.slice(0, 2)}${n}`),
    kind,
    kind_zh: kind,
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
    body: { v: 1, author: extra.author ?? 'P-ZW', seq: n, payload: { kind, data: payload } },
    cosigners: [],
    ...extra,
  };
}

export function sampling(tag: string, unit = 'U-1', extra: Partial<RecordView> = {}) {
  return rec(
    'sampling',
    {
      tag, project: 'P-1', unit_project: unit,
      specimen: { kind: 'concrete_cube', part: '3F', grade: 'C30', batch_no: 'B1', quantity: 1, unit: '组', tests: ['抗压强度'], plan_item: null },
    },
    { tags: [tag], ...extra },
  );
}

export function witnessing(of: RecordView, extra: Partial<RecordView> = {}) {
  return rec('witnessing', { sampling: of.id, tag: of.tags[0] }, { mine: false, author: 'P-LN', tags: of.tags, ...extra });
}

export function commission(items: [RecordView, RecordView][], witness = 'P-LN', extra: Partial<RecordView> = {}) {
  return rec(
    'commission',
    { form_no: 'F-1', project: 'P-1', unit_project: 'U-1', lab: 'ORG-LAB', witness, items: items.map(([s, w]) => ({ tag: s.tags[0], sampling: s.id, witnessing: w.id, tests: [] })) },
    extra,
  );
}

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
    policy: { witness_window_ms: 1_200_000, max_fix_accuracy_m: 30, co_presence_max_m: 100, face_match_threshold: 600 },
    people: [
      { id: 'P-ZW', name: '张伟', org: 'ORG-C' },
      { id: 'P-LN', name: '李娜', org: 'ORG-S' },
    ],
    device_revoked_ms: null,
  };
}
