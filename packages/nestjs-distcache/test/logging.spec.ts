// Where the module's own lines go (the startup line, explorer warnings): through the `logger`
// option when one is given, else through Nest's Logger; and what the startup line says about the
// node's mode.
import { Controller, Get } from '@nestjs/common';
import { type LogContext, type Logger, staticDiscovery } from 'distcache-core';
import { afterEach, describe, expect, it } from 'vitest';
import { ReadThrough } from '../src';
import { closeStarted, startStandalone as start } from './support/standalone';
import { freePorts } from './support/net';

afterEach(closeStarted);

/** A distcache `Logger` that keeps what it is given. */
class EngineLogRecorder implements Logger {
  readonly lines: Array<{ level: string; message: string; context?: LogContext }> = [];

  debug(message: string, context?: LogContext): void {
    this.lines.push({ level: 'debug', message, context });
  }

  info(message: string, context?: LogContext): void {
    this.lines.push({ level: 'info', message, context });
  }

  warn(message: string, context?: LogContext): void {
    this.lines.push({ level: 'warn', message, context });
  }

  error(message: string, context?: LogContext): void {
    this.lines.push({ level: 'error', message, context });
  }

  messages(level: string): string[] {
    return this.lines.filter((line) => line.level === level).map((line) => line.message);
  }
}

@Controller('things')
class ThingsController {
  @Get()
  @ReadThrough('things')
  async list(): Promise<string[]> {
    return [];
  }
}

describe('the module logs', () => {
  it('through the `logger` option when one is given, not through Nest', async () => {
    const recorder = new EngineLogRecorder();
    const { logger: nest } = await start({ controllers: [ThingsController] }, { logger: recorder });
    expect(recorder.messages('info')).toContainEqual(expect.stringMatching(/^node \S+ running standalone/));
    expect(recorder.messages('warn')).toContainEqual(
      expect.stringMatching(/^ThingsController is a controller: its distcache decorators are ignored/),
    );
    const nestLines = nest.lines.map((line) => line.message);
    // Nest itself logs the route of ThingsController; nothing of ours.
    expect(nestLines.filter((line) => /running|is a controller/.test(line))).toEqual([]);
  });

  it('through Nest by default', async () => {
    const { logger: nest } = await start({ controllers: [ThingsController] });
    const logged = nest.lines.filter((line) => line.level === 'log').map((line) => line.message);
    expect(logged).toContainEqual(expect.stringMatching(/^node \S+ running standalone/));
    expect(nest.warnings()).toContainEqual(expect.stringMatching(/^ThingsController is a controller/));
  });
});

describe('the startup line', () => {
  it('standalone: says so, and warns about peer-listener options that have no effect', async () => {
    const recorder = new EngineLogRecorder();
    await start({}, { logger: recorder, nodeName: 'solo', port: 18_331, host: '0.0.0.0' });
    expect(recorder.messages('info')).toContain(
      'node solo running standalone (no discovery): no peer listener, this replica caches for itself ' +
        'only, with keyspaces: (none)',
    );
    expect(recorder.messages('warn')).toEqual([
      'host, port are ignored: without discovery this node is standalone and opens no peer listener. ' +
        'Give discovery (staticDiscovery({ peers }), DNS, NATS or Kubernetes) to make this replica a ' +
        'cluster member',
    ]);
  });

  it('standalone without peer-listener options: no warning', async () => {
    const recorder = new EngineLogRecorder();
    await start({}, { logger: recorder });
    expect(recorder.messages('warn')).toEqual([]);
  });

  it('in a cluster: names the cluster and the address it listens on', async () => {
    const recorder = new EngineLogRecorder();
    const [port] = await freePorts(1);
    await start(
      {},
      {
        logger: recorder,
        nodeName: 'member',
        port,
        discovery: staticDiscovery({ peers: [`127.0.0.1:${port}`] }),
      },
    );
    expect(recorder.messages('info')).toContain(
      `node member running in cluster "distcache" at 127.0.0.1:${port} with keyspaces: (none)`,
    );
    expect(recorder.messages('warn')).toEqual([]);
  });
});
