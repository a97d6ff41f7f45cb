/**
 * `application/vnd.collab.model+json`: a trained model. Every family's
 * payload carries a `report` table (coefficients per feature, per class, an
 * MLP's layers, ...), drawn as it is; a model with one coefficient per
 * feature (a flat `coef` list) also gets bars, largest effect first.
 */
import * as React from 'react';

import { IModelPayload, IModelReport, ReportCell } from '../tokens';
import { modelTitle } from './PlanView';
import { formatNumber, formatValue } from './format';

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

/** One tree of a boosted-trees payload: per-node lists, a leaf where `left < 0`. */
export interface ITree {
  feature: number[];
  threshold: number[];
  missing_left: boolean[];
  left: number[];
  right: number[];
  value: number[];
  count: number[];
}

function isTree(tree: unknown): tree is ITree {
  const t = tree as ITree;
  return (
    !!t &&
    typeof t === 'object' &&
    ['feature', 'threshold', 'missing_left', 'left', 'right', 'value', 'count'].every(
      key => Array.isArray((t as any)[key]) && (t as any)[key].length === t.left.length
    )
  );
}

/** The trees of a tree model's payload (`trees`), the well-formed ones. */
export function modelTrees(model: IModelPayload): ITree[] {
  const trees = model.trees;
  return Array.isArray(trees) ? trees.filter(isTree) : [];
}

function TreeNode(props: {
  tree: ITree;
  node: number;
  features: string[];
  branch: string;
  depth: number;
}): JSX.Element {
  const { tree, node, features, branch, depth } = props;
  const rows = `${formatNumber(tree.count[node])} rows`;
  const left = tree.left[node];
  if (left < 0 || depth > 16) {
    return (
      <li className="jp-collab-tree-leaf">
        {branch}leaf <b>{formatNumber(tree.value[node])}</b>{' '}
        <span className="jp-collab-muted">({rows})</span>
      </li>
    );
  }
  const feature = features[tree.feature[node]] ?? `input ${tree.feature[node]}`;
  const missing = tree.missing_left[node] ? 'missing: yes' : 'missing: no';
  return (
    <li className="jp-collab-tree-split">
      {branch}
      <code>{feature}</code> ≤ {formatNumber(tree.threshold[node])}{' '}
      <span className="jp-collab-muted">
        ({rows}, {missing})
      </span>
      <ul>
        <TreeNode {...props} node={left} branch="yes: " depth={depth + 1} />
        <TreeNode {...props} node={tree.right[node]} branch="no: " depth={depth + 1} />
      </ul>
    </li>
  );
}

/** The first tree of a tree model, as nested lists (a split, then its yes and no). */
export function TreeDrawing(props: {
  model: IModelPayload;
  trees: ITree[];
}): JSX.Element {
  const { model, trees } = props;
  return (
    <details className="jp-collab-details jp-collab-tree" open>
      <summary>
        Tree 1 <span className="jp-collab-muted">(of {trees.length})</span>
      </summary>
      <ul>
        <TreeNode
          tree={trees[0]}
          node={0}
          features={model.features ?? []}
          branch=""
          depth={0}
        />
      </ul>
    </details>
  );
}

export function ModelView(props: { payload: IModelPayload }): JSX.Element {
  const model = props.payload;
  const coefficients = sortedCoefficients(model);
  const report = modelReport(model);
  const lakes = model.lakes ?? [];
  const bars = coefficients.length > 0;
  const trees = modelTrees(model);
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
