import { act } from 'react';

import { Widget } from '@lumino/widgets';

import { CollabRenderer, rendererFactory } from '../src/renderers';
import { MIME } from '../src/tokens';
import * as fixtures from './fixtures';
import { click, mimeModel, texts, typeInto } from './helpers';

async function render(mimeType: string, payload: unknown): Promise<CollabRenderer> {
  const renderer = rendererFactory.createRenderer({
    mimeType
  } as any) as CollabRenderer;
  Widget.attach(renderer, document.body);
  await act(() => renderer.renderModel(mimeModel(mimeType, payload)));
  return renderer;
}

const shown: CollabRenderer[] = [];
async function rendered(mimeType: string, payload: unknown): Promise<HTMLElement> {
  const renderer = await render(mimeType, payload);
  shown.push(renderer);
  return renderer.node;
}

afterEach(() => {
  for (const renderer of shown.splice(0)) {
    Widget.detach(renderer);
    renderer.dispose();
  }
});

describe('rendererFactory', () => {
  it('claims the four collab MIME types and is safe for untrusted output', () => {
    expect(rendererFactory.mimeTypes).toEqual([
      'application/vnd.collab.schema+json',
      'application/vnd.collab.plan+json',
      'application/vnd.collab.job+json',
      'application/vnd.collab.model+json'
    ]);
    expect(rendererFactory.safe).toBe(true);
    // Preferred over the text/html fallback (rank 50) in the same bundle.
    expect(rendererFactory.defaultRank).toBeLessThan(50);
  });
});

describe('schema renderer', () => {
  it('shows the table, its lakes and every column', async () => {
    const node = await rendered(MIME.schema, fixtures.schema);
    expect(node.textContent).toContain('patients');
    expect(texts(node, 'th')).toEqual(
      expect.arrayContaining([
        expect.stringContaining('st-mary'),
        expect.stringContaining('st-jude')
      ])
    );
    expect(texts(node, 'tbody tr td.jp-collab-column-name code')).toEqual([
      'radius',
      'texture',
      'age',
      'patient_name',
      'malignant'
    ]);
  });

  it('marks columns that are missing or differ in a lake', async () => {
    const node = await rendered(MIME.schema, fixtures.schema);
    const rows = Array.from(node.querySelectorAll('tbody tr.jp-collab-mismatch'));
    expect(rows.map(r => r.getAttribute('data-column'))).toEqual(['texture', 'age']);
    const cells = texts(node, 'td.jp-collab-mismatch');
    expect(cells).toEqual(['missing', '≠ bigint']);
  });

  it('badges private columns', async () => {
    const node = await rendered(MIME.schema, fixtures.schema);
    const badges = Array.from(node.querySelectorAll('.jp-collab-badge-private'));
    expect(badges).toHaveLength(1);
    expect(badges[0].closest('tr')?.getAttribute('data-column')).toBe('patient_name');
  });

  it('never injects HTML from the payload', async () => {
    const node = await rendered(MIME.schema, fixtures.schema);
    expect(node.querySelector('b')).toBeNull();
    expect(node.textContent).toContain('<b>never</b> shown');
  });

  it('sorts by a header and reverses on a second click', async () => {
    const node = await rendered(MIME.schema, fixtures.schema);
    const names = () => texts(node, 'tbody td.jp-collab-column-name code');
    const header = (label: string) =>
      Array.from(node.querySelectorAll('th button')).find(b =>
        b.textContent?.startsWith(label)
      )!;

    click(header('Column'));
    expect(names()).toEqual(['age', 'malignant', 'patient_name', 'radius', 'texture']);
    expect(header('Column').closest('th')?.getAttribute('aria-sort')).toBe('ascending');

    click(header('Column'));
    expect(names()).toEqual(['texture', 'radius', 'patient_name', 'malignant', 'age']);
    expect(header('Column').closest('th')?.getAttribute('aria-sort')).toBe(
      'descending'
    );

    // By presence in st-jude: ok first, then differs, then missing.
    click(header('st-jude'));
    expect(names()).toEqual(['radius', 'patient_name', 'malignant', 'age', 'texture']);
  });

  it('filters columns by the text box', async () => {
    const node = await rendered(MIME.schema, fixtures.schema);
    const input = node.querySelector('input.jp-collab-filter');
    typeInto(input, 'RAD');
    expect(texts(node, 'tbody td.jp-collab-column-name code')).toEqual(['radius']);
    expect(node.textContent).toContain('1 of 5');

    typeInto(input, 'private');
    expect(texts(node, 'tbody td.jp-collab-column-name code')).toEqual([
      'patient_name'
    ]);

    typeInto(input, 'zzz');
    expect(texts(node, 'tbody td.jp-collab-column-name')).toEqual([]);
    expect(node.textContent).toContain('No column matches');

    typeInto(input, '');
    expect(texts(node, 'tbody td.jp-collab-column-name code')).toHaveLength(5);
  });
});

describe('schema renderer with categorical columns', () => {
  const cell = (node: HTMLElement, column: string) =>
    node.querySelector(`tbody tr[data-column="${column}"] .jp-collab-kind-cell`)!;

  it("shows each column's kind and its published categories", async () => {
    const node = await rendered(MIME.schema, fixtures.admissions);
    expect(cell(node, 'ward').querySelector('.jp-collab-kind')?.textContent).toBe(
      'categorical'
    );
    expect(cell(node, 'ward').querySelector('.jp-collab-categories')?.textContent).toBe(
      'cardio, neuro, ortho, onco'
    );
    expect(cell(node, 'species').textContent).toBe(
      'categoricalAdelie, Chinstrap, Gentoo'
    );
    expect(
      cell(node, 'diagnosis').querySelector('.jp-collab-categories')?.textContent
    ).toBe('D1, D2, D3, D4, D5, D6, D7, D8 +4 more');
    expect(cell(node, 'smoker').textContent).toBe('boolean');
    expect(cell(node, 'admitted').textContent).toBe('date');
  });

  it('marks a lake that publishes other categories', async () => {
    const node = await rendered(MIME.schema, fixtures.admissions);
    const rows = Array.from(node.querySelectorAll('tbody tr.jp-collab-mismatch'));
    expect(rows.map(r => r.getAttribute('data-column'))).toEqual(['ward']);
    expect(texts(node, 'td.jp-collab-mismatch')).toEqual(['≠ categories']);
  });

  it('finds a column by one of its categories', async () => {
    const node = await rendered(MIME.schema, fixtures.admissions);
    typeInto(node.querySelector('input.jp-collab-filter'), 'gentoo');
    expect(texts(node, 'tbody td.jp-collab-column-name code')).toEqual(['species']);
  });
});

describe('plan renderer', () => {
  it('summarises the plan', async () => {
    const node = await rendered(MIME.plan, fixtures.plan);
    const text = node.textContent ?? '';
    expect(text).toContain('Logistic regression');
    expect(text).toContain('patients');
    expect(text).toContain('malignant');
    expect(texts(node, '.jp-collab-feature')).toEqual(['radius', 'texture', 'age']);
    expect(node.querySelector('.jp-collab-subtitle')?.textContent).toBe(
      'classification · 30 rounds'
    );
    expect(text).toContain('ε = 1, δ = 1e-5, clip 1');
    expect(node.querySelector('.jp-collab-feature-list')?.textContent).toBe(
      'radius, texture, age'
    );
    expect(text).toContain('ab12cd34ef56');
  });

  it("lists the family's own settings from the payload, in order", async () => {
    const node = await rendered(MIME.plan, fixtures.plan);
    expect(texts(node, '.jp-collab-setting-name')).toEqual([
      'Rounds',
      'Local epochs',
      'Learning rate',
      'Batch size',
      'L2',
      'Server optimizer',
      'Server learning rate'
    ]);
    expect(texts(node, '.jp-collab-setting')).toEqual([
      '30',
      '1',
      '0.5',
      'full batch',
      '0',
      'sgd',
      'None'
    ]);
    expect(node.querySelector('.jp-collab-metric-list')?.textContent).toBe(
      'Loss, Accuracy'
    );
    expect(node.querySelector('.jp-collab-primary')?.textContent).toBe('Accuracy');
  });

  it('shows a regression plan with its own settings and metrics', async () => {
    const node = await rendered(MIME.plan, fixtures.regressionPlan);
    expect(node.querySelector('.jp-collab-title')?.textContent).toBe(
      'Plan: Linear regression'
    );
    expect(node.querySelector('.jp-collab-subtitle')?.textContent).toBe(
      'regression · 1 round'
    );
    const setting = (name: string) =>
      node.querySelector(`[data-setting="${name}"]`)?.textContent;
    expect(setting('alpha')).toBe('0.5');
    expect(setting('solver')).toBe('auto');
    expect(node.querySelector('.jp-collab-metric-list')?.textContent).toBe(
      'Loss, RMSE, R²'
    );
    expect(node.querySelector('.jp-collab-primary')?.textContent).toBe('R²');
    expect(node.textContent).not.toContain('Accuracy');
  });

  it("shows an MLP's list settings", async () => {
    const node = await rendered(MIME.plan, fixtures.mlpPlan);
    const setting = (name: string) =>
      node.querySelector(`[data-setting="${name}"]`)?.textContent;
    expect(setting('hidden')).toBe('64, 32');
    expect(setting('activation')).toBe('relu');
    expect(setting('fedprox_mu')).toBe('0.01');
    expect(setting('batch_size')).toBe('64');
    expect(setting('classes')).toBe('None');
  });

  it('shows the settings of a payload saved before they were listed', async () => {
    const node = await rendered(MIME.plan, fixtures.legacyPlan);
    expect(texts(node, '.jp-collab-setting-name')).toEqual([
      'Rounds',
      'Local epochs',
      'Learning rate'
    ]);
    expect(node.querySelector('.jp-collab-metric-list')).toBeNull();
    expect(node.querySelector('.jp-collab-subtitle')).toBeNull();
  });

  it('says when differential privacy is off', async () => {
    const node = await rendered(MIME.plan, {
      ...fixtures.plan,
      dp: null,
      secure_aggregation: false
    });
    expect(texts(node, '.jp-collab-chip-off')).toEqual(['off', 'off']);
  });
});

describe('job renderer', () => {
  it('shows lake chips, progress and the loss curve', async () => {
    const node = await rendered(MIME.job, fixtures.job);
    expect(node.textContent).toContain('job-7f3a');
    expect(node.querySelector('.jp-collab-progress-text')?.textContent).toBe(
      '12 / 30 rounds'
    );
    const fill = node.querySelector('.jp-collab-progress-fill') as HTMLElement;
    expect(fill.style.width).toBe('40.0%');

    const chips = Array.from(node.querySelectorAll('.jp-collab-chips li'));
    expect(chips.map(c => c.textContent)).toEqual([
      'st-maryrunning',
      'st-judewaiting for approval'
    ]);
    expect(chips[1].classList).toContain('jp-collab-state-waiting-for-approval');

    const line = node.querySelector('svg polyline');
    expect(line?.getAttribute('points')?.split(' ')).toHaveLength(3);
  });

  it("draws the loss and the plan's primary metric, and its history columns", async () => {
    const node = await rendered(MIME.job, fixtures.job);
    const curves = Array.from(node.querySelectorAll('figure.jp-collab-curve'));
    expect(curves.map(c => c.getAttribute('data-metric'))).toEqual([
      'loss',
      'accuracy'
    ]);
    expect(curves[1].querySelector('svg')?.getAttribute('aria-label')).toBe(
      'Accuracy from 0.6 to 0.9'
    );
    expect(texts(node, '.jp-collab-history th')).toEqual([
      'Round',
      'Loss',
      'Accuracy',
      'Rows'
    ]);
    expect(texts(node, '.jp-collab-history tbody tr:last-child td')).toEqual([
      '3',
      '0.41',
      '0.9',
      '455'
    ]);
    expect(texts(node, '.jp-collab-latest dt')).toEqual([
      'Round',
      'Loss',
      'Accuracy',
      'Rows'
    ]);
  });

  it('shows a regression job by its own metrics', async () => {
    const node = await rendered(MIME.job, fixtures.regressionJob);
    expect(node.querySelector('.jp-collab-title')?.textContent).toBe(
      'Job job-51e0 · Linear regression on patients'
    );
    const curves = Array.from(node.querySelectorAll('figure.jp-collab-curve'));
    expect(curves.map(c => c.getAttribute('data-metric'))).toEqual(['loss', 'r2']);
    expect(curves[1].querySelector('figcaption')?.textContent).toBe('R²');
    expect(
      curves[1].querySelector('polyline')?.getAttribute('points')?.split(' ')
    ).toHaveLength(4);
    expect(texts(node, '.jp-collab-history th')).toEqual([
      'Round',
      'Loss',
      'RMSE',
      'R²',
      'Rows'
    ]);
    expect(texts(node, '.jp-collab-history th.jp-collab-primary')).toEqual(['R²']);
    expect(
      node.querySelector('.jp-collab-latest dd[data-metric="r2"]')?.textContent
    ).toBe('0.81');
    expect(
      node.querySelector('.jp-collab-latest dd[data-metric="rmse"]')?.textContent
    ).toBe('1');
    expect(node.textContent).not.toContain('Accuracy');
  });

  it('keeps the last rounds of a long history', async () => {
    const history = Array.from({ length: 7 }, (_, i) => ({
      round: i + 1,
      loss: 1 / (i + 1),
      accuracy: 0.5 + i * 0.05,
      rows: 100
    }));
    const node = await rendered(MIME.job, { ...fixtures.job, history });
    expect(node.querySelector('.jp-collab-history caption')?.textContent).toBe(
      'Last 5 of 7 rounds'
    );
    expect(texts(node, '.jp-collab-history tbody tr td:first-child')).toEqual([
      '3',
      '4',
      '5',
      '6',
      '7'
    ]);
  });

  it('reads the metrics from the history of a payload saved before they were named', async () => {
    const node = await rendered(MIME.job, {
      ...fixtures.job,
      plan: fixtures.legacyPlan
    });
    expect(texts(node, '.jp-collab-history th')).toEqual([
      'Round',
      'Loss',
      'Accuracy',
      'Rows'
    ]);
    const curves = Array.from(node.querySelectorAll('figure.jp-collab-curve'));
    expect(curves.map(c => c.getAttribute('data-metric'))).toEqual([
      'loss',
      'accuracy'
    ]);
  });

  it('shows the error of a failed job', async () => {
    const node = await rendered(MIME.job, {
      ...fixtures.job,
      status: 'failed',
      error: 'st-jude denied the plan'
    });
    expect(node.querySelector('[role="alert"]')?.textContent).toBe(
      'st-jude denied the plan'
    );
  });

  it('renders a job that has not started', async () => {
    const node = await rendered(MIME.job, {
      ...fixtures.job,
      status: 'waiting',
      rounds_done: 0,
      history: []
    });
    expect(node.textContent).toContain('0 / 30 rounds');
    expect(node.textContent).toContain('No loss reported yet.');
    expect(node.querySelector('.jp-collab-history')).toBeNull();
    expect(node.querySelectorAll('figure.jp-collab-curve')).toHaveLength(0);
  });
});

describe('model renderer', () => {
  it('lists coefficients by absolute size', async () => {
    const node = await rendered(MIME.model, fixtures.model);
    const rows = Array.from(node.querySelectorAll('.jp-collab-bar-row'));
    expect(rows.map(r => r.getAttribute('data-feature'))).toEqual([
      'texture',
      'radius',
      'age'
    ]);
    expect(rows[0].querySelector('.jp-collab-bar-negative')).not.toBeNull();
    expect(rows[1].querySelector('.jp-collab-bar-positive')).not.toBeNull();
    expect(node.textContent).toContain('st-mary, st-jude');
    expect(node.textContent).toContain('intercept 0.1');
    // the report table is there too, folded: the bars show the same numbers
    const report = node.querySelector('details.jp-collab-report') as HTMLDetailsElement;
    expect(report.open).toBe(false);
    expect(texts(report, 'tbody td:first-child')).toEqual([
      'radius',
      'texture',
      'age',
      '(intercept)'
    ]);
  });

  it('shows a regression model with bars and its report', async () => {
    const node = await rendered(MIME.model, fixtures.linearModel);
    expect(node.querySelector('.jp-collab-title')?.textContent).toBe(
      'Linear regression for tumour_size'
    );
    expect(node.querySelector('.jp-collab-subtitle')?.textContent).toContain(
      'regression · 1 round over 2 lakes'
    );
    expect(
      Array.from(node.querySelectorAll('.jp-collab-bar-row')).map(r =>
        r.getAttribute('data-feature')
      )
    ).toEqual(['radius', 'age']);
    expect(node.textContent).toContain('intercept 3');
    expect(texts(node, '.jp-collab-report thead th')).toEqual([
      'feature',
      'coefficient'
    ]);
  });

  it("draws a softmax model's report table, one column per class", async () => {
    const node = await rendered(MIME.model, fixtures.softmaxModel);
    expect(node.querySelector('.jp-collab-bars')).toBeNull();
    const report = node.querySelector('details.jp-collab-report') as HTMLDetailsElement;
    expect(report.open).toBe(true);
    expect(report.querySelector('summary')?.textContent).toBe('Coefficients (3)');
    expect(texts(report, 'thead th')).toEqual([
      'feature',
      'class 1',
      'class 2',
      'class 3'
    ]);
    expect(texts(report, 'tbody tr:first-child td')).toEqual([
      'radius',
      '0.5',
      '0',
      '-0.5'
    ]);
    expect(report.textContent).toContain(
      'on the original (unstandardised) scale of each feature'
    );
    expect(node.textContent).not.toContain('intercept 0.1');
  });

  it("draws an MLP's layers", async () => {
    const node = await rendered(MIME.model, fixtures.mlpModel);
    expect(node.querySelector('.jp-collab-bars')).toBeNull();
    expect(node.querySelector('.jp-collab-report summary')?.textContent).toBe(
      'Layers (2)'
    );
    expect(texts(node, '.jp-collab-report tbody tr').map(t => t)).toEqual([
      'layer 12 → 39',
      'layer 23 → 14'
    ]);
    expect(texts(node, '.jp-collab-report td.jp-collab-number')).toEqual(['9', '4']);
  });

  it('draws the first tree of a tree model beside its importances', async () => {
    const node = await rendered(MIME.model, fixtures.treesModel);
    expect(node.querySelector('.jp-collab-report summary')?.textContent).toBe(
      'Feature importance (2)'
    );
    expect(node.querySelector('.jp-collab-tree summary')?.textContent).toBe(
      'Tree 1 (of 2)'
    );
    const root = node.querySelector('.jp-collab-tree > ul > li');
    expect(root?.querySelector('code')?.textContent).toBe('radius');
    expect(root?.textContent).toContain('≤ 14.5');
    expect(texts(node, '.jp-collab-tree-leaf')).toHaveLength(3);
    expect(texts(node, '.jp-collab-tree-split code')).toEqual(['radius', 'age']);
    expect(texts(node, '.jp-collab-tree-leaf')[0]).toMatch(/^yes: leaf -0\.15/);
  });

  it('still draws a payload saved before models carried a report', async () => {
    const { report, ...old } = fixtures.model;
    expect(report).toBeDefined();
    const node = await rendered(MIME.model, old);
    expect(node.querySelectorAll('.jp-collab-bar-row')).toHaveLength(3);
    expect(node.querySelector('.jp-collab-report')).toBeNull();
  });
});

describe('robustness', () => {
  it('shows an error instead of throwing on a malformed payload', async () => {
    // React logs the error it caught; keep the test output clean.
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const node = await rendered(MIME.schema, {
      table: 'x',
      lakes: ['a'],
      columns: 'nope'
    });
    expect(node.querySelector('.jp-collab-error')?.textContent).toContain(
      'could not be shown'
    );
    log.mockRestore();
  });

  it('renders the same payload again after being disposed and recreated', async () => {
    // What happens when a saved notebook is reopened: a new renderer, same payload.
    const first = await render(MIME.job, fixtures.job);
    const before = first.node.textContent;
    Widget.detach(first);
    first.dispose();
    const second = await rendered(MIME.job, fixtures.job);
    expect(second.textContent).toBe(before);
  });
});

describe('number formatting', () => {
  it('writes small privacy parameters without noise', async () => {
    const { formatNumber } = await import('../src/components/format');
    expect(formatNumber(1e-5)).toBe('1e-5');
    expect(formatNumber(0.5)).toBe('0.5');
    expect(formatNumber(0.123456)).toBe('0.1235');
    expect(formatNumber(null)).toBe('–');
  });
});
