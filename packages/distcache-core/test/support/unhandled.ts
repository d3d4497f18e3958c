import { afterAll, afterEach } from 'vitest';

/**
 * Records the rejections nobody handled while each test of the calling file ran (Node ends the
 * process on one by default): the returned list is emptied after each test, and the listener is
 * removed after the file.
 */
export function recordUnhandledRejections(): readonly unknown[] {
  const unhandled: unknown[] = [];
  const record = (reason: unknown): void => {
    unhandled.push(reason);
  };
  process.on('unhandledRejection', record);
  afterEach(() => {
    unhandled.length = 0;
  });
  afterAll(() => {
    process.off('unhandledRejection', record);
  });
  return unhandled;
}
