// What the profile says the person may do (R1). Used to hide or disable
// actions; Rust still refuses on its own and its errors are shown.
import type { GrantView, PersonRole, Profile, UnitProject } from '../api';

export type GrantState = 'active' | 'revoked' | 'expired' | 'not_yet';

export function grantState(g: GrantView, now: number): GrantState {
  if (g.revoked_at_ms !== null && g.revoked_at_ms <= now) return 'revoked';
  if (g.valid_from_ms > now) return 'not_yet';
  if (g.valid_until_ms !== null && g.valid_until_ms <= now) return 'expired';
  return 'active';
}

/** Active grants for a role (optionally for one project; a grant without project covers all). */
export function activeGrants(p: Profile | null, role: PersonRole, now: number, project?: string): GrantView[] {
  if (!p || p.device_revoked_ms !== null) return [];
  return p.grants.filter(
    (g) =>
      g.role === role &&
      grantState(g, now) === 'active' &&
      (project === undefined || g.project === null || g.project === project),
  );
}

export function canAct(p: Profile | null, role: PersonRole, now: number): boolean {
  return activeGrants(p, role, now).length > 0;
}

export interface UnitChoice {
  unit: UnitProject;
  projectName: string;
}

/** Unit projects where the person holds an active grant for the role. */
export function unitChoices(p: Profile | null, role: PersonRole, now: number): UnitChoice[] {
  if (!p) return [];
  const out: UnitChoice[] = [];
  for (const pv of p.projects) {
    if (activeGrants(p, role, now, pv.project.id).length === 0) continue;
    for (const u of pv.unit_projects) out.push({ unit: u, projectName: pv.project.name });
  }
  return out;
}

export function findUnit(p: Profile | null, unitId: string | null): UnitProject | null {
  if (!p || !unitId) return null;
  for (const pv of p.projects) for (const u of pv.unit_projects) if (u.id === unitId) return u;
  return null;
}

export function personName(p: Profile | null, id: string): string {
  if (!p) return id;
  if (p.person.id === id) return p.person.name;
  return p.people.find((x) => x.id === id)?.name ?? id;
}

export function orgName(p: Profile | null, id: string): string {
  if (!p) return id;
  if (p.org.id === id) return p.org.name;
  for (const pv of p.projects) {
    const o = pv.organisations.find((x) => x.id === id);
    if (o) return o.name;
  }
  return id;
}
