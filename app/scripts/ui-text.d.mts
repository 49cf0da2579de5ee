// Types of ui-text.mjs (plain JavaScript, so that scripts/ui-font and the
// e2e run it with node alone).
export const TS_SOURCES: string[];
export const TS_EXCLUDED: string[];
export const RUST_SOURCES: string[];
export const RUST_EXCLUDED: string[];
export const DEMO_DATA: string[];
export const CJK_RANGES: [number, number][];
export function isCjk(cp: number): boolean;
export function cjkCodePoints(texts: Iterable<string>): number[];
export function tsLiterals(fileName: string, text: string): Promise<string[]>;
export function rustLiterals(text: string): string[];
export function appText(root: string): Promise<{ texts: string[]; files: string[] }>;
export function appCjk(root: string): Promise<number[]>;
export function demoCjk(root: string): number[];
