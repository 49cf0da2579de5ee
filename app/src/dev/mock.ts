// A stand-in for the Rust shell, for `npm run dev` in a plain browser
// (look at the screens without building the app). Loaded only in dev mode
// and only when no Tauri shell is present; never part of the build.
import { mockIPC } from '@tauri-apps/api/mocks';
import type {
  CameraEvent, Captured, CmdError, Collected, CommissionForm, Created, FaceCheck, Finding, Fix, OpenSampling, Payload, PlanItemView, Profile,
  ReceiptForm, RecordView, SamplingForm, SignedCheckpoint, SyncStatus, TrailRecord, TrailResponse, WitnessForm,
} from '../api';

const q = new URLSearchParams(location.search);
const H = (n: number) => n.toString(16).padStart(64, '0');
let seq = 0;
let now = () => Date.now();
const LAT = 406_700_000;
const LON = 1_222_300_000;

const profile: Profile = {
  person: { id: 'P-ZW', name: '张伟', org: 'ORG-C' },
  org: { id: 'ORG-C', name: '营口市第一建筑工程有限公司', role: 'contractor', credit_code: null, jurisdiction: null },
  org_role: 'contractor',
  grants: [
    { grant: 'G-1', role: 'sampler', project: 'P-1', valid_from_ms: 0, valid_until_ms: null, revoked_at_ms: null, face_reference: 'x' },
    { grant: 'G-2', role: 'witness', project: 'P-1', valid_from_ms: 0, valid_until_ms: null, revoked_at_ms: null, face_reference: 'x' },
    ...(q.has('lab') ? [{ grant: 'G-3', role: 'lab_receiver' as const, project: null, valid_from_ms: 0, valid_until_ms: null, revoked_at_ms: null, face_reference: null }] : []),
    { grant: 'G-4', role: 'witness', project: 'P-2', valid_from_ms: 0, valid_until_ms: 1_600_000_000_000, revoked_at_ms: 1_500_000_000_000, face_reference: null },
  ],
  projects: [
    {
      project: { id: 'P-1', name: '营口某住宅小区', owner: 'ORG-O', jurisdiction: '210802' },
      unit_projects: [
        {
          id: 'U-1', project: 'P-1', name: '1#楼',
          boundary: {
            exterior: [
              { lat_e7: LAT, lon_e7: LON }, { lat_e7: LAT, lon_e7: LON + 8000 }, { lat_e7: LAT + 6000, lon_e7: LON + 8000 }, { lat_e7: LAT + 6000, lon_e7: LON },
            ],
            holes: [],
          },
        },
        { id: 'U-2', project: 'P-1', name: '2#楼', boundary: { exterior: [], holes: [] } },
      ],
      tag_batches: [],
      labs: [{ project: 'P-1', unit_project: 'U-1', lab: 'ORG-LAB', kinds: ['concrete_cube', 'rebar'] }],
      organisations: [
        { id: 'ORG-LAB', name: '营口市建设工程质量检测中心', role: 'lab', credit_code: null, jurisdiction: null },
        { id: 'ORG-S', name: '某监理公司', role: 'supervisor', credit_code: null, jurisdiction: null },
      ],
    },
  ],
  server_keys: [],
  key_handovers: [],
  policy: {
    witness_window_ms: 20 * 60_000, mono_drift_ppm: 1000, clock_skew_tolerance_ms: 120_000, accuracy_sigma: 2,
    max_fix_accuracy_m: 30, co_presence_max_m: 100, max_plausible_speed_mps: 50, face_match_threshold: 0.7,
  },
  people: [
    { id: 'P-ZW', name: '张伟', org: 'ORG-C' },
    { id: 'P-LN', name: '李娜', org: 'ORG-S' },
  ],
  device_revoked_ms: null,
};

// An approved sampling plan of 1#楼 (version 2), as the feed would bring it (`?noplan`: none held).
const DAY = 86_400_000;
const planItem = (item: string, kind: PlanItemView['item']['kind'], part: string, grade: string, tests: string[], unit: string, per: number, planned: number, sampled: number): PlanItemView => ({
  project: 'P-1', unit_project: 'U-1', unit_project_name: '1#楼', plan_record: H(77), version: 2, planned, sampled,
  item: {
    item, kind, part, grade, tests, unit, per_sampling: per, rule: { count: { samplings: planned } },
    from_ms: Date.now() - 30 * DAY, until_ms: Date.now() + 150 * DAY, stage: '主体结构',
  },
});
const planItems: PlanItemView[] = [
  planItem('U1-COL-C30', 'concrete_cube', '3层 柱', 'C30', ['抗压强度'], '组', 1, 24, 7),
  planItem('U1-BAR-HRB400E', 'rebar', '主体 钢筋原材', 'HRB400E Φ20', ['屈服强度', '抗拉强度', '伸长率', '弯曲性能'], '根', 5, 12, 3),
  planItem('U1-CPL-II', 'rebar_coupler', '主体 直螺纹接头', 'II级 Φ25', ['抗拉强度'], '个', 3, 8, 8),
];

let enrolled = q.has('enrolled');
let purpose = 'tag';
let pulls = 0;
const records: RecordView[] = [];
const open: OpenSampling[] = [];

const svgPreview = (label: string, color: string) =>
  'data:image/svg+xml;utf8,' +
  encodeURIComponent(`<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"><rect width="640" height="480" fill="${color}"/><text x="320" y="250" font-size="40" text-anchor="middle" fill="#fff">${label}</text></svg>`);

const err = (code: string, zh: string, en: string, findings: Finding[] = []): CmdError => ({ code, message_zh: zh, message_en: en, findings });
const fix = (dLat: number, dLon: number, acc: number): Fix => ({
  pos: { lat_e7: LAT + dLat, lon_e7: LON + dLon }, accuracy_cm: acc, provider: 'gnss', mono_ms: 1, gnss_time_ms: null, satellites: 9, mock: false,
});
const late: Finding = { code: 'late_by_device_clock', rule: 'R8', disposition: 'flag', message_zh: '见证时间超过 20 分钟（按本机时钟晚 3 分钟）', message_en: 'witnessed more than 20 minutes after sampling (3 min late by this phone’s clock)', detail: null };
const manual: Finding = { code: 'manual_tag', rule: 'R6', disposition: 'notice', message_zh: '标识为手动输入', message_en: 'tag typed by hand', detail: null };

const face: FaceCheck = { photo: H(5), model: 'dlib', score_milli: 820, threshold_milli: 600, matched: true, liveness: null };
const checkpoint: SignedCheckpoint = { checkpoint: { size: 12, root: H(9), server_ms: 0 }, server_key: 'K'.repeat(43), sig: 'S'.repeat(86) };

function add(payload: Payload, kind_zh: string, tags: string[], extra: Partial<RecordView> = {}): Created {
  seq += 1;
  const id = H(0xabc000 + seq);
  const kind = payload.kind;
  records.unshift({
    id, kind, kind_zh, mine: true, seq, author: 'P-ZW', tags, state: 'pending', findings: [], created_ms: now(), receipt_verified: false, log_index: null,
    media: [{ sha256: H(seq * 7), purpose: 'process', media_type: 'image/jpeg', size: 180_000, complete: false, url: null }],
    body: {
      v: 1, device: 'D'.repeat(43), author: 'P-ZW', seq, prev: null, payload,
      evidence: { media: [], fixes: [], time: { wall_ms: now(), boot_id: 'mock', mono_ms: seq, anchor: null } },
    },
    cosigners: [], ...extra,
  });
  return { id, seq, kind, warnings: [], notices: [] };
}

const trailRecord = (r: Omit<TrailRecord, 'receipt' | 'envelope'>): TrailRecord => ({
  ...r, receipt: { record: r.id, leaf_index: r.log_index, checkpoint, proof: [] }, envelope: {},
});

function status(): SyncStatus {
  return {
    enrolled, person_name: enrolled ? '张伟' : null, org_name: enrolled ? profile.org.name : null,
    pending_records: records.filter((r) => r.state === 'pending').length, pending_media: 2, pending_media_bytes: 1_345_000,
    refused_records: 0, rejected_records: 0, last_sync_ms: now() - 7 * 60_000, last_error_zh: null, last_error_en: null,
    alarms: [], time_anchored: true,
  };
}

function camEvent(): CameraEvent {
  pulls += 1;
  const base: CameraEvent = { kind: 'none', preview: svgPreview(`${purpose} ${pulls}`, '#335'), tag: null, text: null, face: null, message_zh: null, message_en: null };
  if (purpose === 'face') {
    const ready = pulls % 20 > 4;
    return { ...base, kind: 'face', face: { found: true, ready, issues: ready ? [] : ['too_dark'], message_zh: ready ? '可以核验' : '光线太暗', message_en: ready ? 'Ready' : 'Too dark' } };
  }
  if (purpose === 'tag' && pulls > 25 && !q.has('noscan')) {
    return { ...base, kind: 'tag', tag: { code: '310261000000012345', printed: '310 26 1 0000000 1234 5', read: { method: 'camera', decoder: 'rxing' } } };
  }
  return base;
}

const trail = (code: string): TrailResponse => ({
  tag: code, tag_printed: code, stage: 'commissioned', stage_zh: '已委托', ok: !q.has('bad'),
  summary_zh: q.has('bad') ? '见证超时：不应收样' : '全过程记录完整，可以收样', summary_en: q.has('bad') ? 'Late witnessing: do not accept' : 'Complete custody trail: may be received',
  checks: [
    { name: 'signatures', ok: true, message_zh: '签名全部有效', message_en: 'all signatures valid' },
    { name: 'witness_window', ok: !q.has('bad'), message_zh: q.has('bad') ? '见证超过 20 分钟' : '20 分钟内完成见证', message_en: q.has('bad') ? 'witnessed after 20 minutes' : 'witnessed within 20 minutes' },
    { name: 'site', ok: true, message_zh: '取样与见证均在工地范围内', message_en: 'sampling and witnessing inside the site' },
    { name: 'faces', ok: true, message_zh: '人脸核验通过', message_en: 'face checks passed' },
  ],
  to_confirm: q.has('bad') ? [late] : [],
  records: [
    trailRecord({ id: H(1), kind: 'sampling', kind_zh: '取样', author: 'P-ZW', author_name: '张伟', org_name: '施工单位', device_fingerprint: 'a1b2c3d4e5', seq: 3, log_index: 10, status: 'accepted', first_seen_ms: now() - 3_600_000, proven_earliest_ms: now() - 3_700_000, proven_latest_ms: now() - 3_600_000, claimed_ms: now() - 3_650_000, findings: [], media: [{ sha256: H(11), purpose: 'process', media_type: 'image/jpeg', size: 1, complete: true, url: null }, { sha256: H(12), purpose: 'face', media_type: 'image/jpeg', size: 1, complete: true, url: null }], fixes: [fix(2000, 3000, 500), fix(2100, 3100, 800)] }),
    trailRecord({ id: H(2), kind: 'witnessing', kind_zh: '见证', author: 'P-LN', author_name: '李娜', org_name: '监理单位', device_fingerprint: 'f9e8d7c6', seq: 5, log_index: 11, status: 'accepted', first_seen_ms: now() - 3_500_000, proven_earliest_ms: now() - 3_600_000, proven_latest_ms: now() - 3_500_000, claimed_ms: now() - 3_550_000, findings: q.has('bad') ? [late] : [], media: [{ sha256: H(13), purpose: 'process', media_type: 'image/jpeg', size: 1, complete: true, url: null }], fixes: [fix(2600, 3600, 1500)] }),
    trailRecord({ id: H(3), kind: 'commission', kind_zh: '委托', author: 'P-ZW', author_name: '张伟', org_name: '施工单位', device_fingerprint: 'a1b2c3d4e5', seq: 4, log_index: 12, status: 'accepted', first_seen_ms: now() - 3_000_000, proven_earliest_ms: null, proven_latest_ms: null, claimed_ms: now() - 3_000_000, findings: [], media: [], fixes: [] }),
  ],
  checkpoint,
});

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

mockIPC(async (cmd, args) => {
  const a = (args ?? {}) as Record<string, unknown>;
  switch (cmd) {
    case 'app_info': return { version: '0.1.0-dev', platform: 'browser', camera: { source: 'files', torch: true, detail: 'mock' }, location: { source: 'track', detail: 'mock' }, data_dir: '/tmp' };
    case 'status': return status();
    case 'profile': return enrolled ? profile : null;
    case 'enroll':
      if (!String(a.qr).startsWith('jzqy')) throw err('invalid', '这不是登记二维码', 'not an enrollment QR code');
      enrolled = true;
      return profile;
    case 'sync_now':
      await delay(800);
      if (q.has('offline')) throw err('offline', '无网络，稍后自动重试', 'offline: will retry');
      records.forEach((r) => (r.state = 'accepted', r.receipt_verified = true));
      return { uploaded: 2, accepted: 2, refused: 0, deferred: 0, rejected: 0, media_bytes: 1000, media_completed: 2, received: 1, cosignatures: 0 };
    case 'camera_start': purpose = String(a.purpose); pulls = 0; return { source: 'files', torch: true, detail: 'mock' };
    case 'camera_pull': await delay(120); return camEvent();
    case 'camera_push': return camEvent();
    case 'camera_torch': return a.on;
    case 'camera_stop': return null;
    case 'liveness_begin': return { challenge: 'blink', prompt_zh: '请眨眼', prompt_en: 'Blink now' };
    case 'camera_capture': {
      await delay(300);
      const c: Captured = {
        media: { sha256: H(Math.floor(Math.random() * 1e9)), size: 100_000, media_type: 'image/jpeg', purpose: purpose === 'face' ? 'face' : 'process', captured_mono_ms: 1 },
        preview: svgPreview(purpose === 'face' ? 'face' : 'photo', purpose === 'face' ? '#753' : '#375'),
        face_check: purpose === 'face' ? { photo: H(5), model: 'dlib', score_milli: q.has('noface') ? 400 : 820, threshold_milli: 600, matched: !q.has('noface'), liveness: { challenge: 'blink', passed: true, frames: 12 } } : null,
      };
      return c;
    }
    case 'manual_tag':
    case 'scanner_tag': {
      const text = String(a.text);
      if (!/^\d{18}$/.test(text)) throw err('unknown_tag', '标识编号无效（校验位不符）', 'not a valid tag code (check digit)');
      return { code: text, printed: text, read: { method: cmd === 'manual_tag' ? 'manual' : 'scanner', decoder: null } };
    }
    case 'location_info': return { source: 'track', detail: 'mock' };
    case 'location_collect': {
      await delay(1500);
      const fixes = [fix(2000, 3000, 500), fix(2050, 3020, 450)];
      const c: Collected = { fixes, best: fixes[1], accuracy_m: 4.5, mock_seen: false, site: 'inside', message_zh: '定位良好', message_en: 'good fix' };
      return c;
    }
    case 'plan_items': return q.has('noplan') ? [] : planItems;
    case 'create_sampling': {
      const form = a.form as SamplingForm;
      if (form.tag_read.method === 'manual' && !a.confirm) throw err('needs_confirmation', '请确认', 'please confirm', [manual]);
      const { tag, tag_read, seal, unit_project, specimen } = form;
      const c = add({ kind: 'sampling', data: { tag, tag_read, seal, project: 'P-1', unit_project, specimen, face: form.face } }, '取样', [form.tag]);
      open.push({ record: c.id, tag: form.tag, tag_printed: form.tag, kind: '混凝土试块', author: 'P-ZW', sampled_ms: now(), deadline_ms: now() + 20 * 60_000, remaining_ms: 20 * 60_000, mine: true, source: 'own' });
      return c;
    }
    case 'open_samplings':
      return [
        ...open.map((o) => ({ ...o, remaining_ms: o.deadline_ms - now() })),
        { record: H(77), tag: '310261000000099999', tag_printed: '310261000000099999', kind: '钢筋', author: 'P-LN', sampled_ms: now() - 17 * 60_000, deadline_ms: now() + 3 * 60_000, remaining_ms: 3 * 60_000, mine: false, source: 'feed' },
        { record: H(78), tag: '310261000000088888', tag_printed: '310261000000088888', kind: '混凝土试块', author: 'P-LN', sampled_ms: now() - 5 * 60_000, deadline_ms: now() + 15 * 60_000, remaining_ms: 15 * 60_000, mine: false, source: 'qr' },
      ];
    case 'handshake_qr': {
      let cells = '';
      for (let y = 0; y < 25; y++) for (let x = 0; x < 25; x++) if ((x * 7 + y * 13 + x * y) % 3 === 0) cells += `<rect x="${x}" y="${y}" width="1" height="1"/>`;
      return { text: `jzqy-hs:${a.record}`, svg: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 25 25" onload="alert(1)"><script>alert(1)</script>${cells}</svg>` };
    }
    case 'receive_handshake':
      if (!String(a.text).startsWith('jzqy-hs:')) throw err('invalid', '不是取样二维码', 'not a sampling QR code');
      return { record: H(78), sig: 's', device: 'd', author: 'P-LN', author_name: '李娜', tag: '310261000000088888', project: 'P-1', unit_project: 'U-1', kind: 'concrete_cube', pos: null, accuracy_cm: null, sampled_ms: now(), deadline_ms: now() + 20 * 60_000 };
    case 'store_signature': return { sha256: H(99), size: 1000, media_type: 'image/png', purpose: 'hand_signature', captured_mono_ms: null };
    case 'create_witnessing': {
      const form = a.form as WitnessForm;
      if ((q.has('late') || form.sampling === H(77)) && !a.confirm) throw err('needs_confirmation', '超时见证，请确认', 'late: please confirm', [late]);
      const { sampling, tag, tag_read, hand_signature, remarks } = form;
      return add({ kind: 'witnessing', data: { sampling, tag, tag_read, handshake: 'synced', sampling_sig: 'S'.repeat(86), face: form.face, hand_signature, remarks } }, '见证', ['310261000000099999']);
    }
    case 'create_commission': {
      const form = a.form as CommissionForm;
      const items = form.items.map(([sampling, witnessing]) => ({ tag: '310261000000011111', sampling, witnessing, tests: [] }));
      return add({ kind: 'commission', data: { form_no: form.form_no, project: 'P-1', unit_project: 'U-1', lab: form.lab, witness: form.witness, items } }, '委托', []);
    }
    case 'commission_pdf': return { path: '/tmp/commission.pdf', size: 1000 };
    case 'open_file': return null;
    case 'cosign': return null;
    case 'verify_tag': await delay(500); return trail(String(a.code));
    case 'console_login_info':
    case 'console_login_approve': {
      await delay(300);
      if (!String(a.qr).startsWith('JZQY-CONSOLE:')) throw err('invalid', '这不是管理平台的登录二维码', 'this is not a console sign-in QR code');
      const now = Date.now();
      return { id: 'c0ffee00c0ffee00', ip: '10.1.2.3', agent: 'Mozilla/5.0 (Windows NT 10.0) Chrome/120', created_ms: now - 20_000, expires_ms: now + 280_000, pending: cmd === 'console_login_info' };
    }
    case 'create_receipt': {
      const form = a.form as ReceiptForm;
      return add({ kind: 'lab_receipt', data: form }, '收样', [form.tag]);
    }
    case 'history': return records;
    case 'record': return records.find((r) => r.id === a.id) ?? null;
    case 'media_preview':
    case 'trail_media': await delay(200); return svgPreview('photo', '#555');
    default: throw err('invalid', `未知命令 ${cmd}`, `unknown command ${cmd}`);
  }
});

// Samplings ready for a commission form, so that screen has something to show.
if (q.has('history')) {
  for (const [i, tag] of ['310261000000011111', '310261000000022222'].entries()) {
    const specimen = { kind: 'concrete_cube' as const, part: '3层梁', grade: 'C30', batch_no: '', quantity: 1, unit: '组', tests: ['抗压强度'], plan_item: null };
    const tag_read = { method: 'camera' as const, decoder: 'rxing' };
    const s = add({ kind: 'sampling', data: { tag, tag_read, seal: null, project: 'P-1', unit_project: 'U-1', specimen, face } }, '取样', [tag]);
    records[0].state = i === 0 ? 'accepted' : 'pending';
    const w = add({ kind: 'witnessing', data: { sampling: s.id, tag, tag_read, handshake: 'synced', sampling_sig: 'S'.repeat(86), face, hand_signature: null, remarks: '' } }, '见证', [tag]);
    records[0].mine = false;
    records[0].author = 'P-LN';
    records[0].body.author = 'P-LN';
    records[0].state = 'accepted';
    void w;
  }
  records[0].findings = [late];
  records[0].state = 'refused';
}
void now;
now = () => Date.now();
