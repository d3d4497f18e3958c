import { engineNotStarted, engineStopped, startFailed } from '../errors/messages';
import { isDistCacheError } from '../errors/distcache-error';
import type { EngineState } from './engine.events';

/**
 * The engine's state machine: `idle -> starting -> running -> stopping -> stopped`, with a failed
 * start going back to `idle`. `start()` and `stop()` are idempotent and safe to call concurrently:
 * callers share the transition in progress.
 */
export class Lifecycle {
  private current: EngineState = 'idle';
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly onChange: (state: EngineState) => void) {}

  get state(): EngineState {
    return this.current;
  }

  /** @throws DistCacheError `E_ENGINE_NOT_STARTED` or `E_ENGINE_STOPPED` unless running */
  assertRunning(operation: string): void {
    if (this.current === 'running') return;
    if (this.current === 'stopping' || this.current === 'stopped') throw engineStopped(operation);
    throw engineNotStarted(operation, this.current === 'starting');
  }

  /** @throws DistCacheError `E_ENGINE_STOPPED` once stopping or stopped */
  assertNotStopped(operation: string): void {
    if (this.current === 'stopping' || this.current === 'stopped') throw engineStopped(operation);
  }

  start(run: () => Promise<void>): Promise<void> {
    switch (this.current) {
      case 'running':
        return Promise.resolve();
      case 'starting':
        return this.starting ?? Promise.resolve();
      case 'stopping':
      case 'stopped':
        return Promise.reject(engineStopped('start'));
      case 'idle':
        break;
    }
    this.set('starting');
    this.starting = run().then(
      () => {
        this.starting = undefined;
        // A stop() that arrived meanwhile owns the state from here on.
        if (this.current === 'starting') this.set('running');
      },
      (error: unknown) => {
        this.starting = undefined;
        if (this.current === 'starting') this.set('idle');
        throw isDistCacheError(error, 'E_START_FAILED') ? error : startFailed(error);
      },
    );
    return this.starting;
  }

  stop(run: () => Promise<void>): Promise<void> {
    switch (this.current) {
      case 'stopped':
        return Promise.resolve();
      case 'stopping':
        return this.stopping ?? Promise.resolve();
      case 'idle':
        this.set('stopped');
        return Promise.resolve();
      case 'starting':
      case 'running':
        break;
    }
    const pendingStart = this.starting;
    this.set('stopping');
    this.stopping = (async () => {
      // Let a start in progress finish (or fail) before tearing down what it opened.
      if (pendingStart !== undefined) await pendingStart.catch(() => undefined);
      try {
        await run();
      } finally {
        this.set('stopped');
      }
    })();
    return this.stopping;
  }

  private set(state: EngineState): void {
    if (this.current === state) return;
    this.current = state;
    this.onChange(state);
  }
}
