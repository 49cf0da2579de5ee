import { describe, expect, it } from 'vitest';
import { activeGrants, canAct, findUnit, grantState, orgName, personName, unitChoices } from '../src/logic/grants';
import { grant, profile } from './fixtures';

const NOW = 10_000;

describe('authorisations (R1) in the profile', () => {
  it('grant states', () => {
    expect(grantState(grant('sampler'), NOW)).toBe('active');
    expect(grantState(grant('sampler', { revoked_at_ms: 5000 }), NOW)).toBe('revoked');
    expect(grantState(grant('sampler', { revoked_at_ms: 20_000 }), NOW)).toBe('active');
    expect(grantState(grant('sampler', { valid_until_ms: 9000 }), NOW)).toBe('expired');
    expect(grantState(grant('sampler', { valid_from_ms: 11_000 }), NOW)).toBe('not_yet');
  });

  it('acts only with an active grant for the role, and not on a revoked device', () => {
    const p = profile([grant('sampler'), grant('witness', { revoked_at_ms: 1 })]);
    expect(canAct(p, 'sampler', NOW)).toBe(true);
    expect(canAct(p, 'witness', NOW)).toBe(false);
    expect(canAct(p, 'lab_receiver', NOW)).toBe(false);
    expect(canAct(null, 'sampler', NOW)).toBe(false);
    expect(canAct({ ...p, device_revoked_ms: 1 }, 'sampler', NOW)).toBe(false);
  });

  it('unit projects come from projects the grant covers', () => {
    const p = profile([grant('sampler', { project: 'P-1' })]);
    expect(unitChoices(p, 'sampler', NOW).map((u) => u.unit.id)).toEqual(['U-1', 'U-2']);
    const all = profile([grant('sampler', { project: null })]);
    expect(unitChoices(all, 'sampler', NOW).map((u) => u.unit.id)).toEqual(['U-1', 'U-2', 'U-9']);
    expect(unitChoices(p, 'witness', NOW)).toEqual([]);
    expect(activeGrants(p, 'sampler', NOW, 'P-2')).toEqual([]);
  });

  it('names for ids', () => {
    const p = profile([]);
    expect(personName(p, 'P-LN')).toBe('李娜');
    expect(personName(p, 'P-ZW')).toBe('张伟');
    expect(personName(p, 'P-?')).toBe('P-?');
    expect(orgName(p, 'ORG-LAB')).toBe('检测中心');
    expect(orgName(p, 'ORG-C')).toBe('施工单位');
    expect(findUnit(p, 'U-9')?.name).toBe('9#楼');
    expect(findUnit(p, null)).toBeNull();
  });
});
