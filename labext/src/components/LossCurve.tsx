/**
 * The loss of each round as a hand-drawn SVG polyline (no chart library).
 */
import * as React from 'react';

import { IRoundRecord } from '../tokens';
import { formatNumber } from './format';

const WIDTH = 320;
const HEIGHT = 120;
const PAD = { left: 44, right: 8, top: 8, bottom: 20 };

/** The polyline's `points` for rounds with a finite loss, in view-box units. */
export function lossPoints(history: ReadonlyArray<IRoundRecord>): {
  points: string;
  min: number;
  max: number;
  first: number;
  last: number;
} | null {
  const rows = history.filter(
    r => typeof r.loss === 'number' && Number.isFinite(r.loss)
  ) as Array<IRoundRecord & { loss: number }>;
  if (rows.length === 0) {
    return null;
  }
  const losses = rows.map(r => r.loss);
  const roundsSeen = rows.map(r => r.round);
  const min = Math.min(...losses);
  const max = Math.max(...losses);
  const first = Math.min(...roundsSeen);
  const last = Math.max(...roundsSeen);
  const w = WIDTH - PAD.left - PAD.right;
  const h = HEIGHT - PAD.top - PAD.bottom;
  const x = (round: number) =>
    PAD.left + (last === first ? w / 2 : ((round - first) / (last - first)) * w);
  const y = (loss: number) =>
    PAD.top + (max === min ? h / 2 : ((max - loss) / (max - min)) * h);
  const points = rows
    .map(r => `${x(r.round).toFixed(1)},${y(r.loss).toFixed(1)}`)
    .join(' ');
  return { points, min, max, first, last };
}

export function LossCurve(props: {
  history: ReadonlyArray<IRoundRecord>;
}): JSX.Element {
  const curve = lossPoints(props.history);
  if (!curve) {
    return <div className="jp-collab-muted">No loss reported yet.</div>;
  }
  const bottom = HEIGHT - PAD.bottom;
  return (
    <svg
      className="jp-collab-loss-curve"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      width={WIDTH}
      height={HEIGHT}
      role="img"
      aria-label={`Loss from ${formatNumber(curve.max)} to ${formatNumber(curve.min)}`}
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
      <polyline className="jp-collab-loss-line" points={curve.points} />
    </svg>
  );
}
