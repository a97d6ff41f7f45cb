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

/** Join class names, skipping empty ones. */
export function classes(...names: Array<string | false | null | undefined>): string {
  return names.filter(Boolean).join(' ');
}
