import { describe, expect, it } from 'vitest';
import { runSwimLoad } from '../../../sim/scenarios/swim-load.js';

describe('SWIM load simulation', () => {
  it('load: packets per member per protocol period stay flat from 10 to 200 members', async () => {
    const options = { windowFromMs: 20_000, windowMs: 20_000 };
    const small = await runSwimLoad(10, 1, options);
    const large = await runSwimLoad(200, 1, options);
    expect(small.converged && large.converged).toBe(true);
    expect(small.failure ?? large.failure).toBeUndefined();
    // One ping and one ack per member per period, whatever N.
    expect(small.result!.probe).toBeCloseTo(2, 1);
    expect(large.result!.probe).toBeCloseTo(2, 1);
    expect(large.result!.total / small.result!.total).toBeLessThan(2);
  }, 60_000);
});
