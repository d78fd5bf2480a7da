// A child process for exactly-once.test.ts: one stateful Kafka→Kafka node ("count": the n-th
// quote of each symbol, n in dayVolume) on a REAL broker, at-least-once or exactly-once, with
// fault injection. Not a test file itself; run as `node --import tsx test/services/exactly-once-node.ts`.
//   KAFKA_BROKERS, EOS_PREFIX   broker and topic prefix (the test's topics)
//   EOS_MODE                    'exactly-once' or 'at-least-once'
//   EOS_KILL_AFTER=N            SIGKILL this process right after the N-th send of outputs is acknowledged
//                               (exactly-once: inside the open transaction; at-least-once: before the commit)
//   EOS_FAIL_COMMIT=N           the N-th transaction fails before it commits (abort, rewind, go on)
//   EOS_INSTANCE                the instance id in its transactional id (default 'fixture')
//   EOS_CHAIN=1                 two stateful nodes chained: count → (mid, in-process) → recount → out
// It exits 0 once the node saw end-of-stream on every input partition.
import { defineOperator, definePipeline, runPipeline } from '../../engine/index.js';
import { type OutgoingMessage, type Producer, TransactionError, type Transport } from '../../engine/transport.js';
import { createKafkaTransport } from '../../engine/transports/kafka/kafka-transport.js';
import { type Quote, schemas } from '../../schemas/index.js';
import { KAFKA_BROKERS } from '../support/service-addresses.js';

const env = process.env;
const exactlyOnce = env.EOS_MODE === 'exactly-once';
const killAfter = Number(env.EOS_KILL_AFTER ?? 0);
const failCommit = Number(env.EOS_FAIL_COMMIT ?? 0);

const count = defineOperator<Quote, { out: typeof schemas.Quote }, number>({
  kind: 'transform',
  name: 'count',
  input: schemas.Quote,
  outputs: { out: schemas.Quote },
  state: { description: 'quotes seen per symbol' },
  // Deliberately not idempotent (no "seen it" check): a redelivered quote is counted again, so
  // any redelivery that leaks shows up as a duplicate or a wrong n downstream.
  process(r, ctx) {
    const n = (ctx.state.get() ?? 0) + 1;
    ctx.state.set(n);
    ctx.emit('out', { ...r.value, dayVolume: n });
  },
});

// Chained after count: its own count per symbol, m; each output carries n * 1000 + m, so a
// redelivery that reached either node's state shows (exactly once, m = n: n × 1001).
const recount = defineOperator<Quote, { out: typeof schemas.Quote }, number>({
  kind: 'transform',
  name: 'recount',
  input: schemas.Quote,
  outputs: { out: schemas.Quote },
  state: { description: 'quotes seen per symbol, after count' },
  process(r, ctx) {
    const m = (ctx.state.get() ?? 0) + 1;
    ctx.state.set(m);
    ctx.emit('out', { ...r.value, dayVolume: (r.value.dayVolume ?? 0) * 1000 + m });
  },
});

const pipeline =
  env.EOS_CHAIN === '1'
    ? definePipeline({
        name: 'eos',
        topics: {
          in: { schema: schemas.Quote, partitions: 3, external: true },
          mid: { schema: schemas.Quote, partitions: 3 },
          out: { schema: schemas.Quote, partitions: 3 },
        },
        nodes: [
          { id: 'count', operator: count, reads: 'in', writes: { out: 'mid' } },
          { id: 'recount', operator: recount, reads: 'mid', writes: { out: 'out' } },
        ],
      })
    : definePipeline({
        name: 'eos',
        topics: {
          in: { schema: schemas.Quote, partitions: 3, external: true },
          out: { schema: schemas.Quote, partitions: 3 },
        },
        nodes: [{ id: 'count', operator: count, reads: 'in', writes: { out: 'out' } }],
      });
if (env.EOS_CHAIN === '1' && pipeline.chains[0]?.fused[0] !== 'mid')
  throw new Error('fixture: expected mid to be fused');

const kafka = await createKafkaTransport({
  brokers: KAFKA_BROKERS.split(','),
  topicPrefix: env.EOS_PREFIX ?? '',
  sessionTimeoutMs: 6000,
  // The same instance id across restarts: the restarted producer fences the killed one.
  instanceId: env.EOS_INSTANCE ?? 'fixture',
  // A successor under another id waits this long for the dead producer's open transaction.
  transactionTimeoutMs: 10_000,
  log: (line) => console.error(line),
});

let sends = 0;
let commits = 0;
/** Counts acknowledged sends of output data, and kills this process after the chosen one. */
async function counted(send: () => Promise<void>, messages: readonly OutgoingMessage[]): Promise<void> {
  await send();
  if (!messages.some((m) => m.topic === 'out' && m.value !== null)) return;
  sends++;
  console.error(`fixture: outputs acknowledged (${sends})`);
  if (sends === killAfter) process.kill(process.pid, 'SIGKILL');
}
function faulty(p: Producer): Producer {
  const wrapped: Producer = { send: (m) => counted(() => p.send(m), m), close: () => p.close() };
  const begin = p.transaction?.bind(p);
  if (begin) {
    wrapped.transaction = async () => {
      const tx = await begin();
      return {
        send: (m) => counted(() => tx.send(m), m),
        commit: async (consumer, marks) => {
          if (++commits === failCommit) throw new TransactionError('fixture: injected failure before commit', false);
          await tx.commit(consumer, marks);
        },
        abort: () => tx.abort(),
      };
    };
  }
  return wrapped;
}
const transport: Transport = {
  kind: kafka.kind,
  inProcess: kafka.inProcess,
  ensureTopics: (specs) => kafka.ensureTopics(specs),
  partitions: (topic) => kafka.partitions(topic),
  producer: async () => faulty(await kafka.producer()),
  transactionalProducer: async (id) => faulty(await kafka.transactionalProducer(id)),
  consumer: (opts) => kafka.consumer(opts),
  readToEnd: (topic, partitions) => kafka.readToEnd(topic, partitions),
  close: () => kafka.close(),
};

const running = await runPipeline(pipeline, {
  transport,
  batchSize: 50,
  pollTimeoutMs: 50,
  exactlyOnce,
  log: (line) => console.error(line),
});
const summary = await running.done;
await kafka.close();
const last = pipeline.nodes.at(-1)!.id;
console.error(`fixture: done, ${summary.nodes.find((n) => n.node === last)?.recordsOut} records out`);
