// The contract between the screens (app/) and the Tauri shell (src-tauri/).
// Every command is a thin layer over the Rust engine (field-engine) and the
// capture pipeline (capture); all rules run in Rust. Argument names are
// snake_case on both sides. A failed command rejects with a CmdError.
//
// The types are generated from the Rust types into ./contract/ (never edit
// those files: `UPDATE_CONTRACT=1 cargo test -p field-app --lib contract`
// rewrites them, and the normal test run fails when they differ from what
// the Rust types generate). Hashes and keys are strings (64 hex digits /
// base64url), times are ms since the epoch.

import { invoke } from '@tauri-apps/api/core';
import type {
  AppInfo, CameraEvent, CameraInfo, Captured, CollectedView, CommissionForm, ConsoleLoginInfo, Created, DeviceProfile,
  HandshakeOffer, HandshakeQr, LivenessView, LocationInfo, MediaRef, OpenSampling, PdfFile, PlanItemView, Purpose,
  ReceiptForm, RecordView, SamplingForm, ScannedTagView, SyncReport, SyncStatus, TrailResponse, WitnessForm,
} from './contract';

export type * from './contract';

/** The screens' language (a choice of the UI, not part of the contract). */
export type Lang = 'zh-CN' | 'en';

/** What the enrolled device knows offline (refreshed on every sync). */
export type Profile = DeviceProfile;
export type ScannedTag = ScannedTagView;
export type CameraPurpose = Purpose;
export type Collected = CollectedView;

// ---------------------------------------------------------------- commands

export const api = {
  appInfo: () => invoke<AppInfo>('app_info'),
  status: () => invoke<SyncStatus>('status'),
  profile: () => invoke<DeviceProfile | null>('profile'),
  enroll: (qr: string) => invoke<DeviceProfile>('enroll', { qr }),
  syncNow: () => invoke<SyncReport>('sync_now'),

  cameraStart: (purpose: Purpose, unit_project: string | null = null) =>
    invoke<CameraInfo>('camera_start', { purpose, unit_project }),
  /** Webview source: one RGBA frame. Body layout: 4-byte LE width, 4-byte LE
   * height, then width*height*4 bytes of RGBA (canvas getImageData order). */
  cameraPush: (frame: Uint8Array) => invoke<CameraEvent>('camera_push', frame),
  /** Device/files source: the shell reads the next frame itself. */
  cameraPull: () => invoke<CameraEvent>('camera_pull'),
  cameraTorch: (on: boolean) => invoke<boolean>('camera_torch', { on }),
  /** Start the active liveness challenge; keep sending frames for ~1.5 s, then capture. */
  livenessBegin: () => invoke<LivenessView>('liveness_begin'),
  cameraCapture: () => invoke<Captured>('camera_capture'),
  cameraStop: () => invoke<void>('camera_stop'),
  /** Manual entry of the printed digits when no camera can read a tag (weaker evidence). */
  manualTag: (text: string) => invoke<ScannedTagView>('manual_tag', { text }),
  /** A keyboard-wedge (USB) scanner's text at a lab workstation. */
  scannerTag: (text: string) => invoke<ScannedTagView>('scanner_tag', { text }),

  locationInfo: () => invoke<LocationInfo>('location_info'),
  /** Collects several fixes over the capture window (up to ~15 s). */
  locationCollect: (unit_project: string | null) => invoke<CollectedView>('location_collect', { unit_project }),

  /** The approved sampling plan items in force for the person's unit projects (R4), from what the last sync brought: works offline. */
  planItems: () => invoke<PlanItemView[]>('plan_items'),
  createSampling: (form: SamplingForm, confirm: boolean) => invoke<Created>('create_sampling', { form, confirm }),
  openSamplings: () => invoke<OpenSampling[]>('open_samplings'),
  handshakeQr: (record: string) => invoke<HandshakeQr>('handshake_qr', { record }),
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
  consoleLoginInfo: (qr: string) => invoke<ConsoleLoginInfo>('console_login_info', { qr }),
  consoleLoginApprove: (qr: string) => invoke<ConsoleLoginInfo>('console_login_approve', { qr }),
  createReceipt: (form: ReceiptForm, confirm: boolean) => invoke<Created>('create_receipt', { form, confirm }),
  history: (limit: number) => invoke<RecordView[]>('history', { limit }),
  record: (id: string) => invoke<RecordView | null>('record', { id }),
  /** A viewable copy of a stored photo (watermarked), as a data: URL. */
  mediaPreview: (sha256: string) => invoke<string>('media_preview', { sha256 }),
  /** A photo of a trail the lab is verifying, fetched from the server (never faces). */
  trailMedia: (sha256: string) => invoke<string>('trail_media', { sha256 }),
};
