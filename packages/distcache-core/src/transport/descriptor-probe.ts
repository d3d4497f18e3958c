import { closeSync, openSync } from 'node:fs';
import { devNull } from 'node:os';
import type { Clock } from '../util/clock';
import type { Logger } from '../util/logger';

/**
 * Notices when the process has run out of file descriptors. A listener at `EMFILE` is never told:
 * libuv accepts each pending connection on a spare descriptor and closes it at once, so the node
 * silently drops every newcomer (a restarted peer cannot rejoin) while its established links keep
 * working. Opening the null device on each sweep of the listener fails exactly then; one `open` and
 * one `close` every sweep cost a few microseconds. The exhaustion is logged once when it starts and
 * once when it ends.
 */
export class DescriptorProbe {
  private exhaustedSince: number | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly open: () => void = probeOpen,
  ) {}

  /** True while the last probe failed for lack of descriptors. */
  get exhausted(): boolean {
    return this.exhaustedSince !== undefined;
  }

  /** Probes once; `connections` is the listener's open connection count, for the log line. */
  check(connections: number): void {
    let code: string | undefined;
    try {
      this.open();
    } catch (error) {
      code = (error as { code?: string }).code;
    }
    const out = code === 'EMFILE' || code === 'ENFILE';
    const now = this.clock.now();
    if (out && this.exhaustedSince === undefined) {
      this.exhaustedSince = now;
      this.logger.error(
        `out of file descriptors (${code}): the peer listener cannot accept connections, new peers ` +
          `and restarted ones cannot join, established peer links keep working; ${connections} inbound ` +
          `peer connections are open. Raise the descriptor limit (ulimit -n) or lower maxConnections below it.`,
        { code, connections },
      );
    } else if (!out && this.exhaustedSince !== undefined) {
      this.logger.warn(
        `file descriptors available again after ${now - this.exhaustedSince}ms; the peer listener accepts connections`,
      );
      this.exhaustedSince = undefined;
    }
  }
}

function probeOpen(): void {
  closeSync(openSync(devNull, 'r'));
}
