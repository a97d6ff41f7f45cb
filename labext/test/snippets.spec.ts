import {
  chooseFamily,
  chooseFeatures,
  chooseLabel,
  isBinaryColumn,
  isNumericType,
  planSkeleton,
  schemaSnippet
} from '../src/snippets';
import { ILakeColumn, ILakeTable } from '../src/tokens';
import { admissionsTable, lakes } from './fixtures';

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
    expect(text).toMatch(/^plan = collab\.plans\.LinearRegression\(/); // a double label
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

describe('chooseFamily', () => {
  const column = (name: string, type: string, kind?: string): ILakeColumn => ({
    name,
    type,
    private: false,
    kind
  });

  it('knows a binary column by its published kind or a boolean type', () => {
    expect(isBinaryColumn(column('y', 'int', 'binary'))).toBe(true);
    expect(isBinaryColumn(column('y', 'boolean'))).toBe(true);
    expect(isBinaryColumn(column('y', 'int', 'numeric'))).toBe(false);
    expect(isBinaryColumn(column('y', 'int'))).toBe(false);
  });

  it('proposes a classifier for a binary label and a regression for a number', () => {
    const columns = [
      column('x', 'double', 'numeric'),
      column('sick', 'int', 'binary'),
      column('cost', 'double', 'numeric'),
      column('days', 'bigint'),
      column('ward', 'string', 'text')
    ];
    expect(chooseFamily(columns, 'sick')).toBe('LogisticRegression');
    expect(chooseFamily(columns, 'cost')).toBe('LinearRegression');
    expect(chooseFamily(columns, 'days')).toBe('LinearRegression'); // not known binary
    expect(chooseFamily(columns, 'ward')).toBe('LogisticRegression'); // not a number
    expect(chooseFamily(columns, null)).toBe('LogisticRegression');
  });
});

describe('plan skeletons over categorical columns', () => {
  it('proposes numbers, booleans and categorical columns, never text or dates', () => {
    expect(chooseFeatures(admissionsTable.columns, 'species')).toEqual([
      'age',
      'ward',
      'diagnosis',
      'smoker'
    ]);
  });

  it('proposes a classifier by the number of published categories', () => {
    const columns = admissionsTable.columns;
    expect(chooseFamily(columns, 'species')).toBe('SoftmaxRegression'); // three
    const two = columns.map(c =>
      c.name === 'species' ? { ...c, categories: ['Adelie', 'Gentoo'] } : c
    );
    expect(chooseFamily(two, 'species')).toBe('LogisticRegression');
    expect(chooseFamily(columns, 'smoker')).toBe('LogisticRegression'); // boolean
    // (a column named like a label, such as "diagnosis", would be proposed first)
    const penguins = {
      name: 'penguins',
      rows: 'at least 300',
      columns: columns.filter(c => c.name !== 'diagnosis')
    };
    expect(planSkeleton(penguins, 20)).toBe(
      [
        'plan = collab.plans.SoftmaxRegression(',
        '    table="penguins",',
        '    features=["age", "ward", "smoker"],',
        '    label="species",',
        '    rounds=20,',
        ')'
      ].join('\n')
    );
  });
});

describe('planSkeleton for a numeric label', () => {
  it('writes a LinearRegression plan, solved without rounds', () => {
    const table: ILakeTable = {
      name: 'stays',
      rows: 'about 500',
      columns: [
        { name: 'patient_id', type: 'string', private: true, kind: 'text' },
        { name: 'age', type: 'int', private: false, kind: 'numeric' },
        { name: 'weight', type: 'double', private: false, kind: 'numeric' },
        { name: 'target', type: 'double', private: false, kind: 'numeric' }
      ]
    };
    expect(planSkeleton(table)).toBe(
      [
        'plan = collab.plans.LinearRegression(',
        '    table="stays",',
        '    features=["age", "weight"],',
        '    label="target",',
        ')'
      ].join('\n')
    );
  });

  it('keeps LogisticRegression for an integer label the lake publishes as binary', () => {
    const table: ILakeTable = {
      name: 'patients',
      rows: 'about 300',
      columns: [
        { name: 'mean_radius', type: 'double', private: false, kind: 'numeric' },
        { name: 'malignant', type: 'int', private: false, kind: 'binary' }
      ]
    };
    expect(planSkeleton(table)).toMatch(
      /^plan = collab\.plans\.LogisticRegression\([\s\S]*label="malignant",\n    rounds=30,\n\)$/
    );
  });
});
