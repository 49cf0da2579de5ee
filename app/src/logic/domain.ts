// Values recorded in the specimen itself, as printed on Chinese forms
// (Specimen.unit is data, not UI text: it is the same in either language).
import type { SpecimenKind } from '../api';

export const UNITS = ['组', '根', '个', '块', '卷', '袋', 'kg', 't', 'm²'] as const;

/** The usual unit for a specimen kind. */
export const DEFAULT_UNIT: Record<SpecimenKind, string> = {
  concrete_cube: '组',
  mortar_cube: '组',
  rebar: '根',
  rebar_coupler: '个',
  rebar_weld: '个',
  waterproofing: '卷',
  masonry: '块',
  cement: '袋',
  other: '组',
};
