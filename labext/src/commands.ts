/**
 * What the commands do: put code into the active notebook, and fill a new
 * notebook from a server-side template.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import * as nbformat from '@jupyterlab/nbformat';
import { INotebookTracker, NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import { UUID } from '@lumino/coreutils';
import { Widget } from '@lumino/widgets';

import { requestAPI } from './request';
import { ITemplateReply, TemplateKind } from './tokens';

/** A new notebook on the default kernel, without asking which kernel. */
export async function createNotebook(app: JupyterFrontEnd): Promise<NotebookPanel> {
  const specs = app.serviceManager.kernelspecs;
  await specs.ready;
  const kernelName = specs.specs?.default;
  return (await app.commands.execute(
    'notebook:create-new',
    kernelName ? { kernelName } : {}
  )) as NotebookPanel;
}

/** The notebook to write into: the tracked one, or a new one. */
async function targetNotebook(
  app: JupyterFrontEnd,
  tracker: INotebookTracker
): Promise<NotebookPanel> {
  const current = tracker.currentWidget;
  if (current && !current.isDisposed) {
    return current;
  }
  return createNotebook(app);
}

/**
 * Insert `code` as a new code cell below the active cell of the active
 * notebook (a new notebook when none is open), and select it. A notebook
 * holding only one empty cell gets the code in that cell.
 */
export async function insertCodeCell(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  code: string
): Promise<void> {
  const panel = await targetNotebook(app, tracker);
  await panel.context.ready;
  app.shell.activateById(panel.id);
  const notebook = panel.content;
  const cells = notebook.model?.sharedModel.cells ?? [];
  const onlyEmpty =
    cells.length === 1 && cells[0].cell_type === 'code' && cells[0].getSource() === '';
  if (!onlyEmpty) {
    NotebookActions.insertBelow(notebook);
  }
  NotebookActions.changeCellType(notebook, 'code');
  const cell = notebook.activeCell;
  if (!cell) {
    throw new Error('The notebook has no active cell to write into.');
  }
  cell.model.sharedModel.setSource(code);
  notebook.mode = 'command';
  void notebook.scrollToItem(notebook.activeCellIndex);
}

/** The nbformat 4 cells of a template. */
export function templateCells(template: ITemplateReply): nbformat.ICell[] {
  return (template.cells ?? []).map(cell =>
    cell.cell_type === 'markdown'
      ? { id: UUID.uuid4(), cell_type: 'markdown', source: cell.source, metadata: {} }
      : {
          id: UUID.uuid4(),
          cell_type: 'code',
          source: cell.source,
          metadata: {},
          outputs: [],
          execution_count: null
        }
  );
}

/**
 * Create a notebook holding the cells of the server's `kind` template in
 * `cwd`, and open it on the default kernel. The file is written whole before
 * it opens, so no cell is replaced under an open view.
 */
export async function newNotebookFromTemplate(
  app: JupyterFrontEnd,
  kind: TemplateKind,
  cwd = ''
): Promise<Widget | null> {
  let template: ITemplateReply;
  try {
    // Fetch first, so a failure does not leave an empty untitled notebook.
    template = await requestAPI<ITemplateReply>(`templates/${kind}`);
  } catch (error) {
    Notification.error(
      `Could not load the ${kind} notebook template: ${(error as Error).message}`,
      { autoClose: false }
    );
    return null;
  }
  const { contents, kernelspecs } = app.serviceManager;
  await kernelspecs.ready;
  const kernelName = kernelspecs.specs?.default ?? '';
  const spec = kernelName ? kernelspecs.specs?.kernelspecs[kernelName] : undefined;
  const notebook: nbformat.INotebookContent = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: spec
      ? {
          kernelspec: {
            name: spec.name,
            display_name: spec.display_name,
            language: spec.language
          }
        }
      : {},
    cells: templateCells(template)
  };
  const created = await contents.newUntitled({ path: cwd, type: 'notebook' });
  await contents.save(created.path, {
    type: 'notebook',
    format: 'json',
    content: notebook
  });
  return (await app.commands.execute('docmanager:open', {
    path: created.path,
    factory: 'Notebook',
    ...(kernelName ? { kernel: { name: kernelName } } : {})
  })) as Widget;
}
