/**
 * A metric of each round (the loss, the plan's primary metric) as a
 * hand-drawn SVG polyline (no chart library).
 */
import * as React from 'react';

import { IRoundRecord } from '../tokens';
import { formatNumber, metricTitle } from './format';

const WIDTH = 320;
const HEIGHT = 120;
const PAD = { left: 44, right: 8, top: 8, bottom: 20 };

export interface ICurve {
  /** The polyline's `points`, in view-box units. */
  points: string;
  min: number;
  max: number;
  /** The first and last rounds drawn. */
  first: number;
  last: number;
  /** The values at the first and last rounds drawn. */
  from: number;
  to: number;
}

/** The curve of `metric` over the rounds where it is a finite number. */
export function metricPoints(
  history: ReadonlyArray<IRoundRecord>,
  metric = 'loss'
): ICurve | null {
  const rows = history
    .map(r => ({ round: r.round, value: r[metric] }))
    .filter(
      (r): r is { round: number; value: number } =>
        typeof r.value === 'number' && Number.isFinite(r.value)
    );
  if (rows.length === 0) {
    return null;
  }
  const values = rows.map(r => r.value);
  const roundsSeen = rows.map(r => r.round);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const first = Math.min(...roundsSeen);
  const last = Math.max(...roundsSeen);
  const w = WIDTH - PAD.left - PAD.right;
  const h = HEIGHT - PAD.top - PAD.bottom;
  const x = (round: number) =>
    PAD.left + (last === first ? w / 2 : ((round - first) / (last - first)) * w);
  const y = (value: number) =>
    PAD.top + (max === min ? h / 2 : ((max - value) / (max - min)) * h);
  const points = rows
    .map(r => `${x(r.round).toFixed(1)},${y(r.value).toFixed(1)}`)
    .join(' ');
  return {
    points,
    min,
    max,
    first,
    last,
    from: rows[0].value,
    to: rows[rows.length - 1].value
  };
}

/** The loss curve's points (`metricPoints(history, 'loss')`). */
export function lossPoints(history: ReadonlyArray<IRoundRecord>): ICurve | null {
  return metricPoints(history, 'loss');
}

export function MetricCurve(props: {
  history: ReadonlyArray<IRoundRecord>;
  metric?: string;
}): JSX.Element {
  const metric = props.metric ?? 'loss';
  const title = metricTitle(metric);
  const curve = metricPoints(props.history, metric);
  if (!curve) {
    return <div className="jp-collab-muted">No {metric} reported yet.</div>;
  }
  const bottom = HEIGHT - PAD.bottom;
  return (
    <figure className="jp-collab-curve" data-metric={metric}>
      <figcaption className="jp-collab-curve-title">{title}</figcaption>
      <svg
        className={
          metric === 'loss'
            ? 'jp-collab-loss-curve'
            : 'jp-collab-loss-curve jp-collab-metric-curve'
        }
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width={WIDTH}
        height={HEIGHT}
        role="img"
        aria-label={`${title} from ${formatNumber(curve.from)} to ${formatNumber(curve.to)}`}
      >
        <line
          className="jp-collab-axis"
          x1={PAD.left}
          y1={PAD.top}
          x2={PAD.left}
          y2={bottom}
        />
        <line
          className="jp-collab-axis"
          x1={PAD.left}
          y1={bottom}
          x2={WIDTH - PAD.right}
          y2={bottom}
        />
        <text
          className="jp-collab-axis-label"
          x={PAD.left - 4}
          y={PAD.top + 8}
          textAnchor="end"
        >
          {formatNumber(curve.max, 3)}
        </text>
        <text
          className="jp-collab-axis-label"
          x={PAD.left - 4}
          y={bottom}
          textAnchor="end"
        >
          {formatNumber(curve.min, 3)}
        </text>
        <text
          className="jp-collab-axis-label"
          x={PAD.left}
          y={HEIGHT - 4}
          textAnchor="start"
        >
          round {curve.first}
        </text>
        <text
          className="jp-collab-axis-label"
          x={WIDTH - PAD.right}
          y={HEIGHT - 4}
          textAnchor="end"
        >
          round {curve.last}
        </text>
        <polyline
          className={
            metric === 'loss' ? 'jp-collab-loss-line' : 'jp-collab-metric-line'
          }
          points={curve.points}
        />
      </svg>
    </figure>
  );
}

/** The loss of each round. */
export function LossCurve(props: {
  history: ReadonlyArray<IRoundRecord>;
}): JSX.Element {
  return <MetricCurve history={props.history} metric="loss" />;
}
