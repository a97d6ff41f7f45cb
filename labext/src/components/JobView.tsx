/**
 * `application/vnd.collab.job+json`: a training job. Per-lake state chips,
 * a progress bar, the curves of the loss and of the plan's primary metric,
 * the last rounds of its history (one column per metric the plan names) and
 * the plan it runs.
 */
import * as React from 'react';

import { IJobPayload, IRoundRecord } from '../tokens';
import { MetricCurve, metricPoints } from './LossCurve';
import { PlanSummary, modelTitle, planMetrics } from './PlanView';
import { classes, formatNumber, metricTitle, slug } from './format';

/** Rounds of the history shown in the table (the last ones), as the Python repr. */
export const HISTORY_SHOWN = 5;

/** Keys of a history row that are not metrics. */
const NOT_METRICS = new Set(['round', 'rows', 'seconds']);

/** Completed fraction in [0, 1]. */
export function progressFraction(done: number, total: number): number {
  if (!(total > 0) || !(done > 0)) {
    return 0;
  }
  return Math.min(1, done / total);
}

/**
 * The metrics of the job's history, `loss` first: the plan's `metrics`, or
 * for a payload saved before they were named, the keys of its history rows.
 */
export function jobMetrics(job: IJobPayload): string[] {
  const named = planMetrics(job.plan);
  if (named) {
    return named;
  }
  const seen: string[] = [];
  for (const row of job.history ?? []) {
    for (const key of Object.keys(row)) {
      if (!NOT_METRICS.has(key) && !seen.includes(key)) {
        seen.push(key);
      }
    }
  }
  const rest = seen.filter(m => m !== 'loss');
  return ['loss', ...rest];
}

/** The metric drawn beside the loss: the plan's `primary_metric`, else the second one. */
export function primaryMetric(job: IJobPayload): string {
  const named = job.plan?.primary_metric;
  if (typeof named === 'string' && named) {
    return named;
  }
  const metrics = jobMetrics(job);
  return metrics.find(m => m !== 'loss') ?? 'loss';
}

function HistoryTable(props: {
  history: ReadonlyArray<IRoundRecord>;
  metrics: string[];
  primary: string;
}): JSX.Element {
  const { history, metrics, primary } = props;
  const shown = history.slice(-HISTORY_SHOWN);
  return (
    <div className="jp-collab-table-scroll">
      <table className="jp-collab-table jp-collab-history">
        <caption className="jp-collab-muted">
          {shown.length < history.length
            ? `Last ${shown.length} of ${history.length} rounds`
            : `${history.length} ${history.length === 1 ? 'round' : 'rounds'}`}
        </caption>
        <thead>
          <tr>
            <th>Round</th>
            {metrics.map(m => (
              <th
                key={m}
                data-metric={m}
                className={m === primary ? 'jp-collab-primary' : undefined}
              >
                {metricTitle(m)}
              </th>
            ))}
            <th>Rows</th>
          </tr>
        </thead>
        <tbody>
          {shown.map(row => (
            <tr key={row.round}>
              <td>{row.round}</td>
              {metrics.map(m => (
                <td key={m} data-metric={m}>
                  {formatNumber(row[m])}
                </td>
              ))}
              <td>{row.rows ?? '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function JobView(props: { payload: IJobPayload }): JSX.Element {
  const job = props.payload;
  const lakes = Object.entries(job.lakes ?? {});
  const history = job.history ?? [];
  const fraction = progressFraction(job.rounds_done, job.rounds_total);
  const latest = history.length ? history[history.length - 1] : null;
  const status = job.status ?? 'waiting';
  const metrics = jobMetrics(job);
  const primary = primaryMetric(job);
  const drawPrimary = primary !== 'loss' && metricPoints(history, primary) !== null;

  return (
    <div
      className={classes(
        'jp-collab-view',
        'jp-collab-card',
        'jp-collab-job',
        `jp-collab-job-${slug(status)}`
      )}
    >
      <div className="jp-collab-view-header">
        <span className="jp-collab-title">
          Job <code>{job.job_id}</code>
          {job.plan ? ` · ${modelTitle(job.plan.model)} on ${job.plan.table}` : ''}
        </span>
        <span className={`jp-collab-chip jp-collab-state-${slug(status)}`}>
          {status}
        </span>
      </div>

      <ul className="jp-collab-chips" aria-label="Lakes">
        {lakes.map(([lake, state]) => (
          <li
            key={lake}
            className={`jp-collab-chip jp-collab-state-${slug(state)}`}
            title={`${lake}: ${state}`}
          >
            <span className="jp-collab-chip-name">{lake}</span>
            <span className="jp-collab-chip-state">{state}</span>
          </li>
        ))}
      </ul>

      <div className="jp-collab-progress-row">
        <div
          className="jp-collab-progress"
          role="progressbar"
          aria-valuemin={0}
          aria-valuemax={job.rounds_total}
          aria-valuenow={job.rounds_done}
        >
          <div
            className="jp-collab-progress-fill"
            style={{ width: `${(fraction * 100).toFixed(1)}%` }}
          />
        </div>
        <span className="jp-collab-progress-text">
          {job.rounds_done} / {job.rounds_total} rounds
        </span>
      </div>

      {job.error ? (
        <div className="jp-collab-error" role="alert">
          {job.error}
        </div>
      ) : null}

      <div className="jp-collab-job-body">
        <MetricCurve history={history} metric="loss" />
        {drawPrimary ? <MetricCurve history={history} metric={primary} /> : null}
        {latest ? (
          <dl className="jp-collab-facts jp-collab-latest">
            <dt>Round</dt>
            <dd>{latest.round}</dd>
            {metrics.map(m => (
              <React.Fragment key={m}>
                <dt className={m === primary ? 'jp-collab-primary' : undefined}>
                  {metricTitle(m)}
                </dt>
                <dd data-metric={m}>{formatNumber(latest[m])}</dd>
              </React.Fragment>
            ))}
            {latest.rows !== undefined && latest.rows !== null ? (
              <>
                <dt>Rows</dt>
                <dd>{latest.rows}</dd>
              </>
            ) : null}
          </dl>
        ) : null}
      </div>

      {history.length ? (
        <HistoryTable history={history} metrics={metrics} primary={primary} />
      ) : null}

      {job.plan ? (
        <details className="jp-collab-details">
          <summary>Plan</summary>
          <PlanSummary plan={job.plan} />
        </details>
      ) : null}
    </div>
  );
}
