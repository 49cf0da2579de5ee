// The end-to-end tests drive the real app by these data-testid names.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const REQUIRED = `status-bar status-pending sync-now lang-toggle
enroll-qr-text enroll-submit enroll-scan whoami
home-sample home-witness home-commission home-lab home-history
tag-manual-input tag-manual-submit tag-scanned torch-toggle camera-preview
specimen-kind specimen-part specimen-grade specimen-batch specimen-quantity specimen-unit specimen-tests unit-project specimen-next
plan-items plan-item plan-outside plan-outside-note review-plan
face-status face-capture face-result
gps-collect gps-result gps-next
photo-capture photo-count photos-next
review-sign confirm-warnings warnings
countdown handshake-qr handshake-text
witness-list witness-item handshake-paste handshake-submit signature-pad signature-clear signature-done witness-sign
commission-item commission-lab commission-witness commission-form-no commission-create commission-pdf cosign
lab-scan-input lab-verdict lab-check lab-accept lab-reject-reason lab-reject-note lab-reject lab-map
history-list history-item record-detail
error done`.split(/\s+/);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : f.endsWith('.tsx') ? [p] : [];
  });
}
const src = files(join(__dirname, '..', 'src')).map((f) => readFileSync(f, 'utf8')).join('\n');
const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
// data-testid="x", and ids handed to components as testid="x" / testid = 'x'.
const used = new Set(
  [...src.matchAll(/\b(?:data-)?testid\s*=\s*["{']+([a-z0-9-]+)/g)].map((m) => m[1]).filter((id) => !['a', 'props', 'testid'].includes(id)),
);
for (const m of src.matchAll(/\bid: '(home-[a-z]+)'/g)) used.add(m[1]);

describe('data-testid contract', () => {
  it('every required test id is in the components', () => {
    expect(REQUIRED.filter((id) => !used.has(id))).toEqual([]);
  });
  it('items carry their attributes', () => {
    expect(src).toMatch(/data-testid="witness-item"[^>]*data-record=/);
    expect(src).toMatch(/data-testid="history-item"[^>]*data-record=[^>]*data-state=/s);
    expect(src).toMatch(/data-testid="commission-item"[^>]*data-record=/s);
    expect(src).toMatch(/data-testid="lab-verdict" data-ok=/);
    expect(src).toMatch(/data-testid="lab-check" data-name=\{c.name\} data-ok=/);
    expect(src).toMatch(/data-testid="error" data-code=\{error.code\}/);
    expect(src).toMatch(/data-testid="done" data-record=\{created.id\}/);
  });
  it('README lists every test id used', () => {
    expect([...used].filter((id) => !readme.includes(`\`${id}\``))).toEqual([]);
  });
});
