import { describe, expect, it } from 'vitest';
import { WedgeBuffer, isBurst, normaliseTyped } from '../src/logic/wedge';

function type(buf: WedgeBuffer, text: string, start: number, gap: number) {
  let t = start;
  for (const ch of text) {
    expect(buf.key(ch, t)).toBeNull();
    t += gap;
  }
  return t;
}

describe('keyboard-wedge scanner input', () => {
  it('a fast burst ending in Enter is a scanner read', () => {
    const b = new WedgeBuffer();
    const t = type(b, '310261000000012345', 1000, 8);
    expect(b.key('Enter', t)).toEqual({ text: '310261000000012345', scanner: true });
    expect(b.text).toBe('');
  });

  it('slow typing ending in Enter is manual entry', () => {
    const b = new WedgeBuffer();
    const t = type(b, '310261000000012345', 1000, 180);
    expect(b.key('Enter', t)).toEqual({ text: '310261000000012345', scanner: false });
  });

  it('modifier keys are ignored, Tab also ends a read', () => {
    const b = new WedgeBuffer();
    b.key('Shift', 0);
    const t = type(b, 'ABCDEFGH12', 1, 5);
    b.key('Control', t);
    expect(b.key('Tab', t + 1)).toEqual({ text: 'ABCDEFGH12', scanner: true });
  });

  it('a short burst is not a scanner', () => {
    const b = new WedgeBuffer();
    const t = type(b, '123', 0, 5);
    expect(b.key('Enter', t)).toEqual({ text: '123', scanner: false });
  });

  it('a correction (Backspace) makes it typed', () => {
    const b = new WedgeBuffer();
    let t = type(b, '3102610000000123456', 0, 5);
    b.key('Backspace', t++);
    expect(b.text).toBe('310261000000012345');
    expect(b.key('Enter', t)).toEqual({ text: '310261000000012345', scanner: false });
  });

  it('pasted text counts as typed; Escape clears; empty Enter gives nothing', () => {
    const b = new WedgeBuffer();
    b.paste('310261000000012345');
    expect(b.key('Enter', 0)).toEqual({ text: '310261000000012345', scanner: false });
    type(b, 'abc', 0, 5);
    b.key('Escape', 20);
    expect(b.key('Enter', 30)).toBeNull();
  });

  it('two reads in a row are independent', () => {
    const b = new WedgeBuffer();
    let t = type(b, '111111111111111111', 0, 4);
    expect(b.key('Enter', t)?.scanner).toBe(true);
    t = type(b, '222222222222222222', t + 2000, 4);
    expect(b.key('Enter', t)).toEqual({ text: '222222222222222222', scanner: true });
  });

  it('sync with the input value (mobile keyboards) marks it typed', () => {
    const b = new WedgeBuffer();
    b.sync('12345678901');
    expect(b.key('Enter', 0)).toEqual({ text: '12345678901', scanner: false });
  });

  it('isBurst and normaliseTyped', () => {
    expect(isBurst([0, 10, 20, 30])).toBe(true);
    expect(isBurst([0, 100, 200])).toBe(false);
    expect(isBurst([0])).toBe(false);
    expect(isBurst([0, Number.NaN])).toBe(false);
    expect(normaliseTyped(' 310 261-0000 ００１２ ')).toBe('31026100000012');
  });
});
