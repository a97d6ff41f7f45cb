/**
 * The content of the Data Lakes panel: lakes → tables → columns (each with
 * its kind and, when categorical, its published categories), pending
 * requests of the lakes the user owns, and the model's errors. Pure React
 * over an `ILakesModel`; it re-renders on the model's `changed` signal and
 * disconnects when unmounted.
 */
import * as React from 'react';

import { IAccessRequest, ILakeInfo, ILakeTable, ILakesModel } from '../tokens';
import { Categories } from './Categories';
import { classes, formatNumber, slug } from './format';

export interface ILakesViewProps {
  model: ILakesModel;
  /** A table's name was clicked: show its schema. */
  onOpenSchema: (lake: string, table: ILakeTable) => void;
  /** The table's "plan skeleton" button was clicked. */
  onPlanSkeleton: (lake: string, table: ILakeTable) => void;
}

/** Re-render whenever the model says it changed. */
function useModel(model: ILakesModel): void {
  const [, setTick] = React.useState(0);
  React.useEffect(() => {
    const onChange = () => setTick(t => t + 1);
    model.changed.connect(onChange);
    return () => {
      model.changed.disconnect(onChange);
    };
  }, [model]);
}

function toggle(set: ReadonlySet<string>, key: string): Set<string> {
  const next = new Set(set);
  if (next.has(key)) {
    next.delete(key);
  } else {
    next.add(key);
  }
  return next;
}

function TableRow(props: {
  lake: string;
  table: ILakeTable;
  expanded: boolean;
  onToggle: () => void;
  onOpenSchema: ILakesViewProps['onOpenSchema'];
  onPlanSkeleton: ILakesViewProps['onPlanSkeleton'];
}): JSX.Element {
  const { lake, table, expanded } = props;
  return (
    <li className="jp-collab-lakes-table" data-table={table.name}>
      <div className="jp-collab-lakes-row">
        <button
          type="button"
          className="jp-collab-twisty"
          aria-expanded={expanded}
          aria-label={`${expanded ? 'Hide' : 'Show'} columns of ${table.name}`}
          onClick={props.onToggle}
        >
          {expanded ? '▾' : '▸'}
        </button>
        <button
          type="button"
          className="jp-collab-link jp-collab-table-name"
          title={`Insert fed.schema_view("${table.name}") below the active cell`}
          onClick={() => props.onOpenSchema(lake, table)}
        >
          {table.name}
        </button>
        <span className="jp-collab-muted jp-collab-rows">{table.rows} rows</span>
        <button
          type="button"
          className="jp-collab-small-button jp-collab-plan-button"
          title="Insert a plan skeleton for this table below the active cell"
          onClick={() => props.onPlanSkeleton(lake, table)}
        >
          plan skeleton
        </button>
      </div>
      {expanded ? (
        <ul className="jp-collab-lakes-columns">
          {table.columns.map(column => (
            <li key={column.name} className="jp-collab-lakes-column">
              <code>{column.name}</code>
              <span className="jp-collab-muted">{column.type}</span>
              {column.kind ? (
                <span className={`jp-collab-kind jp-collab-kind-${slug(column.kind)}`}>
                  {column.kind}
                </span>
              ) : null}
              <Categories categories={column.categories} />
              {column.private ? (
                <span className="jp-collab-badge jp-collab-badge-private">private</span>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
    </li>
  );
}

function RequestRow(props: { request: IAccessRequest }): JSX.Element {
  const r = props.request;
  return (
    <li className="jp-collab-request" data-request={r.id}>
      <div>
        <span className="jp-collab-request-who">{r.scientist}</span>{' '}
        <span className="jp-collab-muted">
          {r.model} on <code>{r.table}</code>, {r.rounds} rounds
          {r.epsilon !== null && r.epsilon !== undefined
            ? `, ε = ${formatNumber(r.epsilon)}`
            : ''}
        </span>
      </div>
      <div className="jp-collab-muted">
        label <code>{r.label}</code>, {r.features.length} features ·{' '}
        <span className={`jp-collab-state-${slug(r.status)}`}>{r.status}</span>
      </div>
    </li>
  );
}

function LakeItem(props: {
  lake: ILakeInfo;
  model: ILakesModel;
  collapsed: boolean;
  onToggle: () => void;
  expandedTables: ReadonlySet<string>;
  onToggleTable: (key: string) => void;
  onOpenSchema: ILakesViewProps['onOpenSchema'];
  onPlanSkeleton: ILakesViewProps['onPlanSkeleton'];
}): JSX.Element {
  const { lake, model, collapsed } = props;
  const requests = model.requests.get(lake.name);
  const offline = lake.status !== 'online';
  return (
    <li
      className={classes('jp-collab-lake', offline && 'jp-collab-lake-offline')}
      data-lake={lake.name}
    >
      <div className="jp-collab-lakes-row jp-collab-lake-row">
        <button
          type="button"
          className="jp-collab-twisty"
          aria-expanded={!collapsed}
          aria-label={`${collapsed ? 'Expand' : 'Collapse'} ${lake.name}`}
          onClick={props.onToggle}
        >
          {collapsed ? '▸' : '▾'}
        </button>
        <span
          className={`jp-collab-status-dot jp-collab-status-${slug(lake.status)}`}
          title={lake.status}
        />
        <span className="jp-collab-lake-name" title={lake.url ?? 'in this kernel'}>
          {lake.name}
        </span>
        <span className="jp-collab-role">{lake.role}</span>
        {lake.pending_requests > 0 ? (
          <span
            className="jp-collab-count-badge"
            title={`${lake.pending_requests} pending ${lake.pending_requests === 1 ? 'request' : 'requests'}`}
          >
            {lake.pending_requests}
          </span>
        ) : null}
      </div>
      {offline || lake.error ? (
        <div className="jp-collab-error jp-collab-lake-error">
          {lake.error ?? 'This lake is offline.'}
        </div>
      ) : null}
      {collapsed ? null : (
        <>
          <ul className="jp-collab-lakes-tables">
            {lake.tables.map(table => {
              const key = `${lake.name}/${table.name}`;
              return (
                <TableRow
                  key={table.name}
                  lake={lake.name}
                  table={table}
                  expanded={props.expandedTables.has(key)}
                  onToggle={() => props.onToggleTable(key)}
                  onOpenSchema={props.onOpenSchema}
                  onPlanSkeleton={props.onPlanSkeleton}
                />
              );
            })}
            {lake.tables.length === 0 && !offline ? (
              <li className="jp-collab-muted">No tables shared.</li>
            ) : null}
          </ul>
          {lake.role === 'owner' && requests ? (
            <div className="jp-collab-requests">
              <div className="jp-collab-section-title">Requests</div>
              {requests.error ? (
                <div className="jp-collab-error">{requests.error}</div>
              ) : null}
              <ul>
                {requests.requests.map(r => (
                  <RequestRow key={r.id} request={r} />
                ))}
              </ul>
              {!requests.error && requests.requests.length === 0 ? (
                <div className="jp-collab-muted">No requests.</div>
              ) : null}
            </div>
          ) : null}
        </>
      )}
    </li>
  );
}

export function LakesView(props: ILakesViewProps): JSX.Element {
  const { model } = props;
  useModel(model);
  const [collapsed, setCollapsed] = React.useState<ReadonlySet<string>>(new Set());
  const [expandedTables, setExpandedTables] = React.useState<ReadonlySet<string>>(
    new Set()
  );

  return (
    <div className="jp-collab-lakes" aria-busy={model.refreshing}>
      {model.versionWarning ? (
        <div className="jp-collab-warning" role="status">
          {model.versionWarning}
        </div>
      ) : null}
      {model.error ? (
        <div className="jp-collab-error" role="alert">
          {model.error}
        </div>
      ) : null}
      {model.lakes.length === 0 && !model.error ? (
        <div className="jp-collab-muted jp-collab-empty">
          {model.refreshing || model.updated === null
            ? 'Loading lakes…'
            : 'No lakes yet. Lakes the server knows about appear here.'}
        </div>
      ) : null}
      <ul className="jp-collab-lakes-list">
        {model.lakes.map(lake => (
          <LakeItem
            key={lake.name}
            lake={lake}
            model={model}
            collapsed={collapsed.has(lake.name)}
            onToggle={() => setCollapsed(c => toggle(c, lake.name))}
            expandedTables={expandedTables}
            onToggleTable={key => setExpandedTables(t => toggle(t, key))}
            onOpenSchema={props.onOpenSchema}
            onPlanSkeleton={props.onPlanSkeleton}
          />
        ))}
      </ul>
      {model.updated ? (
        <div className="jp-collab-muted jp-collab-updated">
          {model.refreshing
            ? 'Refreshing…'
            : `Updated ${model.updated.toLocaleTimeString()}`}
        </div>
      ) : null}
    </div>
  );
}
