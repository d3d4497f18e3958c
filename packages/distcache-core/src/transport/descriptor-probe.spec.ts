import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing';
import { DescriptorProbe } from './descriptor-probe';
import type { Logger } from '../util/logger';

function recorder(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (message: string) => void lines.push(`${level}: ${message}`);
  return {
    lines,
    logger: { debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') },
  };
}

describe('DescriptorProbe', () => {
  it('logs the exhaustion once when it starts and once when it ends', async () => {
    const { logger, lines } = recorder();
    const clock = new ManualClock(1000);
    let fail: string | undefined;
    const probe = new DescriptorProbe(logger, clock, () => {
      if (fail !== undefined) throw Object.assign(new Error(fail), { code: fail });
    });
    probe.check(3);
    expect(lines).toEqual([]);
    fail = 'EMFILE';
    for (let i = 0; i < 5; i++) probe.check(250);
    expect(probe.exhausted).toBe(true);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^error: out of file descriptors \(EMFILE\).*250 inbound peer connections are open/,
    );
    await clock.advance(1500);
    fail = undefined;
    probe.check(3);
    probe.check(3);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(
      'warn: file descriptors available again after 1500ms; the peer listener accepts connections',
    );
  });

  it('ignores failures that are not about descriptors', () => {
    const { logger, lines } = recorder();
    const probe = new DescriptorProbe(logger, new ManualClock(0), () => {
      throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
    });
    probe.check(1);
    expect(probe.exhausted).toBe(false);
    expect(lines).toEqual([]);
  });

  it('opens the real null device without failing', () => {
    const { logger, lines } = recorder();
    new DescriptorProbe(logger, new ManualClock(0)).check(0);
    expect(lines).toEqual([]);
  });
});
