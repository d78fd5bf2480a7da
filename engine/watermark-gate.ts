// A gate a source can wait on until a downstream node's watermark has caught up with it: for a
// replay at full speed through a pipeline with feedback (the interval calibration feeds the
// predict nodes through an in-process table), so each replayed day sees the feedback of the days
// before it, as a live day would. Attach the running pipeline once it runs; until then, and once
// the node has ended, failed or the pipeline stopped, waits resolve at once.
import type { RunningPipeline } from './runner.js';

export interface WatermarkGate {
  /** Resolves once the node's watermark is at `time` or later (or the gate cannot tell). */
  wait(time: number, signal: AbortSignal): Promise<void>;
  attach(running: Pick<RunningPipeline, 'metrics'>): void;
}

export function createWatermarkGate(node: string, opts: { pollMs?: number } = {}): WatermarkGate {
  const pollMs = opts.pollMs ?? 1;
  let running: Pick<RunningPipeline, 'metrics'> | null = null;
  const passed = (time: number) => {
    if (!running) return true;
    const s = running.metrics.node(node);
    return (s.watermark ?? Number.NEGATIVE_INFINITY) >= time || s.status === 'ended' || s.status === 'failed';
  };
  return {
    attach(r) {
      running = r;
    },
    async wait(time, signal) {
      while (!signal.aborted && !passed(time)) await new Promise((r) => setTimeout(r, pollMs));
    },
  };
}
