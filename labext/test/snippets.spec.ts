import {
  chooseFeatures,
  chooseLabel,
  isNumericType,
  planSkeleton,
  schemaSnippet
} from '../src/snippets';
import { ILakeColumn, ILakeTable } from '../src/tokens';
import { lakes } from './fixtures';

const patients = lakes[0].tables[0];

describe('schemaSnippet', () => {
  it('calls fed.schema_view with the table name', () => {
    expect(schemaSnippet('patients')).toBe('fed.schema_view("patients")');
  });

  it('quotes names safely', () => {
    expect(schemaSnippet('a"b\\c')).toBe('fed.schema_view("a\\"b\\\\c")');
  });
});

describe('chooseLabel', () => {
  it('prefers a column named like a label', () => {
    expect(chooseLabel(patients.columns)).toBe('malignant');
  });

  it('falls back to the last visible column', () => {
    const columns: ILakeColumn[] = [
      { name: 'a', type: 'double', private: false },
      { name: 'b', type: 'double', private: false },
      { name: 'secret', type: 'double', private: true }
    ];
    expect(chooseLabel(columns)).toBe('b');
  });

  it('never proposes a private column', () => {
    const columns: ILakeColumn[] = [
      { name: 'x', type: 'double', private: false },
      { name: 'target', type: 'double', private: true }
    ];
    expect(chooseLabel(columns)).toBe('x');
  });
});

describe('chooseFeatures', () => {
  it('keeps visible numeric columns other than the label', () => {
    expect(chooseFeatures(patients.columns, 'malignant')).toEqual([
      'radius',
      'texture'
    ]);
  });

  it('recognises Spark and Arrow numeric types', () => {
    for (const type of [
      'double',
      'int',
      'bigint',
      'float64',
      'decimal(10,2)',
      'int32'
    ]) {
      expect(isNumericType(type)).toBe(true);
    }
    for (const type of ['string', 'date', 'timestamp', 'binary']) {
      expect(isNumericType(type)).toBe(false);
    }
  });
});

describe('planSkeleton', () => {
  it('writes a LogisticRegression plan for the table', () => {
    expect(planSkeleton(patients)).toBe(
      [
        'plan = collab.plans.LogisticRegression(',
        '    table="patients",',
        '    features=["radius", "texture"],',
        '    label="malignant",',
        '    rounds=30,',
        ')'
      ].join('\n')
    );
  });

  it('puts one feature a line when the list is long', () => {
    const table: ILakeTable = {
      name: 'wide',
      rows: 'about 1000',
      columns: Array.from({ length: 12 }, (_, i) => ({
        name: `feature_number_${i}`,
        type: 'double',
        private: false
      }))
    };
    const text = planSkeleton(table);
    expect(text).toContain('    features=[\n        "feature_number_0",\n');
    expect(text).toContain('    label="feature_number_11",');
  });

  it('leaves the label to fill in when no column is visible', () => {
    const table: ILakeTable = {
      name: 'closed',
      rows: 'about 10',
      columns: [{ name: 'x', type: 'double', private: true }]
    };
    expect(planSkeleton(table)).toContain('    features=[],\n    label=...,');
  });
});
