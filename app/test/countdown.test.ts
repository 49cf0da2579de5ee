import { describe, expect, it } from 'vitest';
import { formatCountdown, fractionLeft, localDeadline, urgency } from '../src/logic/countdown';

const MIN = 60_000;

describe('countdown formatting', () => {
  it('shows mm:ss, rounding remaining time up', () => {
    expect(formatCountdown(20 * MIN)).toBe('20:00');
    expect(formatCountdown(20 * MIN - 1)).toBe('20:00');
    expect(formatCountdown(19 * MIN + 59_000)).toBe('19:59');
    expect(formatCountdown(61_000)).toBe('01:01');
    expect(formatCountdown(500)).toBe('00:01');
    expect(formatCountdown(0)).toBe('00:00');
  });
  it('shows how late, rounding down', () => {
    expect(formatCountdown(-500)).toBe('00:00');
    expect(formatCountdown(-61_500)).toBe('01:01');
  });
  it('adds hours for long windows', () => {
    expect(formatCountdown(3 * 3600_000 + 5 * MIN + 7000)).toBe('3:05:07');
  });
});

describe('colour thresholds follow the policy window (not a fixed 20 minutes)', () => {
  it('20-minute window', () => {
    const w = 20 * MIN;
    expect(urgency(20 * MIN, w)).toBe('ok');
    expect(urgency(10 * MIN + 1, w)).toBe('ok');
    expect(urgency(10 * MIN, w)).toBe('warn');
    expect(urgency(5 * MIN + 1, w)).toBe('warn');
    expect(urgency(5 * MIN, w)).toBe('urgent');
    expect(urgency(1, w)).toBe('urgent');
    expect(urgency(0, w)).toBe('late');
    expect(urgency(-1, w)).toBe('late');
  });
  it('a 60-minute window scales the thresholds', () => {
    expect(urgency(20 * MIN, 60 * MIN)).toBe('warn');
    expect(urgency(31 * MIN, 60 * MIN)).toBe('ok');
    expect(urgency(14 * MIN, 60 * MIN)).toBe('urgent');
  });
  it('progress fraction is clamped', () => {
    expect(fractionLeft(10 * MIN, 20 * MIN)).toBe(0.5);
    expect(fractionLeft(-5, 20 * MIN)).toBe(0);
    expect(fractionLeft(30 * MIN, 20 * MIN)).toBe(1);
    expect(fractionLeft(5, 0)).toBe(0);
  });
  it('ticks on a local deadline from the engine’s remaining time', () => {
    const d = localDeadline(90_000, 1_000_000);
    expect(d - 1_030_000).toBe(60_000);
  });
});
