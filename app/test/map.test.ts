import { describe, expect, it } from 'vitest';
import type { Fix, UnitProject } from '../src/api';
import { buildMap, fitProjection, inRing, niceLength, pickUnit, polygonPath, M_PER_E7_LAT } from '../src/logic/map';

const LAT = 406_700_000; // 40.67° N (Yingkou)
const LON = 1_222_300_000;
const square = (lat: number, lon: number, d: number) => [
  { lat_e7: lat, lon_e7: lon },
  { lat_e7: lat, lon_e7: lon + d },
  { lat_e7: lat + d, lon_e7: lon + d },
  { lat_e7: lat + d, lon_e7: lon },
];
const fix = (lat: number, lon: number, acc_cm: number, mock = false): Fix => ({
  pos: { lat_e7: lat, lon_e7: lon }, accuracy_cm: acc_cm, provider: 'gnss', mono_ms: 0, gnss_time_ms: null, satellites: 8, mock,
});
const unit = (id: string, lat: number, lon: number, d: number): UnitProject => ({
  id, project: 'P', name: id, boundary: { exterior: square(lat, lon, d), holes: [] },
});

describe('map projection (lat/lon e7 → SVG)', () => {
  it('puts north up and east right, inside the padding', () => {
    const pts = square(LAT, LON, 10_000); // ~111 m × 84 m
    const p = fitProjection(pts, [], 400, 300, 20);
    const [swX, swY] = p.xy(pts[0]);
    const [neX, neY] = p.xy(pts[2]);
    expect(neX).toBeGreaterThan(swX);
    expect(neY).toBeLessThan(swY);
    for (const q of pts) {
      const [x, y] = p.xy(q);
      expect(x).toBeGreaterThanOrEqual(20 - 1e-6);
      expect(x).toBeLessThanOrEqual(380 + 1e-6);
      expect(y).toBeGreaterThanOrEqual(20 - 1e-6);
      expect(y).toBeLessThanOrEqual(280 + 1e-6);
    }
  });

  it('keeps the same scale on both axes (a metre is a metre)', () => {
    const pts = square(LAT, LON, 10_000);
    const p = fitProjection(pts, [], 400, 300, 20);
    const [x0, y0] = p.xy(pts[0]);
    const [x1] = p.xy(pts[1]);
    const [, y3] = p.xy(pts[3]);
    const eastM = 10_000 * M_PER_E7_LAT * Math.cos((((LAT + 5000) / 1e7) * Math.PI) / 180) // centre latitude;
    const northM = 10_000 * M_PER_E7_LAT;
    expect((x1 - x0) / eastM).toBeCloseTo(p.scale, 6);
    expect((y0 - y3) / northM).toBeCloseTo(p.scale, 6);
    // The taller side (north, ~111 m) fills the height less the padding.
    expect(y0 - y3).toBeCloseTo(260, 3);
  });

  it('centres a single point and scales accuracy circles in metres', () => {
    const m = buildMap(null, [{ key: 'a', tone: 'k-sampling', fixes: [fix(LAT, LON, 500)] }], 360, 260);
    expect(m.points).toHaveLength(1);
    expect(m.points[0].x).toBeCloseTo(180, 6);
    expect(m.points[0].y).toBeCloseTo(130, 6);
    // At least 20 m across, 5 m radius → r = 5 × scale.
    expect(m.points[0].r).toBeCloseTo(5 * m.proj.scale, 6);
    expect(m.boundary).toBeNull();
  });

  it('draws the boundary with holes and fits circles that reach outside it', () => {
    const u = unit('U1', LAT, LON, 5000);
    u.boundary.holes = [square(LAT + 1000, LON + 1000, 1000)];
    const m = buildMap(u, [{ key: 'w', tone: 'k-witnessing', fixes: [fix(LAT + 2500, LON + 2500, 8000)] }], 360, 260);
    expect(m.boundary?.match(/M/g)).toHaveLength(2);
    expect(m.boundary?.match(/Z/g)).toHaveLength(2);
    const p = m.points[0];
    expect(p.y - p.r).toBeGreaterThanOrEqual(16 - 1e-6);
    expect(p.y + p.r).toBeLessThanOrEqual(244 + 1e-6);
  });

  it('polygon paths and empty maps', () => {
    const p = fitProjection([], [], 100, 100);
    expect(p.xy({ lat_e7: 1, lon_e7: 2 })).toEqual([50, 50]);
    expect(polygonPath(p, [])).toBe('');
  });

  it('scale bar lengths are round', () => {
    expect(niceLength(400)).toBe(100);
    expect(niceLength(90)).toBe(20);
    expect(niceLength(30)).toBe(5);
    expect(niceLength(0)).toBe(1);
  });

  it('picks the unit project holding the fixes', () => {
    const a = unit('A', LAT, LON, 1000);
    const b = unit('B', LAT + 5000, LON + 5000, 1000);
    expect(inRing({ lat_e7: LAT + 500, lon_e7: LON + 500 }, a.boundary.exterior)).toBe(true);
    expect(inRing({ lat_e7: LAT + 1500, lon_e7: LON + 500 }, a.boundary.exterior)).toBe(false);
    expect(pickUnit([a, b], [fix(LAT + 5500, LON + 5500, 100)])?.id).toBe('B');
    expect(pickUnit([a, b], [fix(LAT - 100, LON - 100, 100)])?.id).toBe('A');
    expect(pickUnit([a], [])?.id).toBe('A');
    expect(pickUnit([a, b], [])).toBeNull();
    expect(pickUnit([], [fix(LAT, LON, 1)])).toBeNull();
  });
});
