import { describe, expect, it } from 'vitest';
import { InputClock } from './control.js';

const inputs = [{ topic: 'quotes', partitions: 3, producers: ['source'] }];

describe('InputClock', () => {
  it('without lanes, the node waits for its slowest partition', () => {
    const clock = new InputClock(inputs);
    clock.observe('quotes', 0, 'source', 100);
    clock.observe('quotes', 1, 'source', 100);
    expect(clock.watermark).toBe(Number.NEGATIVE_INFINITY);
    expect(clock.observe('quotes', 2, 'source', 50)).toBe(true);
    expect(clock.watermark).toBe(50);
    expect(clock.laneWatermark(0)).toBe(50);
  });

  it('with lanes, each partition advances on its own; the node watermark is the minimum over owned lanes', () => {
    const clock = new InputClock(inputs, true);
    expect(clock.observe('quotes', 0, 'source', 100)).toBe(true);
    expect(clock.laneWatermark(0)).toBe(100);
    expect(clock.laneWatermark(1)).toBe(Number.NEGATIVE_INFINITY);
    clock.observe('quotes', 1, 'source', 70);
    clock.setActive([0, 1]); // a worker that owns partitions 0 and 1 only
    expect(clock.watermark).toBe(70);
    clock.setActive(null);
    expect(clock.watermark).toBe(Number.NEGATIVE_INFINITY); // partition 2 has seen nothing
  });

  it('a reset lane starts again from what its new owner reads, and ends on its own', () => {
    const clock = new InputClock(inputs, true);
    clock.observe('quotes', 1, 'source', 100);
    clock.resetLane(1);
    expect(clock.laneWatermark(1)).toBe(Number.NEGATIVE_INFINITY);
    expect(clock.observe('quotes', 1, 'source', 40)).toBe(true);
    expect(clock.end('quotes', 1, 'source')).toBe(true);
    expect(clock.laneEnded(1)).toBe(true);
    expect(clock.ended).toBe(false); // lanes 0 and 2 have not ended
    clock.end('quotes', 0, 'source');
    clock.end('quotes', 2, 'source');
    expect(clock.ended).toBe(true);
  });
});
