// Which characters a font file has glyphs for, read from its cmap table:
// enough of OpenType and WOFF2 for the bundled UI font's checks
// (app/test/font.test.ts, tests/ui/glyphs.mjs), with no npm package.
// TrueType/OpenType (sfnt) and WOFF2 (Brotli through node:zlib); a font
// collection is refused.

import zlib from 'node:zlib';

const WOFF2_KNOWN_TAGS = [
  'cmap', 'head', 'hhea', 'hmtx', 'maxp', 'name', 'OS/2', 'post', 'cvt ', 'fpgm', 'glyf', 'loca', 'prep', 'CFF ',
  'VORG', 'EBDT', 'EBLC', 'gasp', 'hdmx', 'kern', 'LTSH', 'PCLT', 'VDMX', 'vhea', 'vmtx', 'BASE', 'GDEF', 'GPOS',
  'GSUB', 'EBSC', 'JSTF', 'MATH', 'CBDT', 'CBLC', 'COLR', 'CPAL', 'SVG ', 'sbix', 'acnt', 'avar', 'bdat', 'bloc',
  'bsln', 'cvar', 'fdsc', 'feat', 'fmtx', 'fvar', 'gvar', 'hsty', 'just', 'lcar', 'mort', 'morx', 'opbd', 'prop',
  'trak', 'Zapf', 'Silf', 'Glat', 'Gloc', 'Feat', 'Sill',
];

const tagAt = (b, o) => String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);

/** The bytes of the cmap table of an sfnt (TrueType/OpenType) file. */
function sfntCmap(buf) {
  const numTables = buf.readUInt16BE(4);
  for (let i = 0; i < numTables; i++) {
    const rec = 12 + 16 * i;
    if (tagAt(buf, rec) === 'cmap') {
      const off = buf.readUInt32BE(rec + 8);
      return buf.subarray(off, off + buf.readUInt32BE(rec + 12));
    }
  }
  throw new Error('font has no cmap table');
}

function readBase128(buf, pos) {
  let v = 0;
  for (let i = 0; i < 5; i++) {
    const b = buf[pos.at++];
    if (i === 0 && b === 0x80) throw new Error('WOFF2: UIntBase128 with a leading zero');
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) return v;
  }
  throw new Error('WOFF2: UIntBase128 longer than 5 bytes');
}

/** The bytes of the cmap table of a WOFF2 file (cmap is never transformed). */
function woff2Cmap(buf) {
  if (tagAt(buf, 4) === 'ttcf') throw new Error('WOFF2 font collections are not supported');
  const numTables = buf.readUInt16BE(12);
  const compressed = buf.readUInt32BE(20);
  const pos = { at: 48 };
  const tables = [];
  for (let i = 0; i < numTables; i++) {
    const flags = buf[pos.at++];
    let tag;
    if ((flags & 0x3f) === 0x3f) {
      tag = tagAt(buf, pos.at);
      pos.at += 4;
    } else {
      tag = WOFF2_KNOWN_TAGS[flags & 0x3f];
    }
    const version = flags >> 6;
    const origLength = readBase128(buf, pos);
    // glyf/loca are transformed unless version 3; every other table only when version ≠ 0.
    const transformed = tag === 'glyf' || tag === 'loca' ? version !== 3 : version !== 0;
    const length = transformed ? readBase128(buf, pos) : origLength;
    tables.push({ tag, length });
  }
  const stream = zlib.brotliDecompressSync(buf.subarray(pos.at, pos.at + compressed));
  let off = 0;
  for (const t of tables) {
    if (t.tag === 'cmap') return stream.subarray(off, off + t.length);
    off += t.length;
  }
  throw new Error('font has no cmap table');
}

/** Calls `add(cp)` for every code point a cmap subtable maps to a glyph other than 0 (.notdef). */
function readSubtable(cmap, off, add) {
  const format = cmap.readUInt16BE(off);
  if (format === 4) {
    const segX2 = cmap.readUInt16BE(off + 6);
    const ends = off + 14;
    const starts = ends + segX2 + 2;
    const deltas = starts + segX2;
    const rangeOffsets = deltas + segX2;
    for (let s = 0; s < segX2 / 2; s++) {
      const end = cmap.readUInt16BE(ends + 2 * s);
      const start = cmap.readUInt16BE(starts + 2 * s);
      const delta = cmap.readUInt16BE(deltas + 2 * s);
      const ro = cmap.readUInt16BE(rangeOffsets + 2 * s);
      for (let c = start; c <= end && c !== 0xffff; c++) {
        let g;
        if (ro === 0) {
          g = (c + delta) & 0xffff;
        } else {
          g = cmap.readUInt16BE(rangeOffsets + 2 * s + ro + 2 * (c - start));
          if (g !== 0) g = (g + delta) & 0xffff;
        }
        if (g !== 0) add(c);
      }
    }
  } else if (format === 12) {
    const groups = cmap.readUInt32BE(off + 12);
    for (let i = 0; i < groups; i++) {
      const g = off + 16 + 12 * i;
      const start = cmap.readUInt32BE(g);
      const end = cmap.readUInt32BE(g + 4);
      const glyph = cmap.readUInt32BE(g + 8);
      for (let c = start; c <= end; c++) if (glyph + (c - start) !== 0) add(c);
    }
  } else {
    throw new Error(`cmap subtable format ${format} is not read here`);
  }
}

/** The set of Unicode code points `font` (a Buffer of a .ttf/.otf/.woff2 file) has glyphs for. */
export function fontCodePoints(font) {
  const signature = tagAt(font, 0);
  let cmap;
  if (signature === 'wOF2') cmap = woff2Cmap(font);
  else if (signature === '\0\x01\0\0' || signature === 'OTTO' || signature === 'true') cmap = sfntCmap(font);
  else throw new Error(`not a font file this reads (signature ${JSON.stringify(signature)})`);
  const n = cmap.readUInt16BE(2);
  const unicode = [];
  for (let i = 0; i < n; i++) {
    const platform = cmap.readUInt16BE(4 + 8 * i);
    const encoding = cmap.readUInt16BE(6 + 8 * i);
    const off = cmap.readUInt32BE(8 + 8 * i);
    const format = cmap.readUInt16BE(off);
    // Unicode subtables: platform 0 (any), or Windows BMP (3,1) / full (3,10).
    if ((platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10))) && (format === 4 || format === 12)) {
      unicode.push({ off, format });
    }
  }
  if (unicode.length === 0) throw new Error('font has no Unicode cmap subtable');
  const cps = new Set();
  // Format 12 covers the BMP too; read every Unicode subtable, a union is what the renderer sees.
  for (const t of unicode) readSubtable(cmap, t.off, (c) => cps.add(c));
  return cps;
}
