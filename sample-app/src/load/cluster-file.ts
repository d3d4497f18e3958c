import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm start` records the URLs of its nodes (read by the load script). */
export const CLUSTER_FILE_PATH = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '.data',
  'cluster.json',
);
