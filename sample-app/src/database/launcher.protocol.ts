// Messages between a node and the cluster launcher over the fork() IPC channel (structured-clone
// serialisation, so Dates stay Dates).

/** node -> launcher: run one statement. */
export interface QueryMessage {
  readonly kind: 'db.query';
  readonly id: number;
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** launcher -> node: the rows, or the error. */
export type QueryReply =
  | { readonly kind: 'db.rows'; readonly id: number; readonly rows: unknown[] }
  | { readonly kind: 'db.error'; readonly id: number; readonly message: string; readonly code?: string };

/** node -> launcher: the node listens. */
export interface ReadyMessage {
  readonly kind: 'ready';
  readonly nodeName: string;
  readonly url: string;
  readonly peerId: string;
  readonly adminUrl: string | undefined;
}

export const isQueryMessage = (message: unknown): message is QueryMessage =>
  typeof message === 'object' && message !== null && (message as { kind?: unknown }).kind === 'db.query';

export const isQueryReply = (message: unknown): message is QueryReply => {
  const kind =
    typeof message === 'object' && message !== null ? (message as { kind?: unknown }).kind : undefined;
  return kind === 'db.rows' || kind === 'db.error';
};

export const isReadyMessage = (message: unknown): message is ReadyMessage =>
  typeof message === 'object' && message !== null && (message as { kind?: unknown }).kind === 'ready';
