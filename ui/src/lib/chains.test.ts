// Chains in the pipeline view: the bars → … → predict chain of the price-prediction pipeline,
// where `bars` is handed on in-process and also written for the sinks that read it.
import { describe, expect, it } from 'vitest';
import { chainView } from './chains';

const chain = {
  head: 'bars',
  nodes: ['bars', 'features', 'router', 'predict-normal'],
  local: ['bars', 'features', 'features.normal'],
  fused: ['features'],
};

describe('chainView', () => {
  const view = chainView([chain]);

  it('finds the chain a node runs in, and none for a node with its own task', () => {
    expect(view.chainOf('router')).toBe(chain);
    expect(view.indexOf('predict-normal')).toBe(0);
    expect(view.chainOf('store-bars')).toBeNull();
    expect(view.indexOf('store-bars')).toBe(-1);
    expect(view.label(chain)).toBe('bars → features → router → predict-normal');
  });

  it('marks only the hand-offs inside a chain as in-process', () => {
    expect(view.inProcess({ from: 'bars', to: 'features', topic: 'bars' })).toBe(true);
    expect(view.inProcess({ from: 'features', to: 'router', topic: 'features' })).toBe(true);
    // `bars` also goes through the transport to the sink that stores it.
    expect(view.inProcess({ from: 'bars', to: 'store-bars', topic: 'bars' })).toBe(false);
    expect(view.inProcess({ from: 'market-data', to: 'bars', topic: 'quotes' })).toBe(false);
  });

  it('shows nothing in-process without chains (chaining off)', () => {
    const none = chainView([]);
    expect(none.inProcess({ from: 'bars', to: 'features', topic: 'bars' })).toBe(false);
    expect(none.chainOf('bars')).toBeNull();
  });
});
