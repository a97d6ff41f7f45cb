/**
 * The trees of a boosted-trees model (`view: "trees"` in its
 * `application/vnd.collab.model+json` payload): the first tree as nested
 * lists, a split then its yes and no branches.
 */
import * as React from 'react';

import { IModelPayload } from '../tokens';
import { formatNumber } from './format';

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
