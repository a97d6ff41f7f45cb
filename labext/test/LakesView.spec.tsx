import { Signal } from '@lumino/signaling';

import { LakesView } from '../src/components/LakesView';
import { ILakeInfo, ILakeRequests, ILakesModel } from '../src/tokens';
import { admissionsTable, lakes } from './fixtures';
import { act } from 'react';

import { React, click, mount, texts } from './helpers';

class FakeModel implements ILakesModel {
  lakes: ILakeInfo[] = lakes;
  requests = new Map<string, ILakeRequests>();
  error: string | null = null;
  versionWarning: string | null = null;
  serverVersion: string | null = '0.1.0';
  refreshing = false;
  updated: Date | null = new Date(2026, 0, 1, 12, 0, 0);
  changed: Signal<ILakesModel, void> = new Signal<ILakesModel, void>(this);
  refresh = jest.fn(async () => undefined);
  setVisible = jest.fn();
}

function setup(model = new FakeModel()) {
  const onOpenSchema = jest.fn();
  const onPlanSkeleton = jest.fn();
  const view = mount(
    <LakesView
      model={model}
      onOpenSchema={onOpenSchema}
      onPlanSkeleton={onPlanSkeleton}
    />
  );
  return { model, view, onOpenSchema, onPlanSkeleton, node: view.container };
}

describe('LakesView', () => {
  it('lists lakes with their tables, pending count and offline error', () => {
    const { node, view } = setup();
    expect(texts(node, '.jp-collab-lake-name')).toEqual(['st-mary', 'st-jude']);
    expect(texts(node, '.jp-collab-table-name')).toEqual(['patients']);
    expect(texts(node, '.jp-collab-count-badge')).toEqual(['2']);
    expect(texts(node, '.jp-collab-lake-error')).toEqual([
      'Connection refused at http://127.0.0.1:8082'
    ]);
    view.unmount();
  });

  it('inserts code through the callbacks', () => {
    const { node, view, onOpenSchema, onPlanSkeleton } = setup();
    click(node.querySelector('.jp-collab-table-name'));
    expect(onOpenSchema).toHaveBeenCalledWith('st-mary', lakes[0].tables[0]);
    click(node.querySelector('.jp-collab-plan-button'));
    expect(onPlanSkeleton).toHaveBeenCalledWith('st-mary', lakes[0].tables[0]);
    view.unmount();
  });

  it('expands a table into its columns and collapses a lake', () => {
    const { node, view } = setup();
    expect(node.querySelector('.jp-collab-lakes-column')).toBeNull();
    click(node.querySelector('[aria-label="Show columns of patients"]'));
    expect(texts(node, '.jp-collab-lakes-column code')).toEqual([
      'radius',
      'texture',
      'patient_name',
      'malignant',
      'notes'
    ]);
    expect(
      texts(node, '.jp-collab-lakes-column .jp-collab-badge-private')
    ).toHaveLength(1);

    click(node.querySelector('[aria-label="Collapse st-mary"]'));
    expect(node.querySelector('.jp-collab-table-name')).toBeNull();
    view.unmount();
  });

  it('follows the model and stops listening when unmounted', () => {
    const model = new FakeModel();
    const { node, view } = setup(model);
    model.versionWarning = 'versions differ';
    model.requests.set('st-mary', {
      requests: [
        {
          id: 'r1',
          scientist: 'ada@lab.org',
          table: 'patients',
          model: 'logistic_regression',
          features: ['radius'],
          label: 'malignant',
          rounds: 30,
          epsilon: 1,
          status: 'pending'
        }
      ],
      error: null
    });
    act(() => model.changed.emit());
    expect(node.querySelector('.jp-collab-warning')?.textContent).toBe(
      'versions differ'
    );
    expect(texts(node, '.jp-collab-request-who')).toEqual(['ada@lab.org']);

    const disconnect = jest.spyOn(model.changed, 'disconnect');
    view.unmount();
    expect(disconnect).toHaveBeenCalledTimes(1);
    expect(disconnect.mock.results[0].value).toBe(true);
  });

  it("shows each column's kind and the categories its owner publishes", () => {
    const model = new FakeModel();
    model.lakes = [{ ...lakes[0], tables: [admissionsTable] }];
    const { node, view } = setup(model);
    click(node.querySelector('[aria-label="Show columns of admissions"]'));
    const row = (name: string) =>
      Array.from(node.querySelectorAll('.jp-collab-lakes-column')).find(
        li => li.querySelector('code')?.textContent === name
      )!;
    expect(row('ward').querySelector('.jp-collab-kind')?.textContent).toBe(
      'categorical'
    );
    expect(row('ward').querySelector('.jp-collab-categories')?.textContent).toBe(
      'cardio, neuro, ortho, onco'
    );
    // a long list: the first eight, a count of the rest, every one in the tooltip
    const diagnosis = row('diagnosis').querySelector('.jp-collab-categories')!;
    expect(diagnosis.textContent).toBe('D1, D2, D3, D4, D5, D6, D7, D8 +4 more');
    expect(diagnosis.getAttribute('title')).toBe(
      '12 categories: D1, D2, D3, D4, D5, D6, D7, D8, D9, D10, D11, D12'
    );
    expect(row('species').querySelector('.jp-collab-categories')?.textContent).toBe(
      'Adelie, Chinstrap, Gentoo'
    );
    expect(row('smoker').querySelector('.jp-collab-kind')?.textContent).toBe('boolean');
    expect(row('admitted').querySelector('.jp-collab-kind')?.textContent).toBe('date');
    for (const name of ['age', 'smoker', 'admitted', 'note']) {
      expect(row(name).querySelector('.jp-collab-categories')).toBeNull();
    }
    view.unmount();
  });

  it('shows the error of a failed refresh', () => {
    const model = new FakeModel();
    model.lakes = [];
    model.error = 'Could not reach the Jupyter server (fetch failed).';
    const { node, view } = setup(model);
    expect(node.querySelector('[role="alert"]')?.textContent).toBe(model.error);
    view.unmount();
  });
});
