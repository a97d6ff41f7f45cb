/**
 * `application/vnd.collab.schema+json`: one table's columns across lakes,
 * sortable by any header and filtered by a text box. Each column shows its
 * kind and, when categorical, the categories its owners publish. A column
 * that is missing in a lake, or has another type (or other categories)
 * there, is marked.
 */
import * as React from 'react';

import { ISchemaColumn, ISchemaPayload, Presence } from '../tokens';
import { Categories } from './Categories';
import { classes, slug } from './format';

/** Class of a row or cell whose column does not match in every lake. */
export const MISMATCH_CLASS = 'jp-collab-mismatch';

type SortKey =
  { by: 'name' | 'type' | 'kind' | 'nullable' } | { by: 'lake'; lake: string };

interface ISort {
  key: SortKey;
  ascending: boolean;
}

/** Whether a presence value means the column matches in that lake. */
export function presenceOk(presence: Presence | undefined): boolean {
  return presence === 'ok';
}

/** Whether a column is missing or differs in at least one lake. */
export function isMismatch(column: ISchemaColumn, lakes: string[]): boolean {
  return lakes.some(lake => !presenceOk(column.presence?.[lake]));
}

/** Columns matching a free-text filter (name, type, kind, categories, description). */
export function filterColumns(
  columns: ReadonlyArray<ISchemaColumn>,
  text: string
): ISchemaColumn[] {
  const needle = text.trim().toLowerCase();
  if (!needle) {
    return [...columns];
  }
  return columns.filter(c =>
    [
      c.name,
      c.type,
      c.kind ?? '',
      (c.categories ?? []).join(' '),
      c.description ?? '',
      c.private ? 'private' : ''
    ]
      .join(' ')
      .toLowerCase()
      .includes(needle)
  );
}

function sortValue(column: ISchemaColumn, key: SortKey): string {
  switch (key.by) {
    case 'lake':
      // "ok" sorts before "differs: ..." before "missing".
      return presenceRank(column.presence?.[key.lake]);
    case 'nullable':
      return column.nullable ? '1' : '0';
    case 'kind':
      return column.kind ?? '';
    default:
      return column[key.by];
  }
}

function presenceRank(presence: Presence | undefined): string {
  if (presenceOk(presence)) {
    return '0';
  }
  if (presence && presence.startsWith('differs')) {
    return `1${presence}`;
  }
  return '2';
}

/** Columns in the order of `sort`; stable, so ties keep the table's order. */
export function sortColumns(
  columns: ReadonlyArray<ISchemaColumn>,
  sort: ISort | null
): ISchemaColumn[] {
  const indexed = columns.map((column, index) => ({ column, index }));
  if (sort) {
    const sign = sort.ascending ? 1 : -1;
    indexed.sort((a, b) => {
      const order = sortValue(a.column, sort.key).localeCompare(
        sortValue(b.column, sort.key),
        undefined,
        { numeric: true, sensitivity: 'base' }
      );
      return order !== 0 ? sign * order : a.index - b.index;
    });
  }
  return indexed.map(i => i.column);
}

function sameKey(a: SortKey, b: SortKey): boolean {
  return a.by === b.by && (a.by !== 'lake' || a.lake === (b as { lake: string }).lake);
}

function PresenceCell(props: { presence: Presence | undefined }): JSX.Element {
  const presence = props.presence ?? 'missing';
  if (presenceOk(presence)) {
    return (
      <td className="jp-collab-presence jp-collab-presence-ok" title="present">
        ✓
      </td>
    );
  }
  const missing = !presence.startsWith('differs');
  return (
    <td
      className={classes(
        'jp-collab-presence',
        missing ? 'jp-collab-presence-missing' : 'jp-collab-presence-differs',
        MISMATCH_CLASS
      )}
      title={presence}
    >
      {missing ? 'missing' : presence.replace(/^differs:\s*/, '≠ ')}
    </td>
  );
}

export function SchemaView(props: { payload: ISchemaPayload }): JSX.Element {
  const { payload } = props;
  const lakes = payload.lakes ?? [];
  const columns = payload.columns ?? [];
  const [filter, setFilter] = React.useState('');
  const [sort, setSort] = React.useState<ISort | null>(null);

  const shown = React.useMemo(
    () => sortColumns(filterColumns(columns, filter), sort),
    [columns, filter, sort]
  );
  const mismatches = columns.filter(c => isMismatch(c, lakes)).length;

  const header = (label: string, key: SortKey, title?: string) => {
    const active = sort !== null && sameKey(sort.key, key);
    const ariaSort = active ? (sort!.ascending ? 'ascending' : 'descending') : 'none';
    const onClick = () =>
      setSort(active ? { key, ascending: !sort!.ascending } : { key, ascending: true });
    return (
      <th
        key={key.by === 'lake' ? `lake:${key.lake}` : key.by}
        aria-sort={ariaSort}
        className={classes('jp-collab-sortable', active && 'jp-collab-sorted')}
        title={title ?? `Sort by ${label}`}
      >
        <button type="button" className="jp-collab-sort-button" onClick={onClick}>
          {label}
          <span className="jp-collab-sort-mark" aria-hidden="true">
            {active ? (sort!.ascending ? ' ▲' : ' ▼') : ''}
          </span>
        </button>
      </th>
    );
  };

  return (
    <div className="jp-collab-view jp-collab-schema">
      <div className="jp-collab-view-header">
        <span className="jp-collab-title">
          Table <code>{payload.table}</code>
        </span>
        <span className="jp-collab-subtitle">
          {columns.length} columns in {lakes.length}{' '}
          {lakes.length === 1 ? 'lake' : 'lakes'}
          {mismatches > 0 ? `, ${mismatches} not the same everywhere` : ''}
        </span>
      </div>
      <div className="jp-collab-toolbar">
        <input
          type="search"
          className="jp-collab-filter"
          placeholder="Filter columns"
          aria-label="Filter columns"
          value={filter}
          onChange={event => setFilter(event.target.value)}
        />
        {filter.trim() ? (
          <span className="jp-collab-count">
            {shown.length} of {columns.length}
          </span>
        ) : null}
      </div>
      <div className="jp-collab-table-scroll">
        <table className="jp-collab-table">
          <thead>
            <tr>
              {header('Column', { by: 'name' })}
              {header('Type', { by: 'type' })}
              {header('Kind', { by: 'kind' })}
              {header('Nullable', { by: 'nullable' })}
              {lakes.map(lake =>
                header(lake, { by: 'lake', lake }, `Sort by presence in ${lake}`)
              )}
              <th>Description</th>
            </tr>
          </thead>
          <tbody>
            {shown.map(column => (
              <tr
                key={column.name}
                data-column={column.name}
                className={classes(
                  isMismatch(column, lakes) && MISMATCH_CLASS,
                  column.private && 'jp-collab-private-row'
                )}
              >
                <td className="jp-collab-column-name">
                  <code>{column.name}</code>
                  {column.private ? (
                    <span
                      className="jp-collab-badge jp-collab-badge-private"
                      title="Private: never leaves its lake and cannot be a feature"
                    >
                      private
                    </span>
                  ) : null}
                </td>
                <td>
                  <code>{column.type}</code>
                </td>
                <td className="jp-collab-kind-cell">
                  {column.kind ? (
                    <span
                      className={`jp-collab-kind jp-collab-kind-${slug(column.kind)}`}
                    >
                      {column.kind}
                    </span>
                  ) : null}
                  <Categories categories={column.categories} />
                </td>
                <td>{column.nullable ? 'yes' : 'no'}</td>
                {lakes.map(lake => (
                  <PresenceCell key={lake} presence={column.presence?.[lake]} />
                ))}
                <td className="jp-collab-description">{column.description ?? ''}</td>
              </tr>
            ))}
            {shown.length === 0 ? (
              <tr>
                <td className="jp-collab-empty" colSpan={5 + lakes.length}>
                  No column matches “{filter}”.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
    </div>
  );
}
