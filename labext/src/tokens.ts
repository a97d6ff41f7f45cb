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

/** A value an owner publishes for a categorical column (text, or a number). */
export type Category = string | number | boolean;

export interface ISchemaColumn {
  name: string;
  type: string;
  nullable: boolean;
  description?: string | null;
  private: boolean;
  /**
   * "numeric", "binary", "categorical", "boolean", "date", "text" or "other".
   */
  kind?: string | null;
  /** The categories the owners publish (categorical columns; older payloads omit it). */
  categories?: Category[] | null;
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

/** One of a family's own settings, as `[name, value]`, in the family's order. */
export type PlanSetting = [string, unknown];

/**
 * `application/vnd.collab.plan+json`: `plan.to_spec()` (the common fields
 * below plus the family's own settings at the top level), its hash, and what
 * a display needs to show any family.
 */
export interface IPlanPayload {
  /** The family's name ("logistic_regression", "linear_regression", ...). */
  model: string;
  table: string;
  features: string[];
  label: string;
  secure_aggregation: boolean;
  secure_threshold?: number | null;
  dp: IDPSettings | null;
  hash: string;
  /** "classification" or "regression". */
  task?: string;
  /** Rounds the plan runs (a policy's max_rounds bounds it). */
  total_rounds?: number;
  /** The names of the metrics each history row carries, `loss` first. */
  metrics?: string[];
  /** The metric a dashboard plots beside the loss. */
  primary_metric?: string;
  /** The family's own settings, in order. */
  settings?: PlanSetting[];
  /** The family's settings as spec fields (`rounds`, `alpha`, `hidden`, ...). */
  [setting: string]: unknown;
}

export type JobStatus = 'waiting' | 'running' | 'done' | 'failed';

export type LakeJobState =
  'approved' | 'waiting for approval' | 'running' | 'done' | 'failed' | 'denied';

/** One round of a job's history: `round`, each of `plan.metrics`, `rows`. */
export interface IRoundRecord {
  round: number;
  loss?: number | null;
  rows?: number | null;
  [metric: string]: number | null | undefined;
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

/** A cell of a model's report table. */
export type ReportCell = string | number | boolean | null;

/** What a trained model learned, as a table any renderer can draw. */
export interface IModelReport {
  title: string;
  header: string[];
  rows: ReportCell[][];
  note?: string;
}

/**
 * `application/vnd.collab.model+json`: `model.to_dict()`. Linear families
 * keep a flat `coef` list and an `intercept`; a softmax model's `coef` is one
 * list per class; an MLP has `coefs`/`intercepts`. Every family has `report`.
 */
export interface IModelPayload {
  model: string;
  task?: string;
  features: string[];
  label: string;
  rounds: number;
  lakes: string[];
  plan_hash?: string;
  /** What the model is, for its view: `"coefficients"`, `"trees"`, `"report"`. */
  view?: string;
  coef?: number[] | number[][];
  intercept?: number | number[];
  classes?: Array<number | string>;
  report?: IModelReport;
  [param: string]: unknown;
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
  /**
   * "numeric", "binary", "categorical", "boolean", "date", "text" or "other"
   * (older servers omit it).
   */
  kind?: string | null;
  /** The categories the owner publishes (categorical columns; older servers omit it). */
  categories?: Category[] | null;
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
