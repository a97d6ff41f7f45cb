/**
 * The categories an owner publishes for a categorical column: the first few
 * on one line ("cardio, neuro +2 more"), every one in the tooltip.
 */
import * as React from 'react';

import { Category } from '../tokens';
import { categoriesText } from './format';

export function Categories(props: {
  categories: ReadonlyArray<Category> | null | undefined;
}): JSX.Element | null {
  const { categories } = props;
  const text = categoriesText(categories);
  if (!text) {
    return null;
  }
  const all = (categories ?? []).map(c => String(c)).join(', ');
  return (
    <span
      className="jp-collab-categories"
      title={`${categories!.length} categories: ${all}`}
      data-count={categories!.length}
    >
      {text}
    </span>
  );
}
