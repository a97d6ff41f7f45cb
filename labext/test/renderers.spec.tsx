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

describe('plan renderer', () => {
  it('summarises the plan', async () => {
    const node = await rendered(MIME.plan, fixtures.plan);
    const text = node.textContent ?? '';
    expect(text).toContain('Logistic regression');
    expect(text).toContain('patients');
    expect(text).toContain('malignant');
    expect(texts(node, '.jp-collab-feature')).toEqual(['radius', 'texture', 'age']);
    expect(text).toContain('30 × 1 local epoch');
    expect(text).toContain('ε = 1, δ = 1e-5, clip 1');
    expect(node.querySelector('.jp-collab-feature-list')?.textContent).toBe(
      'radius, texture, age'
    );
    expect(text).toContain('ab12cd34ef56');
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
