/** Small formatting helpers shared by the views. */

/** A number for people: at most `digits` significant digits, no exponent noise. */
export function formatNumber(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || Number.isNaN(value)) {
    return '–';
  }
  if (!Number.isFinite(value)) {
    return value > 0 ? '∞' : '−∞';
  }
  if (value !== 0 && (Math.abs(value) >= 1e6 || Math.abs(value) < 1e-3)) {
    return Number(value.toPrecision(digits)).toExponential();
  }
  return String(Number(value.toPrecision(digits)));
}

/** A CSS-class-safe slug of a state name ("waiting for approval" → "waiting-for-approval"). */
export function slug(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/** Categories listed in a cell before "+N more". */
export const CATEGORIES_SHOWN = 8;

/**
 * A column's categories on one line: the first `shown`, then "+N more"
 * ("F, M"; "a, b, c, d, e, f, g, h +4 more"); empty for none.
 */
export function categoriesText(
  categories: ReadonlyArray<unknown> | null | undefined,
  shown = CATEGORIES_SHOWN
): string {
  if (!Array.isArray(categories) || categories.length === 0) {
    return '';
  }
  const values = categories.map(c => String(c));
  if (values.length <= shown) {
    return values.join(', ');
  }
  return `${values.slice(0, shown).join(', ')} +${values.length - shown} more`;
}

/** Join class names, skipping empty ones. */
export function classes(...names: Array<string | false | null | undefined>): string {
  return names.filter(Boolean).join(' ');
}

/** Names people read for metrics a history may carry; others are capitalised. */
const METRIC_TITLES: { [name: string]: string } = {
  r2: 'R²',
  rmse: 'RMSE',
  mae: 'MAE',
  mse: 'MSE',
  auc: 'AUC'
};

/** "accuracy" → "Accuracy", "r2" → "R²", "log_loss" → "Log loss". */
export function metricTitle(name: string): string {
  const known = METRIC_TITLES[name.toLowerCase()];
  if (known) {
    return known;
  }
  return settingTitle(name);
}

/** "local_epochs" → "Local epochs". */
export function settingTitle(name: string): string {
  const words = name.replace(/[_-]+/g, ' ').trim();
  return words ? words[0].toUpperCase() + words.slice(1) : name;
}

/**
 * Any JSON value for people: numbers through `formatNumber`, lists joined by
 * commas, booleans as yes/no, `null` as `None` (as the plan's Python spells it).
 */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) {
    return 'None';
  }
  if (typeof value === 'number') {
    return formatNumber(value);
  }
  if (typeof value === 'boolean') {
    return value ? 'yes' : 'no';
  }
  if (Array.isArray(value)) {
    return value
      .map(v => (Array.isArray(v) ? `[${formatValue(v)}]` : formatValue(v)))
      .join(', ');
  }
  if (typeof value === 'object') {
    return JSON.stringify(value);
  }
  return String(value);
}
