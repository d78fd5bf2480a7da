// router: sends a symbol's features to the earnings model around its earnings dates and
// to the normal model otherwise (earnings days move several times more than normal days).
import { defineOperator } from '../../engine/index.js';
import { type Features, schemas } from '../../schemas/index.js';

/** What the router needs from an earnings calendar (models/earnings-calendar.ts has one). */
export interface EarningsWindows {
  /** True when the next-day return of the bar at `ts` spans an earnings announcement. */
  isEarningsWindow(symbol: string, ts: number): boolean;
}

export function router(opts: { calendar: EarningsWindows }) {
  return defineOperator<Features, { normal: typeof schemas.Features; earnings: typeof schemas.Features }>({
    kind: 'transform',
    name: 'router',
    input: schemas.Features,
    outputs: { normal: schemas.Features, earnings: schemas.Features },
    process({ value }, ctx) {
      ctx.emit(opts.calendar.isEarningsWindow(value.symbol, value.ts) ? 'earnings' : 'normal', value);
    },
  });
}
