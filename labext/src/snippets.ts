/**
 * Python snippets the Data Lakes panel inserts into notebooks. Pure
 * functions, so the text is tested without a notebook.
 */
import { ILakeColumn, ILakeTable } from './tokens';

/** Column names that usually hold the label, in order of preference. */
const LABEL_NAMES = [
  'label',
  'target',
  'outcome',
  'malignant',
  'diagnosis',
  'class',
  'y'
];

const NUMERIC_TYPE =
  /^(bool|boolean|byte|tinyint|short|smallint|int|integer|long|bigint|float|real|double|decimal|numeric|number)(\b|\(|\d)/i;

/** A Python string literal for `value`. */
export function pyString(value: string): string {
  // JSON string escapes are valid Python string escapes.
  return JSON.stringify(value);
}

/** Whether a column type (Spark or Arrow spelling) holds numbers. */
export function isNumericType(type: string): boolean {
  return NUMERIC_TYPE.test(type.trim());
}

/**
 * `fed.schema_view("<table>")`: the table's schema across the lakes, shown by
 * this extension's schema renderer (`fed.schema` returns a plain DataFrame).
 */
export function schemaSnippet(table: string): string {
  return `fed.schema_view(${pyString(table)})`;
}

/**
 * The label a plan skeleton proposes: a visible column named like a label
 * (label, target, outcome, malignant...), else the last visible column.
 */
export function chooseLabel(columns: ReadonlyArray<ILakeColumn>): string | null {
  const visible = columns.filter(c => !c.private);
  for (const wanted of LABEL_NAMES) {
    const hit = visible.find(c => c.name.toLowerCase() === wanted);
    if (hit) {
      return hit.name;
    }
  }
  const fuzzy = visible.find(c =>
    LABEL_NAMES.slice(0, 4).some(w => c.name.toLowerCase().includes(w))
  );
  if (fuzzy) {
    return fuzzy.name;
  }
  return visible.length ? visible[visible.length - 1].name : null;
}

/** Kinds a plan takes as features (categorical ones are one-hot encoded in each lake). */
export const FEATURE_KINDS: ReadonlyArray<string> = [
  'numeric',
  'binary',
  'boolean',
  'categorical'
];

/** Whether a plan can take the column as a feature, by its kind (else its type). */
export function isFeatureColumn(column: ILakeColumn): boolean {
  return column.kind ? FEATURE_KINDS.includes(column.kind) : isNumericType(column.type);
}

/**
 * Visible columns other than the label that a plan can take as features:
 * numbers, booleans and categorical columns, never text or dates. When the
 * server names no kinds and no column type is recognised as numeric, every
 * visible column but the label is proposed.
 */
export function chooseFeatures(
  columns: ReadonlyArray<ILakeColumn>,
  label: string | null
): string[] {
  const candidates = columns.filter(c => !c.private && c.name !== label);
  const usable = candidates.filter(isFeatureColumn);
  const kinds = candidates.some(c => c.kind);
  return (usable.length || kinds ? usable : candidates).map(c => c.name);
}

const BOOLEAN_TYPE = /^(bool|boolean)\b/i;

/**
 * Whether a column is known to hold only 0 and 1 (or true/false): the lake
 * publishes it as `binary` or `boolean`, or its type is boolean.
 */
export function isBinaryColumn(column: ILakeColumn): boolean {
  return (
    column.kind === 'binary' ||
    column.kind === 'boolean' ||
    BOOLEAN_TYPE.test(column.type.trim())
  );
}

export type SkeletonFamily =
  'LogisticRegression' | 'SoftmaxRegression' | 'LinearRegression';

/**
 * The plan family a skeleton proposes for `label`: a multi-class classifier
 * for a column with more than two published categories, a binary one for
 * two, a regression for a numeric column not known to be binary, else a
 * binary classifier.
 */
export function chooseFamily(
  columns: ReadonlyArray<ILakeColumn>,
  label: string | null
): SkeletonFamily {
  const column = columns.find(c => c.name === label);
  const categories = column?.categories ?? null;
  if (categories && categories.length > 2) {
    return 'SoftmaxRegression';
  }
  if (categories) {
    return 'LogisticRegression';
  }
  if (column && isNumericType(column.type) && !isBinaryColumn(column)) {
    return 'LinearRegression';
  }
  return 'LogisticRegression';
}

/**
 * A plan skeleton for `table`: `collab.plans.LogisticRegression(...)` for a
 * binary label (or one with two published categories),
 * `collab.plans.SoftmaxRegression(...)` for more categories,
 * `collab.plans.LinearRegression(...)` (solved exactly, so without rounds)
 * for a numeric one.
 */
export function planSkeleton(table: ILakeTable, rounds = 30): string {
  const label = chooseLabel(table.columns);
  const features = chooseFeatures(table.columns, label);
  const family = chooseFamily(table.columns, label);
  const oneLine = `    features=[${features.map(pyString).join(', ')}],`;
  const featureLines =
    oneLine.length <= 88
      ? [oneLine]
      : ['    features=[', ...features.map(f => `        ${pyString(f)},`), '    ],'];
  return [
    `plan = collab.plans.${family}(`,
    `    table=${pyString(table.name)},`,
    ...featureLines,
    `    label=${label === null ? '...' : pyString(label)},`,
    ...(family !== 'LinearRegression' ? [`    rounds=${rounds},`] : []),
    ')'
  ].join('\n');
}
