// R10: the sampler issues the commission form for witnessed specimens,
// then prints or shares its PDF. The witness co-signs it on their phone.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../api';
import type { CmdError, Created, RecordView } from '../api';
import { candidates, defaultWitness, itemsFor, selectable, suggestFormNo, toggle } from '../logic/commission';
import { toCmdError } from '../logic/errors';
import { findUnit, orgName, personName } from '../logic/grants';
import { formatDateTime } from '../logic/format';
import { specimenKey } from '../logic/labels';
import { Done, ErrorBanner, useSigner } from '../ui/feedback';
import { useApp } from '../ui/ctx';

/** Labs assigned to a unit project (R2), with their names. */
export function labsFor(profile: ReturnType<typeof useApp>['profile'], unitProject: string | null): { id: string; name: string }[] {
  if (!profile || !unitProject) return [];
  const out: { id: string; name: string }[] = [];
  for (const pv of profile.projects) {
    for (const a of pv.labs) {
      if (a.unit_project !== unitProject || out.some((x) => x.id === a.lab)) continue;
      out.push({ id: a.lab, name: pv.organisations.find((o) => o.id === a.lab)?.name ?? a.lab });
    }
  }
  return out;
}

export function PdfButton({ record, testid = 'commission-pdf' }: { record: string; testid?: string }) {
  const { t } = useApp();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CmdError | null>(null);
  const open = async () => {
    setBusy(true);
    setError(null);
    try {
      const pdf = await api.commissionPdf(record);
      await api.openFile(pdf.path);
    } catch (e) {
      setError(toCmdError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" class="btn btn-primary btn-big" data-testid={testid} data-record={record} disabled={busy} onClick={() => void open()}>
        {busy ? t('commission.pdfBusy') : t('commission.pdf')}
      </button>
      <ErrorBanner error={error} onClose={() => setError(null)} />
    </>
  );
}

export function CommissionScreen() {
  const { t, profile } = useApp();
  const [history, setHistory] = useState<RecordView[] | null>(null);
  const [loadError, setLoadError] = useState<CmdError | null>(null);
  const [selected, setSelected] = useState<string[]>([]);
  const [lab, setLab] = useState('');
  const [witness, setWitness] = useState('');
  const [formNo, setFormNo] = useState(() => suggestFormNo(new Date()));
  const [created, setCreated] = useState<Created | null>(null);

  useEffect(() => {
    api.history(200).then(setHistory, (e) => setLoadError(toCmdError(e)));
  }, []);
  const all = useMemo(() => candidates(history ?? []), [history]);
  const sel = all.filter((c) => selected.includes(c.sampling.id));
  const unitProject = sel[0]?.unitProject ?? null;
  const labs = labsFor(profile, unitProject);
  const people = (profile?.people ?? []).filter((p) => p.id !== profile?.person.id);

  // Defaults follow the selection: the only lab, the witness who watched.
  useEffect(() => {
    if (!labs.some((l) => l.id === lab)) setLab(labs.length === 1 ? labs[0].id : '');
    const w = defaultWitness(all, selected);
    if (w && !witness) setWitness(w);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selected.join(','), unitProject]);

  const signer = useSigner(
    (confirm) => api.createCommission({ form_no: formNo.trim(), lab, witness, items: itemsFor(all, selected) }, confirm),
    setCreated,
  );

  if (created) {
    return (
      <div class="flow">
        <h1>{t('commission.title')}</h1>
        <Done created={created} title={t('done.commission')} />
        <p class="lead">{t('commission.afterHint', { who: personName(profile, witness) })}</p>
        <PdfButton record={created.id} />
      </div>
    );
  }

  const ready = selected.length > 0 && !!lab && !!witness && formNo.trim() !== '';
  return (
    <div class="flow">
      <h1>{t('commission.title')}</h1>
      <ErrorBanner error={loadError} />
      <section class="card" aria-labelledby="ci-title">
        <h2 id="ci-title">{t('commission.items')}</h2>
        {history !== null && all.length === 0 && <p data-testid="commission-empty">{t('commission.none')}</p>}
        <ul class="list checks">
          {all.map((c) => {
            const checked = selected.includes(c.sampling.id);
            const enabled = checked || selectable(c, sel);
            const id = `ci-${c.sampling.id.slice(0, 12)}`;
            return (
              <li key={c.sampling.id} class={enabled ? '' : 'muted'}>
                <input
                  type="checkbox"
                  id={id}
                  data-testid="commission-item"
                  data-record={c.sampling.id}
                  checked={checked}
                  disabled={!enabled}
                  onChange={() => setSelected(toggle(all, selected, c.sampling.id))}
                />
                <label for={id}>
                  <span class="mono">{c.tagPrinted}</span> · {c.kind ? t(specimenKey(c.kind)) : c.sampling.kind_zh} · {findUnit(profile, c.unitProject)?.name ?? c.unitProject ?? ''}
                  <span class="small">
                    {' '}
                    · {formatDateTime(c.sampling.created_ms, false)} · {t('commission.witnessedBy', { who: personName(profile, c.witnessAuthor) })}
                  </span>
                </label>
              </li>
            );
          })}
        </ul>
        {selected.length > 0 && all.some((c) => !selectable(c, sel)) && <p class="small">{t('commission.oneUnit')}</p>}
      </section>
      <section class="card form" aria-labelledby="cf-title">
        <h2 id="cf-title">{t('commission.formTitle')}</h2>
        <label for="c-lab">{t('commission.lab')}</label>
        <select id="c-lab" data-testid="commission-lab" value={lab} onChange={(e) => setLab((e.target as HTMLSelectElement).value)}>
          <option value="">{unitProject ? t('common.choose') : t('commission.pickFirst')}</option>
          {labs.map((l) => (
            <option key={l.id} value={l.id}>
              {l.name}
            </option>
          ))}
        </select>
        {unitProject && labs.length === 0 && <p class="tone-bad">{t('commission.noLab')}</p>}
        <label for="c-witness">{t('commission.witness')}</label>
        <select id="c-witness" data-testid="commission-witness" value={witness} onChange={(e) => setWitness((e.target as HTMLSelectElement).value)}>
          <option value="">{t('common.choose')}</option>
          {people.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name} · {orgName(profile, p.org)}
            </option>
          ))}
        </select>
        <label for="c-no">{t('commission.formNo')}</label>
        <input id="c-no" data-testid="commission-form-no" value={formNo} onInput={(e) => setFormNo((e.target as HTMLInputElement).value)} />
        {signer.view}
        {!signer.confirming && (
          <button type="button" class="btn btn-primary btn-huge" data-testid="commission-create" disabled={!ready || signer.busy} onClick={signer.sign}>
            {signer.busy ? t('review.signing') : t('commission.create', { n: selected.length })}
          </button>
        )}
      </section>
    </div>
  );
}
