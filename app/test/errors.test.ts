import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { CmdError, Finding } from '../src/api';

// The real Rust side is tested separately: here the api module is a mock.
vi.mock('../src/api', () => ({
  api: { createWitnessing: vi.fn(), createSampling: vi.fn() },
}));
import { api } from '../src/api';
import { attempt, classify, dispositionTone, isLateFinding, msg, sortFindings, toCmdError } from '../src/logic/errors';

const late: Finding = {
  code: 'late_by_device_clock', rule: 'R8', disposition: 'flag',
  message_zh: '见证超时 3 分钟', message_en: 'witnessed 3 minutes late', detail: null,
};
const notice: Finding = { code: 'manual_tag', rule: 'R6', disposition: 'notice', message_zh: '手动输入标识', message_en: 'tag typed by hand', detail: null };
const refuse: Finding = { code: 'tag_used', rule: 'R6', disposition: 'refuse', message_zh: '标识已使用', message_en: 'tag already used', detail: null };
const needs: CmdError = { code: 'needs_confirmation', message_zh: '请确认', message_en: 'please confirm', findings: [notice, late] };

describe('CmdError normalisation', () => {
  it('keeps a CmdError from the shell', () => {
    const e: CmdError = { code: 'tag_already_used', message_zh: '标识已被使用', message_en: 'tag already used', findings: [refuse] };
    expect(toCmdError(e)).toEqual(e);
  });
  it('fills missing fields', () => {
    expect(toCmdError({ code: 'offline' })).toEqual({ code: 'offline', message_zh: 'offline', message_en: 'offline', findings: [] });
    expect(toCmdError({ code: 'x', message: 'boom' }).message_en).toBe('boom');
  });
  it('wraps strings and Errors', () => {
    expect(toCmdError('ipc failed')).toEqual({ code: 'internal', message_zh: 'ipc failed', message_en: 'ipc failed', findings: [] });
    expect(toCmdError(new Error('bad'))).toMatchObject({ code: 'internal', message_en: 'bad' });
    expect(toCmdError(null).code).toBe('internal');
  });
  it('shows the message in the person’s language, else the other one', () => {
    expect(msg(needs, 'zh-CN')).toBe('请确认');
    expect(msg(needs, 'en')).toBe('please confirm');
    expect(msg({ message_zh: '', message_en: 'only en' }, 'zh-CN')).toBe('only en');
    expect(msg({ message_zh: '只有中文', message_en: null }, 'en')).toBe('只有中文');
  });
});

describe('routing errors', () => {
  it('needs_confirmation asks; everything else stops the flow', () => {
    expect(classify(needs)).toMatchObject({ kind: 'confirm', findings: [notice, late] });
    for (const code of ['refused', 'not_authorised', 'tag_already_used', 'unknown_tag', 'offline']) {
      expect(classify({ code, message_zh: 'x', message_en: 'x', findings: [] })).toMatchObject({ kind: 'error', error: { code } });
    }
  });
  it('late witnessing is found and sorted first; dispositions have tones', () => {
    expect(isLateFinding(late)).toBe(true);
    expect(isLateFinding(notice)).toBe(false);
    expect(sortFindings([notice, refuse, late]).map((f) => f.code)).toEqual(['late_by_device_clock', 'tag_used', 'manual_tag']);
    expect(dispositionTone('refuse')).toBe('bad');
    expect(dispositionTone('reject')).toBe('bad');
    expect(dispositionTone('flag')).toBe('warn');
    expect(dispositionTone('notice')).toBe('info');
  });
});

describe('needs_confirmation → confirm flow (mocked api)', () => {
  const create = vi.mocked(api.createWitnessing);
  beforeEach(() => {
    create.mockReset();
  });

  it('first call without confirm; after the person confirms, again with confirm = true', async () => {
    create.mockImplementation(async (_form, confirm) => {
      if (!confirm) throw needs;
      return { id: 'abc', seq: 3, kind: 'witnessing', warnings: [late], notices: [] };
    });
    const call = (confirm: boolean) => api.createWitnessing({} as never, confirm);
    const first = await attempt(call, false);
    expect(first.kind).toBe('confirm');
    if (first.kind !== 'confirm') return;
    expect(first.findings.some(isLateFinding)).toBe(true);
    const second = await attempt(call, true);
    expect(second).toEqual({ kind: 'ok', value: { id: 'abc', seq: 3, kind: 'witnessing', warnings: [late], notices: [] } });
    expect(create.mock.calls.map((c) => c[1])).toEqual([false, true]);
  });

  it('a refusal is an error and there is no second call', async () => {
    create.mockRejectedValue({ code: 'refused', message_zh: '不予受理', message_en: 'refused', findings: [refuse] });
    const out = await attempt((c) => api.createWitnessing({} as never, c), false);
    expect(out).toMatchObject({ kind: 'error', error: { code: 'refused', findings: [refuse] } });
    expect(create).toHaveBeenCalledTimes(1);
  });
});
