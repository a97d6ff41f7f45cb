/**
 * `application/vnd.collab.plan+json`: a training plan as a summary card. The
 * family's own settings come from the payload's `settings` list, so any
 * family (registered in Python) is shown without a change here.
 */
import * as React from 'react';

import { IPlanPayload, PlanSetting } from '../tokens';
import { formatNumber, formatValue, metricTitle, settingTitle } from './format';

/** "logistic_regression" → "Logistic regression" */
export function modelTitle(model: string): string {
  return settingTitle(model);
}

/** Fields every plan payload has; the rest of an older payload are its settings. */
const COMMON_FIELDS = new Set([
  'model',
  'table',
  'features',
  'label',
  'secure_aggregation',
  'secure_threshold',
  'dp',
  'hash',
  'task',
  'total_rounds',
  'metrics',
  'primary_metric',
  'settings'
]);

/**
 * The family's own settings, in order: the payload's `settings` list, or for
 * a payload saved before it existed, every field that is not a common one.
 */
export function planSettings(plan: IPlanPayload): PlanSetting[] {
  if (Array.isArray(plan.settings)) {
    return plan.settings.filter(
      (s): s is PlanSetting => Array.isArray(s) && typeof s[0] === 'string'
    );
  }
  return Object.keys(plan)
    .filter(key => !COMMON_FIELDS.has(key))
    .map(key => [key, plan[key]] as PlanSetting);
}

/** A setting's value for people (`batch_size` None is a full batch). */
export function settingText(name: string, value: unknown): string {
  if (name === 'batch_size' && value === null) {
    return 'full batch';
  }
  return formatValue(value);
}

/** The metrics a job of this plan reports, `loss` first. */
export function planMetrics(plan: IPlanPayload | null | undefined): string[] | null {
  return plan && Array.isArray(plan.metrics) && plan.metrics.length
    ? plan.metrics.map(String)
    : null;
}

export function PlanSummary(props: { plan: IPlanPayload }): JSX.Element {
  const { plan } = props;
  const features = plan.features ?? [];
  const settings = planSettings(plan);
  const metrics = planMetrics(plan);
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
      {settings.map(([name, value]) => (
        <React.Fragment key={name}>
          <dt className="jp-collab-setting-name">{settingTitle(name)}</dt>
          <dd className="jp-collab-setting" data-setting={name}>
            {settingText(name, value)}
          </dd>
        </React.Fragment>
      ))}
      {metrics ? (
        <>
          <dt>Metrics</dt>
          <dd className="jp-collab-metric-list">
            {metrics.map((m, i) => (
              <React.Fragment key={m}>
                {i > 0 ? ', ' : null}
                {m === plan.primary_metric ? (
                  <strong className="jp-collab-primary">{metricTitle(m)}</strong>
                ) : (
                  <span>{metricTitle(m)}</span>
                )}
              </React.Fragment>
            ))}
          </dd>
        </>
      ) : null}
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

/** "classification · 30 rounds", from what the payload says. */
export function planSubtitle(plan: IPlanPayload): string {
  const parts: string[] = [];
  if (typeof plan.task === 'string' && plan.task) {
    parts.push(plan.task);
  }
  if (typeof plan.total_rounds === 'number') {
    parts.push(`${plan.total_rounds} ${plan.total_rounds === 1 ? 'round' : 'rounds'}`);
  }
  return parts.join(' · ');
}

export function PlanView(props: { payload: IPlanPayload }): JSX.Element {
  const plan = props.payload;
  const subtitle = planSubtitle(plan);
  return (
    <div className="jp-collab-view jp-collab-card jp-collab-plan">
      <div className="jp-collab-view-header">
        <span className="jp-collab-title">Plan: {modelTitle(plan.model)}</span>
        {subtitle ? <span className="jp-collab-subtitle">{subtitle}</span> : null}
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
