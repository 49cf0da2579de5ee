// The contract between the screens (app/) and the Tauri shell (src-tauri/).
// Every command is a thin layer over the Rust engine (field-engine) and the
// capture pipeline (capture); all rules run in Rust. Argument names are
// snake_case on both sides. A failed command rejects with a CmdError.
//
// Types mirror the Rust serde shapes (custody-core, field-engine); hashes and
// keys are strings (64 hex digits / base64url), times are ms since the epoch.

import { invoke } from '@tauri-apps/api/core';

export type Lang = 'zh-CN' | 'en';

export type Disposition = 'notice' | 'flag' | 'defer' | 'refuse' | 'reject';

/** One rule finding, with messages in both languages. */
export interface Finding {
  code: string;
  rule: string; // "R8", "Integrity" …
  disposition: Disposition;
  message_zh: string;
  message_en: string;
  detail: unknown;
}

/**
 * Why a command failed. `code` is stable:
 * not_enrolled, already_enrolled, not_authorised, unknown_tag, tag_already_used,
 * refused (see findings), needs_confirmation (see findings; call again with
 * confirm = true after the person agrees), invalid, offline, server, storage,
 * media, keys, camera, location, face.
 */
export interface CmdError {
  code: string;
  message_zh: string;
  message_en: string;
  findings: Finding[];
}

export type PersonRole = 'sampler' | 'witness' | 'lab_receiver' | 'lab_tester' | 'lab_reporter' | 'inspector' | 'admin';
export type OrgRole = 'owner' | 'contractor' | 'supervisor' | 'lab' | 'tag_supplier' | 'regulator' | 'operator';
export type SpecimenKind =
  | 'concrete_cube' | 'mortar_cube' | 'rebar' | 'rebar_coupler' | 'rebar_weld'
  | 'waterproofing' | 'masonry' | 'cement' | 'other';
export type MediaPurpose = 'face' | 'process' | 'tag' | 'seal' | 'hand_signature' | 'letter' | 'commission_form' | 'test_curve' | 'report_document';
export type RejectReason = 'tag_damaged' | 'tag_mismatch' | 'form_mismatch' | 'specimen_damaged' | 'seal_broken' | 'out_of_scope' | 'other';

export interface LatLon { lat_e7: number; lon_e7: number }
export interface Fix {
  pos: LatLon;
  accuracy_cm: number;
  provider: 'gnss' | 'fused' | 'network' | 'nmea';
  mono_ms: number;
  gnss_time_ms: number | null;
  satellites: number | null;
  mock: boolean;
}
export interface MediaRef {
  sha256: string;
  size: number;
  media_type: string;
  purpose: MediaPurpose;
  captured_mono_ms: number | null;
}
export interface TagRead { method: 'camera' | 'scanner' | 'manual'; decoder: string | null }
export interface FaceCheck {
  photo: string;
  model: string;
  score_milli: number;
  threshold_milli: number;
  matched: boolean;
  liveness: { challenge: string; passed: boolean; frames: number } | null;
}
export interface Specimen {
  kind: SpecimenKind;
  part: string;       // 工程部位
  grade: string;      // 规格/强度等级
  batch_no: string;   // 批号
  quantity: number;
  unit: string;       // 组/根/个
  tests: string[];
  plan_item: string | null;
}

export interface Person { id: string; name: string; org: string }
export interface Organisation { id: string; name: string; role: OrgRole; credit_code: string | null; jurisdiction: string | null }
export interface UnitProject { id: string; project: string; name: string; boundary: { exterior: LatLon[]; holes: LatLon[][] } }
export interface LabAssignment { project: string; unit_project: string; lab: string; kinds: SpecimenKind[] }
export interface GrantView {
  grant: string; role: PersonRole; project: string | null;
  valid_from_ms: number; valid_until_ms: number | null; revoked_at_ms: number | null;
  face_reference: string | null;
}
export interface ProjectView {
  project: { id: string; name: string; owner: string; jurisdiction: string };
  unit_projects: UnitProject[];
  tag_batches: unknown[];
  labs: LabAssignment[];
  organisations: Organisation[];
}
export interface Policy { witness_window_ms: number; max_fix_accuracy_m: number; co_presence_max_m: number; face_match_threshold: number }
/** What the enrolled device knows offline (refreshed on every sync). */
export interface Profile {
  person: Person;
  org: Organisation;
  org_role: OrgRole;
  grants: GrantView[];
  projects: ProjectView[];
  server_keys: string[];
  policy: Policy;
  people: Person[];
  device_revoked_ms: number | null;
}

export interface Alarm { kind: string; message_zh: string; message_en: string; created_ms: number }
/** Shown always (status bar): what waits to upload, last sync, problems. */
export interface SyncStatus {
  enrolled: boolean;
  person_name: string | null;
  org_name: string | null;
  pending_records: number;
  pending_media: number;
  pending_media_bytes: number;
  refused_records: number;
  rejected_records: number;
  last_sync_ms: number | null;
  last_error_zh: string | null;
  last_error_en: string | null;
  alarms: Alarm[];
  time_anchored: boolean;
}
export interface SyncReport {
  uploaded: number; accepted: number; refused: number; deferred: number; rejected: number;
  media_bytes: number; media_completed: number; received: number; cosignatures: number;
}

export interface CameraInfo {
  /** Where frames come from: the webview's getUserMedia ("webview": the
   * screen must push frames), the shell itself ("device" camera or "files"
   * for tests and rehearsals: the screen pulls frames). */
  source: 'webview' | 'device' | 'files';
  torch: boolean;
  detail: string;
}
export interface LocationInfo { source: 'none' | 'track' | 'nmea' | 'platform'; detail: string }
export interface AppInfo { version: string; platform: string; camera: CameraInfo; location: LocationInfo; data_dir: string }

export interface ScannedTag { code: string; printed: string; read: TagRead }
export interface FaceStatus {
  found: boolean;
  ready: boolean;            // good enough to capture
  issues: string[];          // stable codes: no_face, too_small, too_dark, too_bright, blurred, turned, several_faces …
  message_zh: string;
  message_en: string;
}
/** The result of one frame. `preview` is a data: URL (pulled frames only). */
export interface CameraEvent {
  kind: 'none' | 'tag' | 'qr' | 'face' | 'error';
  preview: string | null;
  tag: ScannedTag | null;
  text: string | null;       // purpose "qr": the decoded text (enrollment, handshake)
  face: FaceStatus | null;
  message_zh: string | null;
  message_en: string | null;
}
export type CameraPurpose = 'tag' | 'qr' | 'face' | 'photo';
export interface Captured {
  media: MediaRef;
  preview: string;           // data: URL of the watermarked copy shown to people
  face_check: FaceCheck | null;  // purpose "face"
}
export interface Liveness { challenge: 'blink' | 'turn_left' | 'turn_right'; prompt_zh: string; prompt_en: string }

export interface Collected {
  fixes: Fix[];
  best: Fix | null;
  accuracy_m: number | null;
  mock_seen: boolean;
  /** Where the best fix lies against the unit project's site, if given. */
  site: 'inside' | 'outside' | 'uncertain' | null;
  message_zh: string;
  message_en: string;
}

export interface Created { id: string; seq: number; kind: string; warnings: Finding[]; notices: Finding[] }
export interface OpenSampling {
  record: string; tag: string; tag_printed: string; kind: string; author: string;
  sampled_ms: number; deadline_ms: number; remaining_ms: number; mine: boolean;
  source: 'own' | 'feed' | 'qr';
}
export interface HandshakeOffer {
  record: string; sig: string; device: string; author: string; author_name: string;
  tag: string; project: string; unit_project: string; kind: SpecimenKind;
  pos: LatLon | null; accuracy_cm: number | null; sampled_ms: number; deadline_ms: number;
}
export interface MediaView { sha256: string; purpose: string; media_type: string; size: number; complete: boolean; url: string | null }
export interface RecordView {
  id: string; kind: string; kind_zh: string; mine: boolean; seq: number; author: string;
  tags: string[];   // printed form
  state: 'pending' | 'accepted' | 'refused' | 'deferred' | 'rejected';
  findings: Finding[]; created_ms: number; receipt_verified: boolean; log_index: number | null;
  media: MediaView[]; body: unknown; cosigners: string[];
}
export interface TrailCheck { name: string; ok: boolean; message_zh: string; message_en: string }
export interface TrailRecord {
  id: string; kind: string; kind_zh: string; author: string; author_name: string; org_name: string;
  device_fingerprint: string; seq: number; log_index: number; status: string; first_seen_ms: number;
  proven_earliest_ms: number | null; proven_latest_ms: number | null; claimed_ms: number;
  findings: Finding[]; media: MediaView[]; fixes: Fix[];
}
/** The server's verdict on one tag's custody trail (lab receipt, R11). */
export interface TrailResponse {
  tag: string; tag_printed: string; stage: string; stage_zh: string; ok: boolean;
  summary_zh: string; summary_en: string; checks: TrailCheck[]; records: TrailRecord[];
}

export interface SamplingForm {
  tag: string; tag_read: TagRead; seal: string | null; unit_project: string;
  specimen: Specimen; face: FaceCheck; media: MediaRef[]; fixes: Fix[];
}
export interface WitnessForm {
  sampling: string; tag: string; tag_read: TagRead; face: FaceCheck;
  hand_signature: string | null;  // sha256 of a stored signature (store_signature)
  remarks: string; media: MediaRef[]; fixes: Fix[];
}
export interface CommissionForm { form_no: string; lab: string; witness: string; items: [string, string][] }
export type ReceiptDecision = { decision: 'accepted' } | { decision: 'rejected'; reason: RejectReason; note: string };
export interface ReceiptForm { tag: string; tag_read: TagRead; commission: string; decision: ReceiptDecision }
export interface PdfFile { path: string; size: number }

// ---------------------------------------------------------------- commands

export const api = {
  appInfo: () => invoke<AppInfo>('app_info'),
  status: () => invoke<SyncStatus>('status'),
  profile: () => invoke<Profile | null>('profile'),
  enroll: (qr: string) => invoke<Profile>('enroll', { qr }),
  syncNow: () => invoke<SyncReport>('sync_now'),

  cameraStart: (purpose: CameraPurpose, unit_project: string | null = null) =>
    invoke<CameraInfo>('camera_start', { purpose, unit_project }),
  /** Webview source: one RGBA frame. Body layout: 4-byte LE width, 4-byte LE
   * height, then width*height*4 bytes of RGBA (canvas getImageData order). */
  cameraPush: (frame: Uint8Array) => invoke<CameraEvent>('camera_push', frame),
  /** Device/files source: the shell reads the next frame itself. */
  cameraPull: () => invoke<CameraEvent>('camera_pull'),
  cameraTorch: (on: boolean) => invoke<boolean>('camera_torch', { on }),
  /** Start the active liveness challenge; keep sending frames for ~1.5 s, then capture. */
  livenessBegin: () => invoke<Liveness>('liveness_begin'),
  cameraCapture: () => invoke<Captured>('camera_capture'),
  cameraStop: () => invoke<void>('camera_stop'),
  /** Manual entry of the printed digits when no camera can read a tag (weaker evidence). */
  manualTag: (text: string) => invoke<ScannedTag>('manual_tag', { text }),
  /** A keyboard-wedge (USB) scanner's text at a lab workstation. */
  scannerTag: (text: string) => invoke<ScannedTag>('scanner_tag', { text }),

  locationInfo: () => invoke<LocationInfo>('location_info'),
  /** Collects several fixes over the capture window (up to ~15 s). */
  locationCollect: (unit_project: string | null) => invoke<Collected>('location_collect', { unit_project }),

  createSampling: (form: SamplingForm, confirm: boolean) => invoke<Created>('create_sampling', { form, confirm }),
  openSamplings: () => invoke<OpenSampling[]>('open_samplings'),
  handshakeQr: (record: string) => invoke<{ text: string; svg: string }>('handshake_qr', { record }),
  receiveHandshake: (text: string) => invoke<HandshakeOffer>('receive_handshake', { text }),
  /** A handwritten signature drawn on the screen, as PNG bytes. */
  storeSignature: (png: Uint8Array) => invoke<MediaRef>('store_signature', png),
  createWitnessing: (form: WitnessForm, confirm: boolean) => invoke<Created>('create_witnessing', { form, confirm }),
  createCommission: (form: CommissionForm, confirm: boolean) => invoke<Created>('create_commission', { form, confirm }),
  /** Writes the printable commission form (PDF, Chinese fonts embedded, QR, both signatures). */
  commissionPdf: (record: string) => invoke<PdfFile>('commission_pdf', { record }),
  /** Open a file with the platform (system viewer / print / share). */
  openFile: (path: string) => invoke<void>('open_file', { path }),
  cosign: (record: string) => invoke<void>('cosign', { record }),
  verifyTag: (code: string) => invoke<TrailResponse>('verify_tag', { code }),
  createReceipt: (form: ReceiptForm, confirm: boolean) => invoke<Created>('create_receipt', { form, confirm }),
  history: (limit: number) => invoke<RecordView[]>('history', { limit }),
  record: (id: string) => invoke<RecordView | null>('record', { id }),
  /** A viewable copy of a stored photo (watermarked), as a data: URL. */
  mediaPreview: (sha256: string) => invoke<string>('media_preview', { sha256 }),
  /** A photo of a trail the lab is verifying, fetched from the server (never faces). */
  trailMedia: (sha256: string) => invoke<string>('trail_media', { sha256 }),
};
