/**
 * `LakesModel`: the lakes, tables and pending requests behind the Data Lakes
 * panel. It polls the server extension while the panel is visible (and the
 * browser tab is shown), backs off after failures, and emits `changed`.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { CollabRequestError, requestAPI } from './request';
import {
  ILakeInfo,
  ILakeRequests,
  ILakesModel,
  ILakesReply,
  IRequestsReply,
  IVersionReply
} from './tokens';
import { FRONTEND_VERSION } from './version';

/** The request function the model calls; `requestAPI` unless a test swaps it. */
export type RequestFunction = <T>(endPoint: string, init?: RequestInit) => Promise<T>;

export class LakesModel implements ILakesModel, IDisposable {
  constructor(options: LakesModel.IOptions = {}) {
    this._request = options.request ?? (requestAPI as RequestFunction);
    this._interval = options.interval ?? 30_000;
    this._maxInterval = Math.max(this._interval, options.maxInterval ?? 300_000);
    this._delay = this._interval;
    this._frontendVersion = options.frontendVersion ?? FRONTEND_VERSION;
    if (typeof document !== 'undefined') {
      document.addEventListener('visibilitychange', this._onVisibility);
    }
  }

  get lakes(): ReadonlyArray<ILakeInfo> {
    return this._lakes;
  }

  get requests(): ReadonlyMap<string, ILakeRequests> {
    return this._requests;
  }

  get error(): string | null {
    return this._error;
  }

  get versionWarning(): string | null {
    return this._versionWarning;
  }

  get serverVersion(): string | null {
    return this._serverVersion;
  }

  get refreshing(): boolean {
    return this._inflight !== null;
  }

  get updated(): Date | null {
    return this._updated;
  }

  /** Milliseconds until the next poll: the interval, longer after failures. */
  get delay(): number {
    return this._delay;
  }

  /** Whether the model is polling (visible panel in a visible tab). */
  get polling(): boolean {
    return this._active;
  }

  get changed(): ISignal<ILakesModel, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  refresh(): Promise<void> {
    if (this._isDisposed) {
      return Promise.resolve();
    }
    if (this._inflight === null) {
      this._clearTimer();
      this._inflight = this._load().finally(() => {
        this._inflight = null;
        this._emit();
        this._schedule();
      });
      this._emit();
    }
    return this._inflight;
  }

  setVisible(visible: boolean): void {
    this._visible = visible;
    this._updateActive();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._clearTimer();
    if (typeof document !== 'undefined') {
      document.removeEventListener('visibilitychange', this._onVisibility);
    }
    Signal.clearData(this);
  }

  /** Fetch the version (once), the lakes, then the requests of owned lakes. */
  private async _load(): Promise<void> {
    try {
      if (this._serverVersion === null) {
        await this._checkVersion();
      }
      const reply = await this._request<ILakesReply>('lakes');
      const lakes = Array.isArray(reply?.lakes) ? reply.lakes : [];
      const owned = lakes.filter(l => l.role === 'owner' && l.status === 'online');
      const entries = await Promise.all(
        owned.map(async lake => {
          try {
            const r = await this._request<IRequestsReply>(
              `lakes/${encodeURIComponent(lake.name)}/requests`
            );
            const value: ILakeRequests = {
              requests: Array.isArray(r?.requests) ? r.requests : [],
              error: null
            };
            return [lake.name, value] as const;
          } catch (error) {
            const value: ILakeRequests = {
              requests: [],
              error: Private.describe(error)
            };
            return [lake.name, value] as const;
          }
        })
      );
      this._lakes = lakes;
      this._requests = new Map(entries);
      this._error = null;
      this._updated = new Date();
      this._delay = this._interval;
    } catch (error) {
      this._error = Private.describe(error);
      this._delay = Math.min(this._maxInterval, this._delay * 2);
    }
  }

  private async _checkVersion(): Promise<void> {
    try {
      const reply = await this._request<IVersionReply>('version');
      const version = typeof reply?.version === 'string' ? reply.version : null;
      if (version === null) {
        return;
      }
      this._serverVersion = version;
      this._versionWarning =
        version === this._frontendVersion
          ? null
          : `The collab server extension is version ${version} but this JupyterLab ` +
            `extension is version ${this._frontendVersion}. Reinstall data-lake-collab ` +
            'and restart JupyterLab so both match.';
    } catch {
      // The lakes request that follows reports why the server cannot be used.
    }
  }

  private _updateActive(): void {
    const pageVisible = typeof document === 'undefined' || !document.hidden;
    const active = this._visible && pageVisible && !this._isDisposed;
    if (active === this._active) {
      return;
    }
    this._active = active;
    if (!active) {
      this._clearTimer();
      return;
    }
    const age = this._updated ? Date.now() - this._updated.getTime() : Infinity;
    if (age >= this._delay) {
      void this.refresh();
    } else {
      this._schedule(this._delay - age);
    }
  }

  private _schedule(delay = this._delay): void {
    this._clearTimer();
    if (!this._active || this._isDisposed || this._inflight !== null) {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      void this.refresh();
    }, delay);
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _emit(): void {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  private _onVisibility = (): void => {
    this._updateActive();
  };

  private _request: RequestFunction;
  private _interval: number;
  private _maxInterval: number;
  private _delay: number;
  private _frontendVersion: string;
  private _lakes: ILakeInfo[] = [];
  private _requests = new Map<string, ILakeRequests>();
  private _error: string | null = null;
  private _versionWarning: string | null = null;
  private _serverVersion: string | null = null;
  private _updated: Date | null = null;
  private _inflight: Promise<void> | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _visible = false;
  private _active = false;
  private _isDisposed = false;
  private _changed = new Signal<ILakesModel, void>(this);
}

export namespace LakesModel {
  export interface IOptions {
    /** The request function; `requestAPI` by default. */
    request?: RequestFunction;
    /** Poll interval while visible and healthy, in ms (30 s). */
    interval?: number;
    /** Longest interval after repeated failures, in ms (5 min). */
    maxInterval?: number;
    /** The version to compare with the server's (this package's by default). */
    frontendVersion?: string;
  }
}

namespace Private {
  /** A message for people, with a hint when the server extension is absent. */
  export function describe(error: unknown): string {
    if (error instanceof CollabRequestError) {
      if (error.status === 404 && error.errorType === 'HTTPError') {
        return (
          `${error.message} Is the collab server extension enabled? ` +
          'Check with `jupyter server extension list`.'
        );
      }
      return error.message;
    }
    return error instanceof Error ? error.message : String(error);
  }
}
