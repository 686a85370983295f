import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NodeClock } from '../../../src/runtime/node/node-clock.js';

const CHILD = fileURLToPath(new URL('./fixtures/unref-timer-child.ts', import.meta.url));

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('NodeClock', () => {
  it('reports a throwing callback and keeps firing the others', async () => {
    const errors: unknown[] = [];
    const clock = new NodeClock({ onError: (error) => errors.push(error) });
    const fired: string[] = [];
    clock.setTimer(1, () => {
      throw new Error('boom');
    });
    clock.setTimer(5, () => fired.push('after'));
    await sleep(30);
    expect(fired).toEqual(['after']);
    expect(errors).toEqual([expect.objectContaining({ message: 'boom' })]);
    clock.close();
  });

  it('bounds the pending timers and frees a slot when one fires or is cancelled', async () => {
    const clock = new NodeClock({ maxPendingTimers: 2 });
    const first = clock.setTimer(1000, () => undefined);
    clock.setTimer(1, () => undefined);
    expect(() => clock.setTimer(1, () => undefined)).toThrow(
      expect.objectContaining({ code: 'CAPACITY_EXCEEDED' }),
    );
    first.cancel();
    expect(clock.pendingTimers).toBe(1);
    await sleep(20);
    expect(clock.pendingTimers).toBe(0);
    clock.setTimer(1000, () => undefined);
    clock.setTimer(1000, () => undefined);
    clock.close();
    expect(clock.pendingTimers).toBe(0);
  });

  it('refuses a bad bound', () => {
    expect(() => new NodeClock({ maxPendingTimers: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('lets the process exit with a timer pending when keepAlive is false', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { stdio: 'pipe' });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect({ code, output }).toEqual({ code: 0, output: 'armed\n' });
  });
});
