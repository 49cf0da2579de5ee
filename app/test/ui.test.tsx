// @vitest-environment happy-dom
// The screens rendered in a DOM against a mocked api: what a person sees and
// which commands the screens send. (The real shell is driven by WebDriver.)
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { render } from 'preact';
import { act } from 'preact/test-utils';
import type { CmdError, Profile, SyncStatus, TrailResponse } from '../src/api';
import { commission, grant, planItem, profile as makeProfile, sampling, trailCheckpoint, trailRecord, witnessing } from './fixtures';

vi.mock('../src/api', () => {
  const names = [
    'appInfo', 'status', 'profile', 'enroll', 'syncNow', 'cameraStart', 'cameraPush', 'cameraPull', 'cameraTorch', 'livenessBegin',
    'cameraCapture', 'cameraStop', 'manualTag', 'scannerTag', 'locationInfo', 'locationCollect', 'planItems', 'createSampling', 'openSamplings',
    'handshakeQr', 'receiveHandshake', 'storeSignature', 'createWitnessing', 'createCommission', 'commissionPdf', 'openFile', 'cosign',
    'verifyTag', 'createReceipt', 'history', 'record', 'mediaPreview', 'trailMedia', 'consoleLoginInfo', 'consoleLoginApprove',
  ];
  return { api: Object.fromEntries(names.map((n) => [n, vi.fn()])) };
});
import { api } from '../src/api';
import { App } from '../src/app';

const m = api as unknown as Record<string, ReturnType<typeof vi.fn>>;
const status: SyncStatus = {
  enrolled: true, person_name: '张伟', org_name: '施工单位', pending_records: 2, pending_media: 3, pending_media_bytes: 2_000_000,
  refused_records: 0, rejected_records: 0, last_sync_ms: null, last_error_zh: null, last_error_en: null, alarms: [], time_anchored: true,
};
const $ = (id: string) => document.querySelector<HTMLElement>(`[data-testid="${id}"]`);
const $$ = (id: string) => Array.from(document.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`));

async function until<T>(f: () => T | null | undefined | false, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out; screen: ${document.body.textContent?.slice(0, 400)}`);
    await act(async () => {
      await new Promise((r) => setTimeout(r, 10));
    });
  }
}
async function click(el: HTMLElement) {
  await act(async () => {
    el.click();
  });
}
async function typeInto(el: HTMLElement, value: string) {
  await act(async () => {
    (el as HTMLInputElement).value = value;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

let root: HTMLElement;
function start(p: Profile | null) {
  m.profile.mockResolvedValue(p);
  root = document.createElement('div');
  document.body.appendChild(root);
  render(<App />, root);
}

beforeEach(() => {
  for (const f of Object.values(m)) f.mockReset();
  m.status.mockResolvedValue(status);
  m.appInfo.mockResolvedValue({ version: '0', platform: 'test', camera: { source: 'files', torch: false, detail: '' }, location: { source: 'none', detail: '' }, data_dir: '' });
  m.openSamplings.mockResolvedValue([]);
  m.planItems.mockResolvedValue([]);
  m.history.mockResolvedValue([]);
  m.cameraStart.mockResolvedValue({ source: 'files', torch: false, detail: '' });
  m.cameraPull.mockImplementation(() => new Promise((r) => setTimeout(() => r({ kind: 'none', preview: null, tag: null, text: null, face: null, message_zh: null, message_en: null }), 20)));
  m.cameraStop.mockResolvedValue(undefined);
  localStorage.clear();
});
afterEach(() => {
  render(null, root);
  root.remove();
});

describe('first run and home', () => {
  it('enrolls from pasted text, then shows who I am, zh-CN first', async () => {
    const p = makeProfile([grant('sampler')]);
    start(null);
    const text = await until(() => $('enroll-qr-text'));
    expect(document.documentElement.lang).toBe('zh-CN');
    m.enroll.mockResolvedValue(p);
    await typeInto(text, ' jzqy-enroll:abc ');
    await click($('enroll-submit')!);
    expect(m.enroll).toHaveBeenCalledWith('jzqy-enroll:abc');
    const who = await until(() => $('whoami'));
    expect(who.textContent).toContain('张伟');
    expect($('status-pending')?.textContent).toContain('2');
    expect($('status-pending')?.getAttribute('data-records')).toBe('2');
  });

  it('shows an enrollment error big, with its code, in the person’s language', async () => {
    start(null);
    const text = await until(() => $('enroll-qr-text'));
    m.enroll.mockRejectedValue({ code: 'already_enrolled', message_zh: '本机已登记', message_en: 'already enrolled', findings: [] } satisfies CmdError);
    await typeInto(text, 'x');
    await click($('enroll-submit')!);
    const err = await until(() => $('error'));
    expect(err.getAttribute('data-code')).toBe('already_enrolled');
    expect(err.textContent).toContain('本机已登记');
    expect(err.getAttribute('role')).toBe('alert');
  });

  it('disables what the grants do not allow, with the reason (R1)', async () => {
    start(makeProfile([grant('sampler'), grant('witness', { revoked_at_ms: 5 })]));
    await until(() => $('whoami'));
    expect(($('home-sample') as HTMLButtonElement).disabled).toBe(false);
    expect(($('home-witness') as HTMLButtonElement).disabled).toBe(true);
    expect($('home-witness-why')?.textContent).toContain('见证员');
    expect(($('home-lab') as HTMLButtonElement).disabled).toBe(true);
    expect($$('grant').map((g) => g.getAttribute('data-state'))).toEqual(['active', 'revoked']);
  });

  it('switches language and remembers it', async () => {
    start(makeProfile([grant('sampler')]));
    await until(() => $('whoami'));
    await click($('lang-toggle')!);
    expect(document.documentElement.lang).toBe('en');
    expect(localStorage.getItem('jzqy.lang')).toBe('en');
    expect($('home-sample')?.textContent).toBe('New sampling');
    await click($('lang-toggle')!);
    expect(document.documentElement.lang).toBe('zh-CN');
  });

  it('sync now reports without blocking, and refreshes the profile', async () => {
    start(makeProfile([grant('sampler')]));
    await until(() => $('whoami'));
    m.syncNow.mockRejectedValue({ code: 'offline', message_zh: '无网络', message_en: 'offline', findings: [] });
    await click($('sync-now')!);
    const note = await until(() => $('sync-result'));
    expect(note.textContent).toContain('无网络');
    expect($('home-sample')).not.toBeNull();
  });
});

describe('lab receipt (R11)', () => {
  const trail: TrailResponse = {
    tag: '310261000000012345', tag_printed: '310261000000012345', stage: 'commissioned', stage_zh: '已委托', ok: false,
    summary_zh: '见证超时', summary_en: 'late witnessing',
    checks: [
      { name: 'signatures', ok: true, message_zh: '签名有效', message_en: 'signatures valid' },
      { name: 'witness_window', ok: false, message_zh: '见证超时', message_en: 'late' },
    ],
    to_confirm: [],
    records: [
      trailRecord({ id: 'c'.repeat(64), kind: 'commission', kind_zh: '委托', author: 'P-ZW', author_name: '张伟', org_name: '施工单位', device_fingerprint: 'ab', seq: 2, log_index: 7, status: 'accepted', first_seen_ms: 1, proven_earliest_ms: null, proven_latest_ms: null, claimed_ms: 1, findings: [], media: [], fixes: [] }),
      trailRecord({ id: 's'.repeat(64), kind: 'sampling', kind_zh: '取样', author: 'P-ZW', author_name: '张伟', org_name: '施工单位', device_fingerprint: 'ab', seq: 1, log_index: 5, status: 'accepted', first_seen_ms: 1, proven_earliest_ms: 1, proven_latest_ms: 2, claimed_ms: 1, findings: [],
        media: [{ sha256: 'f'.repeat(64), purpose: 'face', media_type: 'image/jpeg', size: 1, complete: true, url: null }, { sha256: 'p'.repeat(64), purpose: 'process', media_type: 'image/jpeg', size: 1, complete: true, url: null }],
        fixes: [{ pos: { lat_e7: 406_700_000, lon_e7: 1_222_300_000 }, accuracy_cm: 500, provider: 'gnss', mono_ms: 1, gnss_time_ms: null, satellites: 8, mock: false }] }),
    ],
    checkpoint: trailCheckpoint,
  };

  it('a USB scanner burst ending in Enter → scannerTag → verdict, map, photos (never faces) → reject with reason', async () => {
    start(makeProfile([grant('lab_receiver', { project: null })]));
    await click(await until(() => $('home-lab')));
    const input = await until(() => $('lab-scan-input'));
    expect(document.activeElement).toBe(input);
    const tag = { code: '310261000000012345', printed: '310261000000012345', read: { method: 'scanner', decoder: null } };
    m.scannerTag.mockResolvedValue(tag);
    m.verifyTag.mockResolvedValue(trail);
    m.trailMedia.mockResolvedValue('data:image/png;base64,AA==');
    await act(async () => {
      let t = 1000;
      for (const ch of '310261000000012345') input.dispatchEvent(new KeyboardEvent('keydown', { key: ch, bubbles: true, timeStamp: (t += 5) } as KeyboardEventInit));
      input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    });
    const verdict = await until(() => $('lab-verdict'));
    expect(m.scannerTag).toHaveBeenCalledWith('310261000000012345');
    expect(m.verifyTag).toHaveBeenCalledWith('310261000000012345');
    expect(verdict.getAttribute('data-ok')).toBe('false');
    expect($$('lab-check').map((c) => [c.getAttribute('data-name'), c.getAttribute('data-ok')])).toEqual([['signatures', 'true'], ['witness_window', 'false']]);
    expect($('lab-map')?.getAttribute('data-points')).toBe('1');
    await until(() => $$('trail-photo').length === 1);
    expect(m.trailMedia).toHaveBeenCalledWith('p'.repeat(64));
    expect(m.trailMedia).not.toHaveBeenCalledWith('f'.repeat(64));

    // "other" needs a note before the reject button works.
    await act(async () => {
      const sel = $('lab-reject-reason') as HTMLSelectElement;
      sel.value = 'other';
      sel.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(($('lab-reject') as HTMLButtonElement).disabled).toBe(true);
    await typeInto($('lab-reject-note')!, '样品编号涂改');
    m.createReceipt.mockResolvedValue({ id: 'r'.repeat(64), seq: 3, kind: 'lab_receipt', warnings: [], notices: [] });
    await click($('lab-reject')!);
    const done = await until(() => $('done'));
    expect(done.getAttribute('data-record')).toBe('r'.repeat(64));
    expect(m.createReceipt).toHaveBeenCalledWith(
      { tag: tag.code, tag_read: tag.read, commission: 'c'.repeat(64), decision: { decision: 'rejected', reason: 'other', note: '样品编号涂改' } },
      false,
    );
  });

  it('R11: the findings a receiver must confirm to accept anyway are listed with the verdict', async () => {
    start(makeProfile([grant('lab_receiver', { project: null })]));
    await click(await until(() => $('home-lab')));
    const input = await until(() => $('lab-scan-input'));
    const uncertain = { code: 'authorisation_uncertain', rule: 'R1' as const, disposition: 'flag' as const, message_zh: '无法确定记录时授权 G-1 是否仍有效', message_en: 'cannot tell whether authorisation G-1 was still valid', detail: null };
    m.scannerTag.mockResolvedValue({ code: '310261000000012345', printed: '310261000000012345', read: { method: 'scanner', decoder: null } });
    m.verifyTag.mockResolvedValue({ ...trail, to_confirm: [uncertain] });
    await act(async () => {
      for (const ch of '310261000000012345') input.dispatchEvent(new KeyboardEvent('keydown', { key: ch, bubbles: true }));
      input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    });
    const box = await until(() => $('lab-to-confirm'));
    expect(box.textContent).toContain('无法确定记录时授权 G-1 是否仍有效');
  });
});

describe('commission form (R10) and history', () => {
  it('lists witnessed samplings, signs the form, then opens its PDF', async () => {
    const p = makeProfile([grant('sampler')]);
    const s = sampling('310261000000011111');
    const w = witnessing(s);
    m.history.mockResolvedValue([s, w]);
    start(p);
    await click(await until(() => $('home-commission')));
    const item = await until(() => $('commission-item'));
    expect(item.getAttribute('data-record')).toBe(s.id);
    expect(($('commission-create') as HTMLButtonElement).disabled).toBe(true);
    await click(item);
    // Defaults: the unit project's only lab, and the witness who watched.
    await until(() => ($('commission-lab') as HTMLSelectElement).value === 'ORG-LAB');
    expect(($('commission-witness') as HTMLSelectElement).value).toBe('P-LN');
    await typeInto($('commission-form-no')!, 'WT-001');
    m.createCommission.mockRejectedValueOnce({ code: 'needs_confirmation', message_zh: '请确认', message_en: 'confirm', findings: [{ code: 'x', rule: 'R10', disposition: 'notice', message_zh: '提示', message_en: 'notice', detail: null }] });
    m.createCommission.mockResolvedValueOnce({ id: 'k'.repeat(64), seq: 9, kind: 'commission', warnings: [], notices: [] });
    await click($('commission-create')!);
    await until(() => $('warnings'));
    await click($('confirm-warnings')!);
    await until(() => $('done'));
    expect(m.createCommission.mock.calls).toEqual([
      [{ form_no: 'WT-001', lab: 'ORG-LAB', witness: 'P-LN', items: [[s.id, w.id]] }, false],
      [{ form_no: 'WT-001', lab: 'ORG-LAB', witness: 'P-LN', items: [[s.id, w.id]] }, true],
    ]);
    m.commissionPdf.mockResolvedValue({ path: '/tmp/f.pdf', size: 10 });
    m.openFile.mockResolvedValue(undefined);
    await click($('commission-pdf')!);
    await until(() => m.openFile.mock.calls.length > 0);
    expect(m.commissionPdf).toHaveBeenCalledWith('k'.repeat(64));
    expect(m.openFile).toHaveBeenCalledWith('/tmp/f.pdf');
  });

  it('history shows each record’s state; the witness co-signs a form addressed to them', async () => {
    const p = { ...makeProfile([grant('witness')]), person: { id: 'P-LN', name: '李娜', org: 'ORG-S' } };
    const s = sampling('310261000000011111', 'U-1', { mine: false, state: 'accepted' });
    const w = witnessing(s, { mine: true, state: 'refused', findings: [{ code: 'late', rule: 'R8', disposition: 'flag', message_zh: '迟到', message_en: 'late', detail: null }] });
    const c = commission([[s, w]], 'P-LN', { mine: false, state: 'accepted' });
    m.history.mockResolvedValue([c, w, s]);
    m.record.mockResolvedValue(c);
    start(p);
    await click(await until(() => $('home-history')));
    await until(() => $$('history-item').length === 3);
    expect($$('history-item').map((i) => i.getAttribute('data-state'))).toEqual(['accepted', 'refused', 'accepted']);
    expect($$('history-item')[1].textContent).toContain('不予受理');
    await click($$('history-item')[0]);
    await until(() => $('record-detail'));
    m.cosign.mockResolvedValue(undefined);
    await click($('cosign')!);
    await until(() => $('cosign-done'));
    expect(m.cosign).toHaveBeenCalledWith(c.id);
  });
});

describe('witness flow (R8)', () => {
  it('a pasted handshake joins the list, marked, for the witness to pick', async () => {
    const p = { ...makeProfile([grant('witness')]), person: { id: 'P-LN', name: '李娜', org: 'ORG-S' } };
    start(p);
    await click(await until(() => $('home-witness')));
    await until(() => $('witness-empty'));
    const rec = 'b'.repeat(64);
    m.receiveHandshake.mockResolvedValue({
      record: rec, sig: 's', device: 'd', author: 'P-ZW', author_name: '张伟', tag: '310261000000077777', project: 'P-1', unit_project: 'U-1',
      kind: 'rebar', pos: null, accuracy_cm: null, sampled_ms: 0, deadline_ms: 1_200_000,
    });
    m.openSamplings.mockResolvedValue([
      { record: rec, tag: '310261000000077777', tag_printed: '310261000000077777', kind: '钢筋', author: '张伟', sampled_ms: 0, deadline_ms: 1, remaining_ms: 500_000, mine: false, source: 'qr' },
    ]);
    await typeInto($('handshake-paste')!, ' jzqy-hs:xyz ');
    await click($('handshake-submit')!);
    expect(m.receiveHandshake).toHaveBeenCalledWith('jzqy-hs:xyz');
    const item = await until(() => $('witness-item'));
    expect(item.getAttribute('data-record')).toBe(rec);
    expect(item.getAttribute('data-source')).toBe('qr');
    expect($('witness-fresh')).not.toBeNull();
    expect(item.querySelector('.countdown')?.getAttribute('data-urgency')).toBe('warn');
  });


  it('wrong tag stopped; face, GPS, photo, handwritten signature; late → explicit confirm', async () => {
    const p = { ...makeProfile([grant('witness')]), person: { id: 'P-LN', name: '李娜', org: 'ORG-S' } };
    const rec = 'a'.repeat(64);
    m.openSamplings.mockResolvedValue([
      { record: rec, tag: '310261000000099999', tag_printed: '310261000000099999', kind: '钢筋', author: 'P-ZW', sampled_ms: 0, deadline_ms: 1, remaining_ms: -60_000, mine: false, source: 'feed' },
    ]);
    m.record.mockResolvedValue(sampling('310261000000099999', 'U-1', { id: rec }));
    // The canvas has no 2D context in this DOM: a stand-in that records strokes and gives PNG bytes.
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    const ctx = new Proxy({}, { get: () => () => undefined, set: () => true });
    vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(ctx as never);
    HTMLCanvasElement.prototype.toBlob = function (cb: BlobCallback) {
      cb(new Blob([png], { type: 'image/png' }));
    };
    start(p);
    await click(await until(() => $('home-witness')));
    const item = await until(() => $('witness-item'));
    expect(item.getAttribute('data-record')).toBe(rec);
    expect(item.querySelector('.countdown')?.getAttribute('data-urgency')).toBe('late');
    await click(item);

    m.manualTag.mockResolvedValueOnce({ code: '310261000000012345', printed: '310261000000012345', read: { method: 'manual', decoder: null } });
    await typeInto(await until(() => $('tag-manual-input')), '310261000000012345');
    await click($('tag-manual-submit')!);
    expect((await until(() => $('error'))).getAttribute('data-code')).toBe('tag_mismatch');
    const tag = { code: '310261000000099999', printed: '310261000000099999', read: { method: 'manual', decoder: null } };
    m.manualTag.mockResolvedValueOnce(tag);
    await typeInto($('tag-manual-input')!, '310261000000099999');
    await click($('tag-manual-submit')!);
    expect((await until(() => $('tag-scanned'))).getAttribute('data-code')).toBe(tag.code);

    const faceMedia = { sha256: '1'.repeat(64), size: 1, media_type: 'image/jpeg', purpose: 'face', captured_mono_ms: 1 };
    const faceCheck = { photo: '1'.repeat(64), model: 'm', score_milli: 800, threshold_milli: 600, matched: true, liveness: { challenge: 'blink', passed: true, frames: 9 } };
    m.livenessBegin.mockResolvedValue({ challenge: 'blink', prompt_zh: '请眨眼', prompt_en: 'Blink' });
    m.cameraCapture.mockResolvedValueOnce({ media: faceMedia, preview: 'data:,', face_check: faceCheck });
    await click(await until(() => $('face-capture')));
    await until(() => $('face-challenge'));
    expect($('face-challenge')?.textContent).toBe('请眨眼');
    const fixes = [{ pos: { lat_e7: 1, lon_e7: 2 }, accuracy_cm: 400, provider: 'gnss', mono_ms: 1, gnss_time_ms: null, satellites: 7, mock: false }];
    m.locationCollect.mockResolvedValue({ fixes, best: fixes[0], accuracy_m: 4, mock_seen: false, site: 'inside', message_zh: '', message_en: '' });
    await click(await until(() => $('gps-collect'), 4000));
    expect(m.locationCollect).toHaveBeenCalledWith('U-1');
    await click(await until(() => $('gps-next')));
    const photoMedia = { sha256: '2'.repeat(64), size: 1, media_type: 'image/jpeg', purpose: 'process', captured_mono_ms: 2 };
    m.cameraCapture.mockResolvedValueOnce({ media: photoMedia, preview: 'data:,', face_check: null });
    await click(await until(() => $('photo-capture')));
    await until(() => $('photo-count')?.getAttribute('data-count') === '1');
    await click($('photos-next')!);

    const pad = await until(() => $('signature-pad'));
    await act(async () => {
      pad.dispatchEvent(new PointerEvent('pointerdown', { bubbles: true, clientX: 10, clientY: 10, pointerId: 1 }));
      pad.dispatchEvent(new PointerEvent('pointermove', { bubbles: true, clientX: 40, clientY: 30, pointerId: 1 }));
      pad.dispatchEvent(new PointerEvent('pointerup', { bubbles: true, pointerId: 1 }));
    });
    const sig = { sha256: '3'.repeat(64), size: 7, media_type: 'image/png', purpose: 'hand_signature', captured_mono_ms: null };
    m.storeSignature.mockResolvedValue(sig);
    await click(await until(() => $('signature-done')));
    await until(() => $('witness-sign'));
    expect(m.storeSignature).toHaveBeenCalledWith(png);

    const late = { code: 'late_by_device_clock', rule: 'R8', disposition: 'flag', message_zh: '见证超过 20 分钟', message_en: 'more than 20 minutes', detail: null };
    m.createWitnessing.mockRejectedValueOnce({ code: 'needs_confirmation', message_zh: '请确认', message_en: 'confirm', findings: [late] });
    m.createWitnessing.mockResolvedValueOnce({ id: 'w'.repeat(64), seq: 4, kind: 'witnessing', warnings: [late], notices: [] });
    await click($('witness-sign')!);
    await until(() => $('warnings'));
    expect($('late-warning')).not.toBeNull();
    expect($('warnings')?.textContent).toContain('见证超过 20 分钟');
    await click($('confirm-warnings')!);
    expect((await until(() => $('done'))).getAttribute('data-record')).toBe('w'.repeat(64));
    const [form, confirm] = m.createWitnessing.mock.calls[1];
    expect(confirm).toBe(true);
    expect(m.createWitnessing.mock.calls[0][1]).toBe(false);
    expect(form).toEqual({
      sampling: rec, tag: tag.code, tag_read: tag.read, face: faceCheck, hand_signature: sig.sha256, remarks: '',
      media: [faceMedia, photoMedia, sig], fixes,
    });
    // Every camera session was stopped (through the queue, after the frame in flight).
    await until(() => m.cameraStop.mock.calls.length === m.cameraStart.mock.calls.length);
    expect(m.cameraStart.mock.calls.map((c) => c[0])).toEqual(['tag', 'face', 'photo']);
  }, 15_000);
});

describe('the sampler samples from the approved plan (R4)', () => {
  const tag = { code: '310261000000012345', printed: '3102 6100 0000 0123 45', read: { method: 'manual', decoder: null } };
  const faceMedia = { sha256: '1'.repeat(64), size: 1, media_type: 'image/jpeg', purpose: 'face', captured_mono_ms: 1 };
  const faceCheck = { photo: '1'.repeat(64), model: 'm', score_milli: 800, threshold_milli: 600, matched: true, liveness: { challenge: 'blink', passed: true, frames: 9 } };
  const photoMedia = { sha256: '2'.repeat(64), size: 1, media_type: 'image/jpeg', purpose: 'process', captured_mono_ms: 2 };
  const fixes = [{ pos: { lat_e7: 1, lon_e7: 2 }, accuracy_cm: 400, provider: 'gnss', mono_ms: 1, gnss_time_ms: null, satellites: 7, mock: false }];

  async function toSpecimen() {
    await click(await until(() => $('home-sample')));
    m.manualTag.mockResolvedValueOnce(tag);
    await typeInto(await until(() => $('tag-manual-input')), tag.code);
    await click($('tag-manual-submit')!);
  }

  async function faceGpsPhotosSign() {
    m.livenessBegin.mockResolvedValue({ challenge: 'blink', prompt_zh: '请眨眼', prompt_en: 'Blink' });
    m.cameraCapture.mockResolvedValueOnce({ media: faceMedia, preview: 'data:,', face_check: faceCheck });
    await click(await until(() => $('face-capture')));
    m.locationCollect.mockResolvedValue({ fixes, best: fixes[0], accuracy_m: 4, mock_seen: false, site: 'inside', message_zh: '', message_en: '' });
    await click(await until(() => $('gps-collect'), 4000));
    await click(await until(() => $('gps-next')));
    m.cameraCapture.mockResolvedValueOnce({ media: photoMedia, preview: 'data:,', face_check: null });
    await click(await until(() => $('photo-capture')));
    await until(() => $('photo-count')?.getAttribute('data-count') === '1');
    await click($('photos-next')!);
    const review = await until(() => $('review-plan'));
    m.handshakeQr.mockResolvedValue({ text: 'hs', svg: '<svg></svg>' });
    return review;
  }

  it('one tap on a plan item fills the specimen in, and the sampling names the item', async () => {
    const p = makeProfile([grant('sampler')]);
    m.planItems.mockResolvedValue([
      planItem('U1-COL-C30'),
      planItem('U1-BAR', 'U-1', { kind: 'rebar', part: '主体 钢筋原材', grade: 'HRB400E Φ20', tests: ['屈服强度', '抗拉强度'], unit: '根', per_sampling: 5 }),
      planItem('U9-X', 'U-9'), // a unit project the sampler grant does not cover
    ]);
    start(p);
    await toSpecimen();
    const items = await until(() => ($$('plan-item').length ? $$('plan-item') : null));
    expect(items.map((i) => i.dataset.item)).toEqual(['U1-COL-C30', 'U1-BAR']);
    expect(items[1].textContent).toContain('HRB400E Φ20');
    expect(items[0].querySelector('[data-testid="plan-item-count"]')?.textContent).toBe('已取 7/24');
    await typeInto($('specimen-batch')!, 'LH-0315');
    await click(items[1]);
    // Straight on to the face check: nothing typed but the batch.
    await until(() => $('face-capture'));
    const review = await faceGpsPhotosSign();
    expect(review.dataset.item).toBe('U1-BAR');
    expect(review.textContent).toContain('主体 钢筋原材');
    m.createSampling.mockResolvedValueOnce({ id: 's'.repeat(64), seq: 1, kind: 'sampling', warnings: [], notices: [] });
    await click($('review-sign')!);
    await until(() => $('done'));
    const [form] = m.createSampling.mock.calls[0];
    expect(form.unit_project).toBe('U-1');
    expect(form.specimen).toEqual({
      kind: 'rebar', part: '主体 钢筋原材', grade: 'HRB400E Φ20', batch_no: 'LH-0315', quantity: 5, unit: '根',
      tests: ['屈服强度', '抗拉强度'], plan_item: 'U1-BAR',
    });
  }, 15_000);

  it('outside the plan: the typed form under a note that the record will be marked', async () => {
    start(makeProfile([grant('sampler')]));
    m.planItems.mockResolvedValue([planItem('U1-COL-C30')]);
    await toSpecimen();
    await click(await until(() => $('plan-outside')));
    const note = await until(() => $('plan-outside-note'));
    expect(note.textContent).toContain('计划外');
    expect(note.textContent).toContain('标记');
    await act(async () => {
      const sel = $('unit-project') as HTMLSelectElement;
      sel.value = 'U-2';
      sel.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await typeInto($('specimen-part')!, '2层 墙');
    await click($('specimen-next')!);
    const review = await faceGpsPhotosSign();
    expect(review.dataset.item).toBe('');
    expect(review.textContent).toContain('计划外');
    const outside = { code: 'outside_plan', rule: 'R4', disposition: 'notice', message_zh: '计划外取样', message_en: 'outside the plan', detail: null };
    m.createSampling.mockResolvedValueOnce({ id: 's'.repeat(64), seq: 1, kind: 'sampling', warnings: [], notices: [outside] });
    await click($('review-sign')!);
    await until(() => $('done'));
    const [form] = m.createSampling.mock.calls[0];
    expect(form.unit_project).toBe('U-2');
    expect(form.specimen.plan_item).toBeNull();
    expect(form.specimen.part).toBe('2层 墙');
  }, 15_000);

  it('with no plan held, the typed form is shown at once, saying it will be marked', async () => {
    start(makeProfile([grant('sampler')]));
    await toSpecimen();
    const note = await until(() => $('plan-outside-note'));
    expect(note.textContent).toContain('没有已批准的取样计划');
    expect($('plan-item')).toBeNull();
    expect($('specimen-part')).not.toBeNull();
  });
});

describe('signing in to the web console (issue 13)', () => {
  const info = { id: 'c0ffee00c0ffee00', ip: '10.1.2.3', agent: 'Mozilla/5.0 Chrome/120', created_ms: 1_790_000_000_000, expires_ms: 1_790_000_300_000, pending: true };
  it('shows which browser asks before approving, then approves that one', async () => {
    start(makeProfile([grant('sampler')]));
    await click(await until(() => $('home-console')));
    await typeInto(await until(() => $('console-qr-text')), 'JZQY-CONSOLE:abc');
    m.consoleLoginInfo.mockResolvedValue(info);
    await click($('console-submit')!);
    const req = await until(() => $('console-request'));
    expect(m.consoleLoginInfo).toHaveBeenCalledWith('JZQY-CONSOLE:abc');
    expect(m.consoleLoginApprove).not.toHaveBeenCalled();
    expect(req.textContent).toContain('10.1.2.3');
    expect(req.dataset.pending).toBe('true');
    m.consoleLoginApprove.mockResolvedValue({ ...info, pending: false });
    await click($('console-approve')!);
    expect((await until(() => $('console-approved'))).dataset.login).toBe(info.id);
    expect(m.consoleLoginApprove).toHaveBeenCalledWith('JZQY-CONSOLE:abc');
  });
  it('a used or expired request cannot be approved, and a foreign QR says why', async () => {
    start(makeProfile([grant('sampler')]));
    await click(await until(() => $('home-console')));
    await typeInto(await until(() => $('console-qr-text')), 'JZQY-CONSOLE:old');
    m.consoleLoginInfo.mockResolvedValueOnce({ ...info, pending: false });
    await click($('console-submit')!);
    await until(() => $('console-closed'));
    expect($('console-approve')).toBeNull();
    await click($('console-cancel')!);
    await click(await until(() => $('home-console')));
    await typeInto(await until(() => $('console-qr-text')), 'hello');
    const refused: CmdError = { code: 'invalid', message_zh: '这不是管理平台的登录二维码', message_en: 'this is not a console sign-in QR code', findings: [] };
    m.consoleLoginInfo.mockRejectedValueOnce(refused);
    await click($('console-submit')!);
    expect((await until(() => $('error'))).textContent).toContain('这不是管理平台的登录二维码');
    expect($('console-request')).toBeNull();
  });
});
