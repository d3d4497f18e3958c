import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { pinoLogger } from './pino-logger';

// Real pino writing JSON lines into memory.
function capture(level: string): { lines: Record<string, unknown>[]; logger: ReturnType<typeof pino> } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level }, stream) };
}

describe('pinoLogger', () => {
  it('writes the message as msg and the context as fields, at the matching pino level', () => {
    const { lines, logger } = capture('debug');
    const log = pinoLogger(logger.child({ component: 'distcache' }));
    log.info('peer joined', { peer: '10.0.0.2:3320', members: 3 });
    log.warn('peer suspected', { peer: '10.0.0.3:3320' });
    log.error('bare');
    log.debug('cannot connect to peer 10.0.0.4:3320; next attempt in 200ms', { attempt: 2 });
    expect(
      lines.map(({ level, msg, component, peer, members, attempt }) => ({
        level,
        msg,
        component,
        peer,
        members,
        attempt,
      })),
    ).toEqual([
      {
        level: 30,
        msg: 'peer joined',
        component: 'distcache',
        peer: '10.0.0.2:3320',
        members: 3,
        attempt: undefined,
      },
      {
        level: 40,
        msg: 'peer suspected',
        component: 'distcache',
        peer: '10.0.0.3:3320',
        members: undefined,
        attempt: undefined,
      },
      {
        level: 50,
        msg: 'bare',
        component: 'distcache',
        peer: undefined,
        members: undefined,
        attempt: undefined,
      },
      {
        level: 20,
        msg: 'cannot connect to peer 10.0.0.4:3320; next attempt in 200ms',
        component: 'distcache',
        peer: undefined,
        members: undefined,
        attempt: 2,
      },
    ]);
  });

  it("leaves the level to pino: at pino's default (info) debug lines are not written", () => {
    const { lines, logger } = capture('info');
    const log = pinoLogger(logger);
    log.debug('reconnect chatter', { attempt: 1 });
    log.info('joined the cluster', { members: 2 });
    expect(lines.map((line) => line.msg)).toEqual(['joined the cluster']);
  });

  it('is what passing pino directly would lose: pino reads a context after the message as printf arguments', () => {
    const { lines, logger } = capture('info');
    (logger.info as (message: string, context: object) => void)('peer joined', { peer: '10.0.0.2:3320' });
    expect(lines[0]).not.toHaveProperty('peer');
  });
});
