/**
 * `application/vnd.collab.job+json`: a training job. Per-lake state chips,
 * a progress bar, the loss curve and the plan it runs.
 */
import * as React from 'react';

import { IJobPayload } from '../tokens';
import { LossCurve } from './LossCurve';
import { PlanSummary, modelTitle } from './PlanView';
import { classes, formatNumber, slug } from './format';

/** Completed fraction in [0, 1]. */
export function progressFraction(done: number, total: number): number {
  if (!(total > 0) || !(done > 0)) {
    return 0;
  }
  return Math.min(1, done / total);
}

export function JobView(props: { payload: IJobPayload }): JSX.Element {
  const job = props.payload;
  const lakes = Object.entries(job.lakes ?? {});
  const history = job.history ?? [];
  const fraction = progressFraction(job.rounds_done, job.rounds_total);
  const latest = history.length ? history[history.length - 1] : null;
  const status = job.status ?? 'waiting';

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
        <LossCurve history={history} />
        {latest ? (
          <dl className="jp-collab-facts jp-collab-latest">
            <dt>Round</dt>
            <dd>{latest.round}</dd>
            <dt>Loss</dt>
            <dd>{formatNumber(latest.loss)}</dd>
            {latest.accuracy !== undefined && latest.accuracy !== null ? (
              <>
                <dt>Accuracy</dt>
                <dd>{formatNumber(latest.accuracy, 3)}</dd>
              </>
            ) : null}
            {latest.rows !== undefined && latest.rows !== null ? (
              <>
                <dt>Rows</dt>
                <dd>{latest.rows}</dd>
              </>
            ) : null}
          </dl>
        ) : null}
      </div>

      {job.plan ? (
        <details className="jp-collab-details">
          <summary>Plan</summary>
          <PlanSummary plan={job.plan} />
        </details>
      ) : null}
    </div>
  );
}
