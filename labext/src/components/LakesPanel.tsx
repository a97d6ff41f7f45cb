/**
 * The Data Lakes side panel: a refresh button in the toolbar and the
 * `LakesView` as its one section. Tells the model when it is shown or
 * hidden, so polling only runs while someone can see it.
 */
import * as React from 'react';

import {
  ReactWidget,
  SidePanel,
  ToolbarButton,
  refreshIcon
} from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';

import { lakesIcon } from '../icons';
import { ILakeTable, ILakesModel } from '../tokens';
import { LakesView } from './LakesView';

export class LakesPanel extends SidePanel {
  constructor(options: LakesPanel.IOptions) {
    super();
    this._model = options.model;
    this.id = 'collab-lakes-panel';
    this.addClass('jp-collab-lakes-panel');
    this.title.icon = lakesIcon;
    this.title.caption = 'Data Lakes';

    this.toolbar.addItem(
      'refresh',
      new ToolbarButton({
        icon: refreshIcon,
        tooltip: 'Refresh lakes',
        onClick: () => {
          void this._model.refresh();
        }
      })
    );

    const content = ReactWidget.create(
      <LakesView
        model={options.model}
        onOpenSchema={options.onOpenSchema}
        onPlanSkeleton={options.onPlanSkeleton}
      />
    );
    content.addClass('jp-collab-lakes-content');
    content.title.label = 'Data Lakes';
    this.addWidget(content);
  }

  get model(): ILakesModel {
    return this._model;
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._model.setVisible(true);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._model.setVisible(false);
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._model.setVisible(this.isVisible);
  }

  protected onBeforeDetach(msg: Message): void {
    this._model.setVisible(false);
    super.onBeforeDetach(msg);
  }

  private _model: ILakesModel;
}

export namespace LakesPanel {
  export interface IOptions {
    model: ILakesModel;
    onOpenSchema: (lake: string, table: ILakeTable) => void;
    onPlanSkeleton: (lake: string, table: ILakeTable) => void;
  }
}
