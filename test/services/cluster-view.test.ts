// One view of a scaled-out run (REAL Kafka, registry and QuestDB; npm run test:services): a
// `--role source --until-end` process, two `--role worker --until-end` processes and a
// `--role api` process, with the online calibration on (its `calibrate` node spans every
// partition of `scores`, so its end-of-stream needs the whole group). Mid-run the API's `pipeline`
// query shows the workers' figures and which worker owns which partitions; at the end the workers
// exit 0 by themselves, the source prints one summary that agrees with QuestDB, and `tickcast
// status --json` says every node has ended.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { NodeInstanceMetrics } from '../../api/pipeline-view.js';
import { nodesFor } from '../../cli/app.js';
import type { PipelineStatus } from '../../cli/status.js';
import type { TimeSeriesStore } from '../../storage/timeseries-store.js';
import { KAFKA_BROKERS } from '../support/service-addresses.js';
import { groupLags } from './consumer-groups.js';
import { killAll, logsOf, type Proc, startTickcast, until } from './processes.js';
import { expectedRun, openRunStore, type SimulatedRun, simulatedRunEnv } from './simulated-run.js';

const RUN: SimulatedRun = { symbols: 200, ticks: 30, partitions: 4, horizons: [1, 5, 21] };
const run = `c${Date.now().toString(36)}`;
const env = {
  ...simulatedRunEnv(RUN, run),
  TICKCAST_CALIBRATION: 'on',
  TICKCAST_METRICS_INTERVAL: '1s',
  KAFKA_SESSION_TIMEOUT: '6s',
};
const sh = promisify(execFile);

type Instance = Pick<NodeInstanceMetrics, 'process' | 'role' | 'state' | 'status' | 'partitions' | 'recordsIn'>;
interface NodeView {
  id: string;
  metrics: { status: string; recordsIn: number; lag: number; instances: Instance[] } | null;
}

describe('a scaled-out run seen whole (real Kafka, registry, QuestDB)', () => {
  const procs: Proc[] = [];
  let store: TimeSeriesStore | undefined;
  afterAll(async () => {
    await killAll(procs);
    await store?.close();
  });

  it('the pipeline query shows the workers and their partitions; --until-end workers exit 0 at the end; one true summary', async () => {
    const start = (name: string, args: string[]) => {
      const p = startTickcast(name, ['--transport', 'kafka', ...args], env);
      procs.push(p);
      return p;
    };
    const workers = [
      start('worker-0', ['--role', 'worker', '--until-end']),
      start('worker-1', ['--role', 'worker', '--until-end']),
    ];
    const api = start('api', ['--role', 'api']);
    const url = await until(
      'the API listening',
      120_000,
      async () => /GraphQL on (http:\/\/\S+\/graphql)/.exec(api.output.join('\n'))?.[1],
      procs,
    );
    const pipeline = async (): Promise<NodeView[]> => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query:
            '{ pipeline { nodes { id metrics { status recordsIn lag instances { process role state status partitions recordsIn } } } } }',
        }),
      });
      const body = (await res.json()) as { data?: { pipeline: { nodes: NodeView[] } }; errors?: unknown };
      if (!body.data) throw new Error(JSON.stringify(body.errors));
      return body.data.pipeline.nodes;
    };
    // Both workers own partitions of `bars` before the stream starts (each has published its share).
    await until(
      'both workers in the pipeline view',
      120_000,
      async () => {
        const bars = (await pipeline()).find((n) => n.id === 'bars')?.metrics?.instances ?? [];
        const owners = bars.filter((i) => i.role === 'worker' && (i.partitions?.length ?? 0) > 0);
        if (owners.length === 2) return true;
        throw new Error(JSON.stringify(bars));
      },
      procs,
    );
    const source = start('source', ['--role', 'source', '--until-end', '--pace', '200ms']);

    // Mid-run: the API (which runs no worker node) shows the workers' figures, per process.
    const mid = await until(
      'worker figures in the API',
      180_000,
      async () => {
        const nodes = await pipeline();
        const bars = nodes.find((n) => n.id === 'bars')!.metrics!;
        return bars.recordsIn > 0 && bars.instances.every((i) => i.recordsIn > 0) ? nodes : undefined;
      },
      procs,
    );
    const bars = mid.find((n) => n.id === 'bars')!.metrics!;
    const workerIds = workers.map((w) => `${w.child.pid}`);
    expect(bars.instances.map((i) => i.role)).toEqual(['worker', 'worker']);
    expect(bars.instances.map((i) => i.process.split('-').pop()).sort()).toEqual([...workerIds].sort());
    // Together they own every partition of `quotes`, each partition once.
    const owned = bars.instances.flatMap((i) => i.partitions ?? []).sort();
    expect(owned).toEqual(['quotes/0', 'quotes/1', 'quotes/2', 'quotes/3']);
    expect(bars.recordsIn).toBe(bars.instances.reduce((n, i) => n + i.recordsIn, 0));
    // Inside the chain, a node's figures are its own: predict-normal owns the same partitions of
    // its (in-process) input as bars does of quotes, in the same two workers.
    const predict = mid.find((n) => n.id === 'predict-normal')!.metrics!;
    expect(predict.instances.flatMap((i) => i.partitions ?? []).sort()).toEqual([
      'features.normal/0',
      'features.normal/1',
      'features.normal/2',
      'features.normal/3',
    ]);

    // The end: the workers exit by themselves, then the source, with one summary.
    for (const w of workers) expect(await w.exited, logsOf(procs)).toBe(0);
    expect(await source.exited, logsOf(procs)).toBe(0);
    for (const w of workers) expect(w.output.join('\n')).toMatch(/every input of its \d+ nodes has ended/);
    const out = source.output.join('\n');
    const quotes = RUN.symbols * RUN.ticks;
    const predictions = quotes * RUN.horizons.length;
    expect(out).toContain(`${quotes.toLocaleString('en-US')}/${quotes.toLocaleString('en-US')} quotes through`);
    expect(out).toMatch(/price-prediction: finished in/);
    expect(out).toMatch(new RegExp(`store-predictions\\s+ended\\s+${predictions.toLocaleString('en-US')}\\s`));
    store = await openRunStore(run);
    const counts = await store.counts();
    expect(counts.predictions).toBe(predictions);
    expect(out).toContain(
      `store (questdb): ${quotes.toLocaleString('en-US')} bars, ${predictions.toLocaleString('en-US')} predictions`,
    );

    // The API says the run has finished, and every node has ended there too.
    await until(
      'the API to see the end',
      60_000,
      async () => api.output.some((l) => l.includes('the run has finished in every process')),
      procs,
    );
    const end = await pipeline();
    expect(
      end.filter((n) => n.metrics?.status !== 'ended').map((n) => n.id),
      JSON.stringify(end.filter((n) => n.metrics?.status !== 'ended').map((n) => n.metrics)),
    ).toEqual([]);

    // Every group of every node has committed every record of its input (the end reached them all).
    const { pipeline: oracle } = await expectedRun(RUN);
    // A chain's nodes read in their head's group (bars → … → predict-* is one task).
    const inChain = new Set(oracle.chains.flatMap((c) => c.nodes.slice(1)));
    const groups = nodesFor(oracle, 'worker')
      .filter((id) => !inChain.has(id))
      .map((id) => `${run}.${oracle.name}.${id}`);
    const lags = await groupLags(KAFKA_BROKERS, groups);
    const lagging = [...lags].flatMap(([g, parts]) =>
      parts.filter((p) => p.lag !== 0).map((p) => `${g} ${p.topic}/${p.partition}: ${p.lag}`),
    );
    expect(lagging).toEqual([]);
    expect([...lags.values()].every((parts) => parts.length > 0)).toBe(true);

    // tickcast status reads the same from the metrics topic.
    const { stdout } = await sh(process.execPath, ['bin/tickcast.js', 'status', '--json'], { env, timeout: 120_000 });
    const [status] = JSON.parse(stdout) as PipelineStatus[];
    expect(status!.ended).toBe(true);
    expect(status!.processes.filter((p) => p.role === 'worker').map((p) => p.state)).toEqual(['exited', 'exited']);
    const calibrate = status!.nodes.find((n) => n.node === 'calibrate')!;
    expect(calibrate.status).toBe('ended');
    expect(calibrate.instances.map((i) => i.role)).toEqual(['worker', 'worker']);
    console.log(
      `cluster view: ${quotes} SYNTHETIC quotes, ${predictions} predictions, 2 workers over ${RUN.partitions} partitions; ` +
        `bars mid-run: ${bars.instances.map((i) => `${i.process} ${i.partitions?.join(',')} in ${i.recordsIn}`).join('; ')}`,
    );

    api.child.kill('SIGTERM');
    expect(await api.exited).toBe(0);
  }, 600_000);
});
