/**
 * `application/vnd.collab.plan+json`: a training plan as a summary card.
 */
import * as React from 'react';

import { IPlanPayload } from '../tokens';
import { formatNumber } from './format';

/** "logistic_regression" → "Logistic regression" */
export function modelTitle(model: string): string {
  const words = model.replace(/[_-]+/g, ' ').trim();
  return words ? words[0].toUpperCase() + words.slice(1) : model;
}

export function PlanSummary(props: { plan: IPlanPayload }): JSX.Element {
  const { plan } = props;
  const features = plan.features ?? [];
  return (
    <dl className="jp-collab-facts">
      <dt>Table</dt>
      <dd>
        <code>{plan.table}</code>
      </dd>
      <dt>Label</dt>
      <dd>
        <code>{plan.label}</code>
      </dd>
      <dt>Features ({features.length})</dt>
      <dd className="jp-collab-feature-list">
        {features.map((f, i) => (
          <React.Fragment key={f}>
            {i > 0 ? ', ' : null}
            <code className="jp-collab-feature">{f}</code>
          </React.Fragment>
        ))}
      </dd>
      <dt>Rounds</dt>
      <dd>
        {plan.rounds} × {plan.local_epochs} local{' '}
        {plan.local_epochs === 1 ? 'epoch' : 'epochs'}, learning rate{' '}
        {formatNumber(plan.learning_rate)}
      </dd>
      <dt>Secure aggregation</dt>
      <dd>
        {plan.secure_aggregation ? (
          <span className="jp-collab-chip jp-collab-chip-on">on</span>
        ) : (
          <span className="jp-collab-chip jp-collab-chip-off">off</span>
        )}
      </dd>
      <dt>Differential privacy</dt>
      <dd>
        {plan.dp ? (
          <span className="jp-collab-chip jp-collab-chip-on">
            ε = {formatNumber(plan.dp.epsilon)}, δ = {formatNumber(plan.dp.delta)}, clip{' '}
            {formatNumber(plan.dp.clip_norm)}
          </span>
        ) : (
          <span className="jp-collab-chip jp-collab-chip-off">off</span>
        )}
      </dd>
    </dl>
  );
}

export function PlanView(props: { payload: IPlanPayload }): JSX.Element {
  const plan = props.payload;
  return (
    <div className="jp-collab-view jp-collab-card jp-collab-plan">
      <div className="jp-collab-view-header">
        <span className="jp-collab-title">Plan: {modelTitle(plan.model)}</span>
        {plan.hash ? (
          <code className="jp-collab-hash" title={`Plan hash ${plan.hash}`}>
            {plan.hash.slice(0, 12)}
          </code>
        ) : null}
      </div>
      <PlanSummary plan={plan} />
    </div>
  );
}
