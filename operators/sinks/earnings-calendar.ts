// earnings-calendar: keeps an in-process earnings calendar current from the `earnings` topic
// (each symbol's upcoming announcement days), for the router, features and facts, which read it
// synchronously on every bar. Declared `everyProcess` in the pipeline, so on Kafka every worker
// reads the whole (compacted) topic, not a share of its partitions.
import { defineOperator } from '../../engine/index.js';
import type { LiveEarningsCalendar } from '../../models/earnings-calendar.js';
import { schemas } from '../../schemas/index.js';

export function earningsCalendar(opts: { calendar: LiveEarningsCalendar }) {
  return defineOperator({
    kind: 'sink',
    name: 'earnings-calendar',
    input: schemas.Earnings,
    async write(records) {
      for (const r of records) opts.calendar.setUpcoming(r.value.symbol, r.value.days, r.value.ts);
    },
  });
}
