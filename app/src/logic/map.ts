// An offline map as inline SVG: the unit project's boundary and the
// records' GPS fixes with accuracy circles. Local equirectangular
// projection (north up, metres), fitted to the view box.
import type { Fix, LatLon, UnitProject } from '../api';

/** Metres per 1e-7 degree of latitude (WGS-84 mean). */
export const M_PER_E7_LAT = 0.011131949;

export interface Projection {
  /** lat/lon e7 → SVG x, y */
  xy(p: LatLon): [number, number];
  /** SVG units per metre. */
  scale: number;
  width: number;
  height: number;
}

interface Circle {
  pos: LatLon;
  radius_m: number;
}

/**
 * A projection fitting every point (and every circle) inside width×height
 * with `pad` units of margin, same scale on both axes, north up.
 */
export function fitProjection(points: LatLon[], circles: Circle[], width: number, height: number, pad = 16): Projection {
  const all = [...points, ...circles.map((c) => c.pos)];
  if (all.length === 0) {
    return { xy: () => [width / 2, height / 2], scale: 1, width, height };
  }
  const lat0 = all.reduce((s, p) => s + p.lat_e7, 0) / all.length;
  const lon0 = all.reduce((s, p) => s + p.lon_e7, 0) / all.length;
  const kx = M_PER_E7_LAT * Math.cos(((lat0 / 1e7) * Math.PI) / 180);
  const ky = M_PER_E7_LAT;
  const local = (p: LatLon): [number, number] => [(p.lon_e7 - lon0) * kx, (p.lat_e7 - lat0) * ky];
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  const grow = (x: number, y: number, r: number) => {
    minX = Math.min(minX, x - r); maxX = Math.max(maxX, x + r);
    minY = Math.min(minY, y - r); maxY = Math.max(maxY, y + r);
  };
  for (const p of points) grow(...local(p), 0);
  for (const c of circles) grow(...local(c.pos), Math.max(0, c.radius_m));
  // At least 20 m across so a single fix does not fill the screen.
  const spanX = Math.max(maxX - minX, 20);
  const spanY = Math.max(maxY - minY, 20);
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  const scale = Math.min((width - 2 * pad) / spanX, (height - 2 * pad) / spanY);
  return {
    xy: (p) => {
      const [x, y] = local(p);
      return [width / 2 + (x - cx) * scale, height / 2 - (y - cy) * scale];
    },
    scale,
    width,
    height,
  };
}

/** An SVG path for a polygon with holes (fill-rule evenodd). */
export function polygonPath(proj: Projection, exterior: LatLon[], holes: LatLon[][] = []): string {
  const ring = (r: LatLon[]) =>
    r.length === 0
      ? ''
      : r.map((p, i) => {
          const [x, y] = proj.xy(p);
          return `${i === 0 ? 'M' : 'L'}${x.toFixed(1)} ${y.toFixed(1)}`;
        }).join(' ') + ' Z';
  return [ring(exterior), ...holes.map(ring)].filter(Boolean).join(' ');
}

/** A round length for the scale bar, about a quarter of the width. */
export function niceLength(metresAcross: number): number {
  const target = metresAcross / 4;
  if (target <= 0 || !Number.isFinite(target)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(target)));
  for (const m of [5, 2, 1]) if (m * p <= target) return m * p;
  return p;
}

export interface MapLayer {
  key: string;
  /** CSS class of the layer (colour by record kind). */
  tone: string;
  fixes: Fix[];
}

export interface MapModel {
  proj: Projection;
  boundary: string | null;
  points: { key: string; tone: string; x: number; y: number; r: number; mock: boolean }[];
  scaleBar: { metres: number; length: number };
}

export function buildMap(unit: UnitProject | null, layers: MapLayer[], width: number, height: number): MapModel {
  const boundaryPts = unit ? [...unit.boundary.exterior, ...unit.boundary.holes.flat()] : [];
  const circles = layers.flatMap((l) => l.fixes.map((f) => ({ pos: f.pos, radius_m: f.accuracy_cm / 100 })));
  const proj = fitProjection(boundaryPts, circles, width, height);
  const points = layers.flatMap((l) =>
    l.fixes.map((f, i) => {
      const [x, y] = proj.xy(f.pos);
      return { key: `${l.key}-${i}`, tone: l.tone, x, y, r: Math.max(2, (f.accuracy_cm / 100) * proj.scale), mock: f.mock };
    }),
  );
  const metres = niceLength(width / proj.scale);
  return {
    proj,
    boundary: unit && unit.boundary.exterior.length > 0 ? polygonPath(proj, unit.boundary.exterior, unit.boundary.holes) : null,
    points,
    scaleBar: { metres, length: metres * proj.scale },
  };
}

/** Ray casting: is the point inside the ring? (for choosing the unit project to draw) */
export function inRing(p: LatLon, ring: LatLon[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const a = ring[i], b = ring[j];
    if ((a.lat_e7 > p.lat_e7) !== (b.lat_e7 > p.lat_e7)) {
      const x = ((b.lon_e7 - a.lon_e7) * (p.lat_e7 - a.lat_e7)) / (b.lat_e7 - a.lat_e7) + a.lon_e7;
      if (p.lon_e7 < x) inside = !inside;
    }
  }
  return inside;
}

/**
 * The trail does not name its unit project: draw the one containing most
 * fixes, else the one whose boundary is nearest to them.
 */
export function pickUnit(units: UnitProject[], fixes: Fix[]): UnitProject | null {
  if (units.length === 0) return null;
  if (fixes.length === 0) return units.length === 1 ? units[0] : null;
  let best: UnitProject | null = null;
  let bestScore = -Infinity;
  for (const u of units) {
    const ex = u.boundary.exterior;
    if (ex.length === 0) continue;
    const inside = fixes.filter((f) => inRing(f.pos, ex)).length;
    const c = ex.reduce((s, p) => ({ lat_e7: s.lat_e7 + p.lat_e7 / ex.length, lon_e7: s.lon_e7 + p.lon_e7 / ex.length }), { lat_e7: 0, lon_e7: 0 });
    const d = fixes.reduce((s, f) => s + Math.hypot(f.pos.lat_e7 - c.lat_e7, f.pos.lon_e7 - c.lon_e7), 0) / fixes.length;
    const score = inside * 1e12 - d;
    if (score > bestScore) [best, bestScore] = [u, score];
  }
  return best;
}
