// Types of font-cmap.mjs (plain JavaScript, so that the e2e runs it with node alone).
export function fontCodePoints(font: Buffer): Set<number>;
