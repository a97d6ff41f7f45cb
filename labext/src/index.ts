/**
 * The JupyterLab plugins of data-lake-collab: the Data Lakes side panel and
 * its commands, and the scientist/owner notebook templates. The MIME
 * renderers are a separate mime extension (`renderers.tsx`).
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { INotebookTracker } from '@jupyterlab/notebook';

import { insertCodeCell, newNotebookFromTemplate } from './commands';
import { LakesPanel } from './components/LakesPanel';
import { lakesIcon } from './icons';
import { LakesModel } from './model';
import { planSkeleton, schemaSnippet } from './snippets';
import { CommandIDs, ILakeTable, ILakesModel, TemplateKind } from './tokens';

const PALETTE_CATEGORY = 'Data Lake Collab';

function reportFailure(what: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  Notification.error(`${what}: ${message}`, { autoClose: 8000 });
}

/** The Data Lakes panel, its model and the commands that use them. */
const lakesPlugin: JupyterFrontEndPlugin<ILakesModel> = {
  id: '@data-lake-collab/labext:lakes',
  description:
    'The Data Lakes side panel: lakes, tables, columns and pending requests.',
  autoStart: true,
  provides: ILakesModel,
  requires: [INotebookTracker],
  optional: [ILayoutRestorer, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null
  ): ILakesModel => {
    const model = new LakesModel();
    const { commands } = app;

    const findTable = (lake: string, table: string): ILakeTable | undefined =>
      model.lakes.find(l => l.name === lake)?.tables.find(t => t.name === table);

    const panel = new LakesPanel({
      model,
      onOpenSchema: (lake, table) => {
        void commands.execute(CommandIDs.insertSchemaCell, { lake, table: table.name });
      },
      onPlanSkeleton: (lake, table) => {
        void commands.execute(CommandIDs.insertPlanSkeleton, {
          lake,
          table: table.name
        });
      }
    });
    app.shell.add(panel, 'left', { rank: 650, type: 'Data Lakes' });
    if (restorer) {
      restorer.add(panel, panel.id);
    }

    commands.addCommand(CommandIDs.refreshLakes, {
      label: 'Refresh Data Lakes',
      caption: 'Fetch lakes, tables and requests again',
      execute: () => model.refresh()
    });

    commands.addCommand(CommandIDs.openLakesPanel, {
      label: 'Open Data Lakes Panel',
      icon: lakesIcon,
      execute: () => {
        app.shell.activateById(panel.id);
      }
    });

    commands.addCommand(CommandIDs.insertSchemaCell, {
      label: args => `Insert fed.schema_view("${(args.table as string) ?? '…'}")`,
      describedBy: {
        args: {
          type: 'object',
          properties: { table: { type: 'string' }, lake: { type: 'string' } },
          required: ['table']
        }
      },
      execute: async args => {
        const table = args.table as string;
        try {
          await insertCodeCell(app, tracker, schemaSnippet(table));
        } catch (error) {
          reportFailure('Could not insert the schema cell', error);
        }
      }
    });

    commands.addCommand(CommandIDs.insertPlanSkeleton, {
      label: args => `Insert a plan skeleton for "${(args.table as string) ?? '…'}"`,
      describedBy: {
        args: {
          type: 'object',
          properties: { table: { type: 'string' }, lake: { type: 'string' } },
          required: ['lake', 'table']
        }
      },
      execute: async args => {
        const table = findTable(args.lake as string, args.table as string);
        if (!table) {
          reportFailure(
            'Could not insert a plan skeleton',
            new Error(`no table "${args.table}" in lake "${args.lake}"`)
          );
          return;
        }
        try {
          await insertCodeCell(app, tracker, planSkeleton(table));
        } catch (error) {
          reportFailure('Could not insert the plan skeleton', error);
        }
      }
    });

    if (palette) {
      for (const command of [CommandIDs.refreshLakes, CommandIDs.openLakesPanel]) {
        palette.addItem({ command, category: PALETTE_CATEGORY });
      }
    }

    app.restored.then(() => {
      // The first fetch happens when the panel is first shown; polling
      // pauses whenever it is hidden.
      model.setVisible(panel.isVisible);
    });
    return model;
  }
};

/** New scientist and owner notebooks from the server's templates. */
const templatesPlugin: JupyterFrontEndPlugin<void> = {
  id: '@data-lake-collab/labext:templates',
  description: 'Commands and launcher items for new scientist and owner notebooks.',
  autoStart: true,
  optional: [ICommandPalette, ILauncher, IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    launcher: ILauncher | null,
    browser: IDefaultFileBrowser | null
  ): void => {
    const entries: Array<{
      id: string;
      kind: TemplateKind;
      title: string;
      rank: number;
    }> = [
      {
        id: CommandIDs.newScientistNotebook,
        kind: 'scientist',
        title: 'Scientist',
        rank: 1
      },
      { id: CommandIDs.newOwnerNotebook, kind: 'owner', title: 'Owner', rank: 2 }
    ];
    for (const entry of entries) {
      app.commands.addCommand(entry.id, {
        label: args =>
          args.isPalette ? `New ${entry.title} Notebook` : `${entry.title} Notebook`,
        caption: `A new notebook from the collab ${entry.kind} template`,
        icon: lakesIcon,
        execute: args =>
          newNotebookFromTemplate(
            app,
            entry.kind,
            (args.cwd as string | undefined) ?? browser?.model.path ?? ''
          )
      });
      palette?.addItem({
        command: entry.id,
        category: PALETTE_CATEGORY,
        args: { isPalette: true }
      });
      launcher?.add({
        command: entry.id,
        category: PALETTE_CATEGORY,
        rank: entry.rank
      });
    }
  }
};

export default [lakesPlugin, templatesPlugin];

export { ILakesModel } from './tokens';
export { CollabRequestError, requestAPI } from './request';
