// Samplings waiting for a witness, with countdowns ticking on this phone's
// clock between polls of the engine's anchor-based estimate (R8).
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import type { CmdError, OpenSampling } from '../api';
import { localDeadline } from '../logic/countdown';
import { toCmdError } from '../logic/errors';

export type OpenEntry = OpenSampling & { local: number };

export function useOpenSamplings(pollMs = 5000) {
  const [list, setList] = useState<OpenEntry[] | null>(null);
  const [error, setError] = useState<CmdError | null>(null);
  const reload = useCallback(async () => {
    try {
      const l = await api.openSamplings();
      const at = Date.now();
      setList(l.map((o) => ({ ...o, local: localDeadline(o.remaining_ms, at) })));
      setError(null);
    } catch (e) {
      setError(toCmdError(e));
    }
  }, []);
  useEffect(() => {
    void reload();
    const id = setInterval(() => void reload(), pollMs);
    return () => clearInterval(id);
  }, [reload, pollMs]);
  return { list, error, reload };
}
