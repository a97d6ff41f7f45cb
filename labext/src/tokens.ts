/**
 * Interfaces shared by the views, the model and the plugins, and the plugin
 * token. Implementations live in `model.ts`, `request.ts` and `components/`.
 *
 * Two contracts are described here:
 *
 * - the MIME payloads that Python collab objects emit beside `text/html`
 *   in `_repr_mimebundle_` (`ISchemaPayload`, `IPlanPayload`, `IJobPayload`,
 *   `IModelPayload`);
 * - the JSON bodies of the server extension's REST routes under
 *   `<base>/collab/` (`IVersionReply`, `ILakesReply`, `IRequestsReply`,
 *   `ITemplateReply`).
 */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';

/** MIME types emitted by the Python objects. */
export const MIME = {
  schema: 'application/vnd.collab.schema+json',
  plan: 'application/vnd.collab.plan+json',
  job: 'application/vnd.collab.job+json',
  model: 'application/vnd.collab.model+json'
} as const;

export type CollabMimeType = (typeof MIME)[keyof typeof MIME];

// ---------------------------------------------------------------------------
// MIME payloads
// ---------------------------------------------------------------------------

/**
 * Where a column stands in one lake: `"ok"`, `"missing"`, or
 * `"differs: <type>"` when the lake has the column with another type.
 */
export type Presence = string;

export interface ISchemaColumn {
  name: string;
  type: string;
  nullable: boolean;
  description?: string | null;
  private: boolean;
  kind?: string | null;
  presence: { [lake: string]: Presence };
}

/** `application/vnd.collab.schema+json` */
export interface ISchemaPayload {
  table: string;
  lakes: string[];
  columns: ISchemaColumn[];
}

export interface IDPSettings {
  epsilon: number;
  delta: number;
  clip_norm: number;
}

/** `application/vnd.collab.plan+json` */
export interface IPlanPayload {
  model: string;
  table: string;
  features: string[];
  label: string;
  rounds: number;
  local_epochs: number;
  learning_rate: number;
  secure_aggregation: boolean;
  dp: IDPSettings | null;
  hash: string;
}

export type JobStatus = 'waiting' | 'running' | 'done' | 'failed';

export type LakeJobState =
  'approved' | 'waiting for approval' | 'running' | 'done' | 'failed' | 'denied';

export interface IRoundRecord {
  round: number;
  loss: number | null;
  accuracy?: number | null;
  rows?: number | null;
}

/** `application/vnd.collab.job+json` */
export interface IJobPayload {
  job_id: string;
  plan: IPlanPayload;
  status: JobStatus;
  lakes: { [lake: string]: LakeJobState };
  rounds_done: number;
  rounds_total: number;
  history: IRoundRecord[];
  error: string | null;
}

/** `application/vnd.collab.model+json` */
export interface IModelPayload {
  model: string;
  features: string[];
  label: string;
  coef: number[];
  intercept: number;
  rounds: number;
  lakes: string[];
}

// ---------------------------------------------------------------------------
// REST replies of the server extension
// ---------------------------------------------------------------------------

/** `GET collab/version` */
export interface IVersionReply {
  version: string;
}

export interface ILakeColumn {
  name: string;
  type: string;
  private: boolean;
}

export interface ILakeTable {
  name: string;
  /** Coarsened row count, as text ("about 190"). */
  rows: string;
  columns: ILakeColumn[];
}

export type LakeRole = 'scientist' | 'owner';

export interface ILakeInfo {
  name: string;
  url: string | null;
  role: LakeRole;
  status: 'online' | 'offline';
  error: string | null;
  tables: ILakeTable[];
  pending_requests: number;
}

/** `GET collab/lakes` */
export interface ILakesReply {
  lakes: ILakeInfo[];
}

export interface IAccessRequest {
  id: string;
  scientist: string;
  table: string;
  model: string;
  features: string[];
  label: string;
  rounds: number;
  epsilon: number | null;
  status: string;
}

/** `GET collab/lakes/<lake>/requests` (owners only) */
export interface IRequestsReply {
  requests: IAccessRequest[];
}

export type TemplateKind = 'scientist' | 'owner';

export interface ITemplateCell {
  cell_type: 'code' | 'markdown';
  source: string;
}

/** `GET collab/templates/<scientist|owner>` */
export interface ITemplateReply {
  cells: ITemplateCell[];
}

// ---------------------------------------------------------------------------
// The lakes model
// ---------------------------------------------------------------------------

/** The requests of one lake the user owns, or why they could not be read. */
export interface ILakeRequests {
  requests: IAccessRequest[];
  error: string | null;
}

/**
 * The state behind the Data Lakes panel: lakes, their tables and, for lakes
 * the user owns, their pending requests. Kept fresh by polling the server
 * extension while the panel is visible.
 */
export interface ILakesModel {
  /** Lakes from the last successful refresh. */
  readonly lakes: ReadonlyArray<ILakeInfo>;
  /** Requests of the lakes the user owns, by lake name. */
  readonly requests: ReadonlyMap<string, ILakeRequests>;
  /** Why the last refresh failed, or `null`. */
  readonly error: string | null;
  /** A warning when the server extension's version differs from ours. */
  readonly versionWarning: string | null;
  /** The server extension's version, once known. */
  readonly serverVersion: string | null;
  /** Whether a refresh is under way. */
  readonly refreshing: boolean;
  /** When the last successful refresh finished. */
  readonly updated: Date | null;
  /** Emitted whenever any of the above changes. */
  readonly changed: ISignal<ILakesModel, void>;
  /** Fetch everything now. Resolves when done; never rejects. */
  refresh(): Promise<void>;
  /** Tell the model whether anyone is looking: polling pauses while hidden. */
  setVisible(visible: boolean): void;
}

/** The plugin token of the lakes model. */
export const ILakesModel = new Token<ILakesModel>(
  '@data-lake-collab/labext:ILakesModel',
  'The lakes, tables and pending requests shown in the Data Lakes panel.'
);

/** Command ids. */
export const CommandIDs = {
  newScientistNotebook: 'collab:new-scientist-notebook',
  newOwnerNotebook: 'collab:new-owner-notebook',
  refreshLakes: 'collab:refresh-lakes',
  openLakesPanel: 'collab:open-lakes-panel',
  insertSchemaCell: 'collab:insert-schema-cell',
  insertPlanSkeleton: 'collab:insert-plan-skeleton'
} as const;
