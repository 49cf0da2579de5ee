import { describe, expect, it } from 'vitest';
import { FRAME_HEADER, fitFrame, nextDelay, packFrame } from '../src/logic/frame';

describe('RGBA frame packing for cameraPush', () => {
  it('writes width and height as 4-byte little-endian, then the pixels', () => {
    const w = 3, h = 2;
    const rgba = new Uint8ClampedArray(w * h * 4).map((_, i) => i);
    const out = packFrame(rgba, w, h);
    expect(out.length).toBe(FRAME_HEADER + 24);
    expect(Array.from(out.slice(0, 8))).toEqual([3, 0, 0, 0, 2, 0, 0, 0]);
    expect(Array.from(out.slice(8))).toEqual(Array.from(rgba));
  });
  it('encodes sizes above 255 little-endian', () => {
    const out = packFrame(new Uint8Array(640 * 480 * 4), 640, 480);
    expect(Array.from(out.slice(0, 8))).toEqual([0x80, 0x02, 0, 0, 0xe0, 0x01, 0, 0]);
    const v = new DataView(out.buffer);
    expect(v.getUint32(0, true)).toBe(640);
    expect(v.getUint32(4, true)).toBe(480);
  });
  it('refuses a buffer of the wrong size', () => {
    expect(() => packFrame(new Uint8Array(10), 2, 2)).toThrow();
    expect(() => packFrame(new Uint8Array(0), 0, 0)).toThrow();
  });
  it('fits frames to a modest size keeping the aspect', () => {
    expect(fitFrame(1280, 720)).toEqual({ width: 640, height: 360 });
    expect(fitFrame(1920, 1440)).toEqual({ width: 640, height: 480 });
    expect(fitFrame(720, 1280)).toEqual({ width: 270, height: 480 });
    expect(fitFrame(320, 240)).toEqual({ width: 320, height: 240 });
  });
  it('paces frames at about the target rate', () => {
    expect(nextDelay(0, 8)).toBe(125);
    expect(nextDelay(100, 8)).toBe(25);
    expect(nextDelay(400, 8)).toBe(0);
  });
});
