import { describe, expect, it } from 'vitest';
import type { Captured, Collected, MediaRef, ScannedTag } from '../src/api';
import { draftComplete, emptyDraft, parseQuantity, samplingForm, specimenOf, witnessForm } from '../src/logic/forms';
import { formatAgo, formatBytes, formatDateTime, formatMetres, short, splitTests } from '../src/logic/format';
import { serial } from '../src/logic/serial';
import { translate } from '../src/i18n';

const media = (sha: string, purpose: MediaRef['purpose']): MediaRef => ({ sha256: sha, size: 10, media_type: 'image/jpeg', purpose, captured_mono_ms: 1 });
const tag: ScannedTag = { code: '310261000000012345', printed: '3102 6100 0000 0123 45', read: { method: 'camera', decoder: 'rxing' } };
const face: Captured = {
  media: media('f'.repeat(64), 'face'), preview: 'data:,',
  face_check: { photo: 'f'.repeat(64), model: 'm', score_milli: 800, threshold_milli: 600, matched: true, liveness: { challenge: 'blink', passed: true, frames: 12 } },
};
const photo = (c: string): Captured => ({ media: media(c.repeat(64), 'process'), preview: 'data:,', face_check: null });
const fixes = [{ pos: { lat_e7: 1, lon_e7: 2 }, accuracy_cm: 300, provider: 'gnss' as const, mono_ms: 5, gnss_time_ms: null, satellites: 9, mock: false }];
const gps: Collected = { fixes, best: fixes[0], accuracy_m: 3, mock_seen: false, site: 'inside', message_zh: '', message_en: '' };

describe('forms from the captured steps', () => {
  it('sampling form: tag, specimen, face media first, process photos, fixes', () => {
    const d = { ...emptyDraft('rebar', '根'), part: ' 3层梁 ', grade: 'HRB400', batch: 'B-7', quantity: '３', tests: '屈服强度，抗拉强度、伸长率', seal: ' ' };
    const f = samplingForm({ tag, unitProject: 'U-1', draft: d, face, gps, photos: [photo('a'), photo('b')] });
    expect(f).toEqual({
      tag: tag.code, tag_read: tag.read, seal: null, unit_project: 'U-1',
      specimen: { kind: 'rebar', part: '3层梁', grade: 'HRB400', batch_no: 'B-7', quantity: 3, unit: '根', tests: ['屈服强度', '抗拉强度', '伸长率'], plan_item: null },
      face: face.face_check, media: [face.media, photo('a').media, photo('b').media], fixes,
    });
  });

  it('witness form carries the signature’s hash and media', () => {
    const sig = media('9'.repeat(64), 'hand_signature');
    const f = witnessForm({ sampling: 'S'.repeat(64), tag, face, gps, photos: [photo('c')], signature: sig, remarks: ' ok ' });
    expect(f.hand_signature).toBe(sig.sha256);
    expect(f.media).toEqual([face.media, photo('c').media, sig]);
    expect(f.remarks).toBe('ok');
    expect(witnessForm({ sampling: 's', tag, face, gps, photos: [], signature: null, remarks: '' }).hand_signature).toBeNull();
  });

  it('refuses to build a form from a face capture without a face check', () => {
    expect(() => samplingForm({ tag, unitProject: 'U', draft: emptyDraft('rebar', '根'), face: photo('x'), gps, photos: [] })).toThrow();
  });

  it('quantity and completeness', () => {
    expect(parseQuantity('12')).toBe(12);
    expect(parseQuantity('１２')).toBe(12);
    expect(parseQuantity('0')).toBeNaN();
    expect(parseQuantity('1.5')).toBeNaN();
    expect(parseQuantity('')).toBeNaN();
    const d = { ...emptyDraft('concrete_cube', '组'), part: '3F' };
    expect(draftComplete(d, 'U-1')).toBe(true);
    expect(draftComplete(d, '')).toBe(false);
    expect(draftComplete({ ...d, part: ' ' }, 'U-1')).toBe(false);
    expect(draftComplete({ ...d, quantity: 'x' }, 'U-1')).toBe(false);
    expect(specimenOf(d).tests).toEqual([]);
  });
});

describe('formatting', () => {
  it('24-hour local date-times', () => {
    const ms = new Date(2026, 2, 5, 14, 7, 9).getTime();
    expect(formatDateTime(ms)).toBe('2026-03-05 14:07:09');
    expect(formatDateTime(ms, false)).toBe('2026-03-05 14:07');
    expect(formatDateTime(null)).toBe('—');
  });
  it('sizes, distances, ids, tests', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MB');
    expect(formatMetres(3.26)).toBe('3.3 m');
    expect(formatMetres(42.4)).toBe('42 m');
    expect(formatMetres(null)).toBe('—');
    expect(short('abcdef0123456789')).toBe('abcdef01');
    expect(splitTests('a, b；c\n d,,')).toEqual(['a', 'b', 'c', 'd']);
  });
  it('last sync in words', () => {
    const t = (k: Parameters<typeof translate>[1], p?: Record<string, string | number>) => translate('zh-CN', k, p);
    expect(formatAgo(null, 0, t)).toBe('从未同步');
    expect(formatAgo(1000, 30_000, t)).toBe('刚刚');
    expect(formatAgo(0, 5 * 60_000, t)).toBe('5 分钟前');
    expect(formatAgo(0, 3 * 3600_000, t)).toBe('3 小时前');
  });
});

describe('camera command queue', () => {
  it('runs jobs one at a time, in order, even when one fails', async () => {
    const run = serial();
    const log: string[] = [];
    const job = (name: string, ms: number, fail = false) => () =>
      new Promise<string>((res, rej) => setTimeout(() => { log.push(name); fail ? rej(new Error(name)) : res(name); }, ms));
    const a = run(job('start', 30));
    const b = run(job('push', 1, true));
    const c = run(job('stop', 1));
    await expect(a).resolves.toBe('start');
    await expect(b).rejects.toThrow('push');
    await expect(c).resolves.toBe('stop');
    expect(log).toEqual(['start', 'push', 'stop']);
  });
});
