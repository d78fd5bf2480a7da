import Kafka from '@confluentinc/kafka-javascript';
const p = new Kafka.Producer({ 'bootstrap.servers': process.env.KAFKA_BROKERS, 'linger.ms': 0, 'compression.type': 'lz4', partitioner: 'murmur2_random', 'enable.idempotence': true, acks: -1, dr_cb: true, 'delivery.report.only.error': true });
await new Promise((r, j) => p.connect({}, (e) => (e ? j(e) : r())));
p.setPollInterval(100);
const flush = () => new Promise((r, j) => p.flush(10000, (e) => (e ? j(e) : r())));
const value = Buffer.alloc(120, 1);
const N = 50000;
const headers = [{ 'tc-src': '1796646109445' }, { 'tc-from': 'features' }, { 'tc-trace': 'abcdef' }];
for (const [name, h, key] of [['warm', undefined, 'AAPL'], ['no headers', undefined, 'AAPL'], ['3 headers', headers, 'AAPL'], ['no headers, key buf', undefined, Buffer.from('AAPL')], ['no headers again', undefined, 'AAPL'], ['3 headers again', headers, 'AAPL']]) {
  const t = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    for (;;) { try { p.produce('prodbench', i % 12, value, key, Date.now(), undefined, h); break; } catch { await flush(); } }
  }
  const t1 = process.hrtime.bigint();
  await flush();
  const c = process.cpuUsage(c0);
  console.log(name.padEnd(22), 'produce µs/msg', (Number(t1 - t) / 1000 / N).toFixed(2), ' cpu µs/msg (incl librdkafka threads)', ((c.user + c.system) / N).toFixed(2));
}
p.disconnect();
