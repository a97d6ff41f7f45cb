/**
 * The MIME renderer extension: schema, plan, job and model payloads that
 * Python collab objects put beside `text/html` in their mime bundle.
 *
 * Renderers only read the payload, so outputs render the same after a
 * kernel restart or when a saved notebook is reopened. React escapes every
 * value, and nothing is injected as HTML, so the renderers are `safe` and
 * also render in untrusted notebooks.
 */
import * as React from 'react';
import { flushSync } from 'react-dom';
import { Root, createRoot } from 'react-dom/client';

import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { JobView } from './components/JobView';
import { ModelView } from './components/ModelView';
import { PlanView } from './components/PlanView';
import { SchemaView } from './components/SchemaView';
import {
  CollabMimeType,
  IJobPayload,
  IModelPayload,
  IPlanPayload,
  ISchemaPayload,
  MIME
} from './tokens';

/** The React view for one MIME type and payload. */
export function viewFor(mimeType: string, payload: unknown): JSX.Element {
  switch (mimeType) {
    case MIME.schema:
      return <SchemaView payload={payload as ISchemaPayload} />;
    case MIME.plan:
      return <PlanView payload={payload as IPlanPayload} />;
    case MIME.job:
      return <JobView payload={payload as IJobPayload} />;
    case MIME.model:
      return <ModelView payload={payload as IModelPayload} />;
    default:
      return <div className="jp-collab-error">Unknown collab output: {mimeType}</div>;
  }
}

/** Shown instead of a view when a payload cannot be drawn. */
class RenderError extends React.Component<
  { mimeType: string; children: React.ReactNode },
  { error: string | null }
> {
  state = { error: null as string | null };

  static getDerivedStateFromError(error: unknown): { error: string } {
    return { error: error instanceof Error ? error.message : String(error) };
  }

  render(): React.ReactNode {
    if (this.state.error !== null) {
      return (
        <div className="jp-collab-error" role="alert">
          This {this.props.mimeType} output could not be shown: {this.state.error}
        </div>
      );
    }
    return this.props.children;
  }
}

/** One output area's renderer: a Lumino widget hosting a React root. */
export class CollabRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this._mimeType = options.mimeType;
    this.addClass('jp-collab-rendered');
    this._root = createRoot(this.node);
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const payload = model.data[this._mimeType];
    const element =
      payload && typeof payload === 'object' ? (
        <RenderError mimeType={this._mimeType}>
          {viewFor(this._mimeType, payload)}
        </RenderError>
      ) : (
        <div className="jp-collab-error">Empty {this._mimeType} output.</div>
      );
    flushSync(() => {
      this._root.render(element);
    });
    return Promise.resolve();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    // Unmount after the current render pass so React never sees a torn-down node.
    const root = this._root;
    setTimeout(() => root.unmount(), 0);
    super.dispose();
  }

  private _mimeType: string;
  private _root: Root;
}

const MIME_TYPES: CollabMimeType[] = [MIME.schema, MIME.plan, MIME.job, MIME.model];

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: MIME_TYPES,
  // Rank below text/html (50) so these views win over the HTML fallback.
  defaultRank: 40,
  createRenderer: options => new CollabRenderer(options)
};

const extension: IRenderMime.IExtension = {
  id: '@data-lake-collab/labext:renderers',
  description: 'Renders collab schemas, plans, jobs and models.',
  rendererFactory,
  rank: 40,
  dataType: 'json'
};

export default extension;
