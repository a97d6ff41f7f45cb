/**
 * `application/vnd.collab.model+json`: a trained model. Every family's
 * payload carries a `report` table (coefficients per feature, per class, an
 * MLP's layers, ...), drawn as it is, and says what it is in `view`: a model
 * with one coefficient per feature (`"coefficients"`, a flat `coef` list) also
 * gets bars, largest effect first; a tree model (`"trees"`) its first tree
 * (`TreeView`).
 */
import * as React from 'react';

import { IModelPayload, IModelReport, ReportCell } from '../tokens';
import { modelTitle } from './PlanView';
import { formatNumber, formatValue } from './format';
import { modelTrees, TreeDrawing } from './TreeView';

export interface ICoefficient {
  feature: string;
  value: number;
}

/** Whether the payload has one number per feature in `coef` (linear families). */
export function hasFlatCoefficients(model: IModelPayload): boolean {
  const coef = model.coef;
  return (
    Array.isArray(coef) && coef.length > 0 && coef.every(v => typeof v === 'number')
  );
}

/** Coefficients by decreasing absolute value (ties keep feature order). */
export function sortedCoefficients(model: IModelPayload): ICoefficient[] {
  if (!hasFlatCoefficients(model)) {
    return [];
  }
  const features = model.features ?? [];
  const coef = model.coef as number[];
  return features
    .map((feature, index) => ({ feature, value: coef[index], index }))
    .filter(c => typeof c.value === 'number' && Number.isFinite(c.value))
    .sort((a, b) => Math.abs(b.value) - Math.abs(a.value) || a.index - b.index)
    .map(({ feature, value }) => ({ feature, value }));
}

/** The model's report table, if the payload has a well-formed one. */
export function modelReport(model: IModelPayload): IModelReport | null {
  const report = model.report;
  if (
    !report ||
    typeof report !== 'object' ||
    !Array.isArray(report.header) ||
    !Array.isArray(report.rows)
  ) {
    return null;
  }
  return report;
}

/** A report cell for people: numbers formatted, text as it is. */
export function cellText(cell: ReportCell): string {
  if (typeof cell === 'string') {
    return cell;
  }
  if (typeof cell === 'number') {
    return formatNumber(cell);
  }
  return formatValue(cell);
}

function Bars(props: { coefficients: ICoefficient[] }): JSX.Element {
  const { coefficients } = props;
  const scale = Math.max(1e-12, ...coefficients.map(c => Math.abs(c.value)));
  return (
    <ol className="jp-collab-bars">
      {coefficients.map(c => {
        const width = `${((Math.abs(c.value) / scale) * 50).toFixed(1)}%`;
        const positive = c.value >= 0;
        return (
          <li key={c.feature} className="jp-collab-bar-row" data-feature={c.feature}>
            <code className="jp-collab-bar-label">{c.feature}</code>
            <span className="jp-collab-bar-track">
              <span
                className={
                  positive
                    ? 'jp-collab-bar jp-collab-bar-positive'
                    : 'jp-collab-bar jp-collab-bar-negative'
                }
                style={positive ? { left: '50%', width } : { right: '50%', width }}
              />
            </span>
            <span className="jp-collab-bar-value">{formatNumber(c.value)}</span>
          </li>
        );
      })}
    </ol>
  );
}

export function ReportTable(props: {
  report: IModelReport;
  open: boolean;
}): JSX.Element {
  const { report, open } = props;
  const header = report.header.map(String);
  return (
    <details className="jp-collab-details jp-collab-report" open={open}>
      <summary>
        {report.title || 'Parameters'}{' '}
        <span className="jp-collab-muted">({report.rows.length})</span>
      </summary>
      <div className="jp-collab-table-scroll">
        <table className="jp-collab-table jp-collab-report-table">
          <thead>
            <tr>
              {header.map((h, i) => (
                <th key={i}>{h}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {report.rows.map((row, r) => (
              <tr key={r}>
                {(Array.isArray(row) ? row : [row]).map((cell, c) => (
                  <td
                    key={c}
                    className={
                      typeof cell === 'number' ? 'jp-collab-number' : undefined
                    }
                  >
                    {cellText(cell)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {report.note ? <div className="jp-collab-muted">{report.note}</div> : null}
    </details>
  );
}

/**
 * What the model says it is (`view`); a payload from a collab before `view`
 * by its shape.
 */
export function modelViewKind(model: IModelPayload): string {
  if (typeof model.view === 'string') {
    return model.view;
  }
  return modelTrees(model).length ? 'trees' : 'coefficients';
}

export function ModelView(props: { payload: IModelPayload }): JSX.Element {
  const model = props.payload;
  const kind = modelViewKind(model);
  const coefficients = kind === 'coefficients' ? sortedCoefficients(model) : [];
  const report = modelReport(model);
  const lakes = model.lakes ?? [];
  const bars = coefficients.length > 0;
  const trees = kind === 'trees' ? modelTrees(model) : [];
  return (
    <div className="jp-collab-view jp-collab-card jp-collab-model">
      <div className="jp-collab-view-header">
        <span className="jp-collab-title">
          {modelTitle(model.model)} for <code>{model.label}</code>
        </span>
        <span className="jp-collab-subtitle">
          {model.task ? `${model.task} · ` : ''}
          {model.rounds} {model.rounds === 1 ? 'round' : 'rounds'} over {lakes.length}{' '}
          {lakes.length === 1 ? 'lake' : 'lakes'}
          {lakes.length ? `: ${lakes.join(', ')}` : ''}
        </span>
      </div>
      {bars ? <Bars coefficients={coefficients} /> : null}
      {bars && typeof model.intercept === 'number' ? (
        <div className="jp-collab-muted">intercept {formatNumber(model.intercept)}</div>
      ) : null}
      {report ? <ReportTable report={report} open={!bars} /> : null}
      {trees.length ? <TreeDrawing model={model} trees={trees} /> : null}
      {!bars && !report ? (
        <div className="jp-collab-muted">
          This model's payload has no parameters to show.
        </div>
      ) : null}
    </div>
  );
}
