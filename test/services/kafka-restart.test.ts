// The broker restarted under a running pipeline (REAL Kafka, registry and QuestDB; npm run
// test:services). One `tickcast run --transport kafka` process replays SYNTHETIC quotes (the
// simulator, paced); a third of the way through, the test stops the broker (scripts/services.sh
// down kafka: a clean shutdown, every connection dropped) and starts it again a few seconds later.
// The process must ride it out and finish on its own with exit code 0, and QuestDB must hold every
// prediction the same pipeline makes on the memory transport, exactly once (count + checksum).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { TimeSeriesStore } from '../../storage/timeseries-store.js';
import { digestOf } from './prediction-digest.js';
import { killAll, logsOf, type Proc, startTickcast, until } from './processes.js';
import { expectedRun, openRunStore, type SimulatedRun, simulatedRunEnv } from './simulated-run.js';

const SYMBOLS = 100;
const TICKS = 60;
const PARTITIONS = 4;
const HORIZONS = [1, 5, 21];
const run = `r${Date.now().toString(36)}`;
const sh = promisify(execFile);

const RUN: SimulatedRun = { symbols: SYMBOLS, ticks: TICKS, partitions: PARTITIONS, horizons: HORIZONS };
const env = simulatedRunEnv(RUN, run);

const services = (...args: string[]) => sh('bash', ['scripts/services.sh', ...args], { timeout: 180_000 });

describe('broker restarted mid-stream (real Kafka, registry, QuestDB)', () => {
  const procs: Proc[] = [];
  let store: TimeSeriesStore | undefined;
  afterAll(async () => {
    await killAll(procs);
    await store?.close();
    // Whatever happened above, leave a running broker to the suites after this one.
    await services('up', 'kafka');
  });

  it('the pipeline resumes when the broker is back, and every prediction is stored exactly once', async () => {
    const { expected } = await expectedRun(RUN);
    expect(expected.count).toBe(SYMBOLS * HORIZONS.length * TICKS);

    const pipeline = startTickcast('pipeline', ['--transport', 'kafka', '--until-end', '--pace', '300ms'], env);
    procs.push(pipeline);
    store = await openRunStore(run);
    const s = store;
    await until(
      'a third of the predictions',
      180_000,
      async () => (await s.counts()).predictions > expected.count / 3,
      procs,
    );

    const storedAtStop = (await s.counts()).predictions;
    await services('down', 'kafka');
    const stoppedAt = performance.now();
    await new Promise((r) => setTimeout(r, 3000));
    await services('up', 'kafka');
    const downMs = performance.now() - stoppedAt;
    expect(pipeline.child.exitCode, logsOf(procs)).toBeNull();

    const code = await Promise.race([
      pipeline.exited,
      new Promise<string>((r) => setTimeout(() => r('still running after 5 minutes'), 300_000)),
    ]);
    const finishedMs = performance.now() - stoppedAt;
    expect(code, logsOf(procs, 30)).toBe(0);
    const stored = await digestOf(s, SYMBOLS);
    expect(stored.distinct).toBe(stored.count);
    expect(stored).toEqual(expected);
    console.log(
      `broker restart: ${SYMBOLS} SYNTHETIC symbols x ${TICKS} ticks, ${expected.count} predictions ` +
        `(${storedAtStop} stored when the broker stopped); broker down for ${Math.round(downMs)} ms, ` +
        `pipeline finished ${Math.round(finishedMs)} ms after the stop, every prediction stored once`,
    );
  }, 600_000);
});
