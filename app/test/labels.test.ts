import { describe, expect, it } from 'vitest';
import { translate } from '../src/i18n';
import {
  REJECT_REASONS, SPECIMEN_KINDS, STATE_TONE, orgRoleKey, purposeKey, recordKindKey, rejectKey, roleKey, siteKey, specimenKey, stateKey, stateTone,
} from '../src/logic/labels';
import { DEFAULT_UNIT, UNITS } from '../src/logic/domain';

describe('state labels', () => {
  it('each record state has a Chinese and an English label and a colour', () => {
    const expected = { pending: '待同步', accepted: '已受理', refused: '不予受理', deferred: '待判定', rejected: '已驳回' };
    for (const [state, zh] of Object.entries(expected)) {
      expect(translate('zh-CN', stateKey(state))).toBe(zh);
      expect(translate('en', stateKey(state))).toMatch(/^[A-Z]/);
      expect(stateTone(state)).toBe(STATE_TONE[state as keyof typeof STATE_TONE]);
    }
    expect(stateTone('accepted')).toBe('ok');
    expect(stateTone('refused')).toBe('bad');
    expect(stateTone('rejected')).toBe('bad');
    expect(stateTone('pending')).toBe('warn');
    expect(stateTone('deferred')).toBe('info');
    expect(stateKey('whatever')).toBe('state.unknown');
    expect(stateTone('whatever')).toBe('muted');
  });

  it('reject reasons have Chinese labels', () => {
    expect(REJECT_REASONS).toHaveLength(7);
    expect(translate('zh-CN', rejectKey('tag_damaged'))).toBe('标识破损');
    expect(translate('zh-CN', rejectKey('seal_broken'))).toBe('封志破损');
    expect(translate('zh-CN', rejectKey('other'))).toBe('其他');
  });

  it('every specimen kind, role and purpose has a label; unknowns fall back', () => {
    for (const k of SPECIMEN_KINDS) expect(translate('zh-CN', specimenKey(k))).not.toBe(specimenKey(k));
    expect(translate('zh-CN', specimenKey('concrete_cube'))).toBe('混凝土试块');
    expect(specimenKey('unheard_of')).toBe('kind.other');
    expect(translate('zh-CN', roleKey('witness'))).toBe('见证员');
    expect(roleKey('pope')).toBe('role.unknown');
    expect(translate('zh-CN', orgRoleKey('supervisor'))).toBe('监理单位');
    expect(translate('zh-CN', purposeKey('process'))).toBe('过程照片');
    expect(purposeKey('x')).toBe('media.other');
    expect(recordKindKey('sampling')).toBe('record.sampling');
    expect(recordKindKey('device_enrolled')).toBeNull();
    expect(translate('zh-CN', siteKey('inside'))).toBe('在工地范围内');
    expect(siteKey(null)).toBe('gps.noSite');
  });

  it('every kind has a default unit from the list', () => {
    for (const k of SPECIMEN_KINDS) expect(UNITS as readonly string[]).toContain(DEFAULT_UNIT[k]);
  });
});
