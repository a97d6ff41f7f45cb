/**
 * `application/vnd.collab.model+json`: a trained model's coefficients as a
 * bar list, largest effect first.
 */
import * as React from 'react';

import { IModelPayload } from '../tokens';
import { modelTitle } from './PlanView';
import { formatNumber } from './format';

export interface ICoefficient {
  feature: string;
  value: number;
}

/** Coefficients by decreasing absolute value (ties keep feature order). */
export function sortedCoefficients(model: IModelPayload): ICoefficient[] {
  const features = model.features ?? [];
  const coef = model.coef ?? [];
  return features
    .map((feature, index) => ({ feature, value: coef[index], index }))
    .filter(c => typeof c.value === 'number' && Number.isFinite(c.value))
    .sort((a, b) => Math.abs(b.value) - Math.abs(a.value) || a.index - b.index)
    .map(({ feature, value }) => ({ feature, value }));
}

export function ModelView(props: { payload: IModelPayload }): JSX.Element {
  const model = props.payload;
  const coefficients = sortedCoefficients(model);
  const scale = Math.max(1e-12, ...coefficients.map(c => Math.abs(c.value)));
  const lakes = model.lakes ?? [];
  return (
    <div className="jp-collab-view jp-collab-card jp-collab-model">
      <div className="jp-collab-view-header">
        <span className="jp-collab-title">
          {modelTitle(model.model)} for <code>{model.label}</code>
        </span>
        <span className="jp-collab-subtitle">
          {model.rounds} rounds over {lakes.length}{' '}
          {lakes.length === 1 ? 'lake' : 'lakes'}
          {lakes.length ? `: ${lakes.join(', ')}` : ''}
        </span>
      </div>
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
      <div className="jp-collab-muted">intercept {formatNumber(model.intercept)}</div>
    </div>
  );
}
