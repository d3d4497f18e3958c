import { describe } from 'vitest';
import { catalogueSuite } from './catalogue.suite';

// Default setup: the launcher (here, the test process) owns an in-memory PGlite database.
describe('catalogue on a three-node cluster, PGlite', () => {
  catalogueSuite(() => ({}));
});
