// Types of misconfig.scenarios.mjs for the TypeScript specs.
export interface StartError {
  code?: string;
  message?: string;
}
export type AsymmetricFigures =
  | { refused: true; typed: boolean; error: StartError; staleReads: 0; reads: 0 }
  | {
      refused: false;
      staleReads: number;
      reads: number;
      membersSeenByD: number;
      membersSeenByOthers: number[];
    };
export function runAsymmetricNode(options?: { keyCount?: number }): Promise<AsymmetricFigures>;

export interface HealthAnswer {
  status: number;
  body: Record<string, unknown>;
}
export type MismatchFigures =
  | { refused: true; typed: boolean; error: StartError }
  | {
      refused: false;
      observeMs: number;
      health: HealthAnswer;
      firstHealth: HealthAnswer;
      warnings: { x: number; cluster: number };
      sampleWarnings: string[];
    };
export function runClusterMismatch(options?: { observeMs?: number }): Promise<MismatchFigures>;
