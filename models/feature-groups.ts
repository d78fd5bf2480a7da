// The 180 features in plain words, for explanations: ten groups a reader without a quant
// background can follow ("momentum", "volume", "earnings timing and surprise"), and a short
// description of every single feature. Every feature belongs to exactly one group (a test checks
// it, so a new feature without a group fails the suite); a feature's group is fixed by its name.
import { FEATURE_NAMES, type FeatureName } from './features.js';

export interface FeatureGroup {
  /** Stable kebab-case id: fact ids and the UI key on it. */
  id: string;
  /** A few plain words. */
  label: string;
  /** One sentence saying what the features in it measure. */
  description: string;
  /** The feature names it holds (the whole name must match). */
  members: RegExp;
}

export const FEATURE_GROUPS = [
  {
    id: 'momentum',
    label: 'momentum over the last 1–60 days',
    description: 'How much the price has risen or fallen over the last day, week, month and quarter.',
    members: /^(ret\d+|ROC\d+)$/,
  },
  {
    id: 'trend',
    label: 'trend strength',
    description: 'How steadily the price has been climbing or sliding, and how far it sits from its moving averages.',
    members: /^(MA|BETA|RSQR)\d+$/,
  },
  {
    id: 'range-position',
    label: 'position in the recent price range',
    description: 'Where the price stands between its recent highs and lows, and how long ago those were reached.',
    members: /^((RSV|MAX|MIN|QTLU|QTLD|IMAX|IMIN)\d+|bbPctB20)$/,
  },
  {
    id: 'volatility',
    label: 'volatility',
    description: 'How widely the price has been swinging, day to day and within the day.',
    members: /^(vol20|atr14|STD\d+|KLEN)$/,
  },
  {
    id: 'oscillators',
    label: 'oscillators (RSI, MACD)',
    description: 'Classic trader gauges of overbought or oversold prices and of turning trends.',
    members: /^(rsi14|macd|macdSignal|macdHist)$/,
  },
  {
    id: 'up-down-days',
    label: 'up and down days',
    description: 'How many recent days closed higher or lower, and how much of the movement was gains.',
    members: /^(CNTP|CNTN|SUMP)\d+$/,
  },
  {
    id: 'volume',
    label: 'trading volume',
    description: 'How much is being traded compared with usual, and whether volume moves with the price.',
    members: /^(volumeZ20|(VMA|VSTD|WVMA|CORR)\d+)$/,
  },
  {
    id: 'candle',
    label: "the last day's candle shape",
    description: 'How the last day traded: open against close, and how far it reached above and below them.',
    members: /^K(MID|UP|LOW|SFT)2?$/,
  },
  {
    id: 'earnings',
    label: 'earnings timing and surprise',
    description: 'How near the next earnings report is, how long since the last, and how much that one surprised.',
    members: /^E(DAYSTO|DAYSSINCE|SURPRISE|WINDOW)$/,
  },
  {
    id: 'last-20-days',
    label: 'the pattern of the last 20 daily moves',
    description: "Each of the last 20 days' return, trading range and volume, as a sequence.",
    members: /^SEQ[RKV]\d+$/,
  },
] as const satisfies readonly FeatureGroup[];

export type FeatureGroupId = (typeof FEATURE_GROUPS)[number]['id'];

const GROUP_OF = new Map<string, (typeof FEATURE_GROUPS)[number]>();
for (const name of FEATURE_NAMES) {
  const g = FEATURE_GROUPS.find((group) => group.members.test(name));
  if (g) GROUP_OF.set(name, g);
}

/** The group a feature belongs to. Throws for a name no group holds (and the groups test fails for it). */
export function groupOf(name: FeatureName): (typeof FEATURE_GROUPS)[number] {
  const g = GROUP_OF.get(name);
  if (g === undefined) throw new Error(`feature ${name} belongs to no group in models/feature-groups.ts`);
  return g;
}

export interface GroupContribution {
  group: FeatureGroupId;
  label: string;
  description: string;
  /** Sum of the group's features' contributions (log return). */
  contribution: number;
}

/**
 * Per-feature contributions (spec order, as `Attribution.contributions`) summed per group, every group listed,
 * largest |contribution| first. They add up to the total, so to predictedReturn − baselineReturn.
 */
export function groupContributions(contributions: ArrayLike<number>): GroupContribution[] {
  checkLength(contributions);
  const sums = new Map<FeatureGroupId, number>(FEATURE_GROUPS.map((g) => [g.id, 0]));
  FEATURE_NAMES.forEach((name, i) => {
    const id = groupOf(name).id;
    sums.set(id, sums.get(id)! + contributions[i]!);
  });
  return FEATURE_GROUPS.map((g) => ({
    group: g.id,
    label: g.label,
    description: g.description,
    contribution: sums.get(g.id)!,
  })).sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
}

export interface FeatureContribution {
  name: FeatureName;
  /** Plain words, e.g. `5-day return`. */
  description: string;
  group: FeatureGroupId;
  contribution: number;
  /** The feature's raw value, when `values` were given (NaN while it warms up). */
  value?: number;
}

/** The `k` features with the largest |contribution|, largest first, described in plain words. */
export function topFeatures(
  contributions: ArrayLike<number>,
  k: number,
  values?: readonly number[],
): FeatureContribution[] {
  checkLength(contributions);
  return FEATURE_NAMES.map((name, i) => ({ name, i, contribution: contributions[i]! }))
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
    .slice(0, Math.max(0, k))
    .map(({ name, i, contribution }) => ({
      name,
      description: describeFeature(name),
      group: groupOf(name).id,
      contribution,
      ...(values ? { value: values[i]! } : {}),
    }));
}

/** Plain words per feature family; `n` is the number in the name (window, lag). */
const DESCRIPTIONS: readonly [RegExp, (n: number) => string][] = [
  [/^ret(\d+)$/, (n) => (n === 1 ? '1-day return' : `${n}-day return`)],
  [/^vol20$/, () => 'volatility of daily returns over 20 days'],
  [/^rsi14$/, () => '14-day RSI (high: overbought, low: oversold)'],
  [/^macd$/, () => 'MACD: gap between the 12- and 26-day average prices'],
  [/^macdSignal$/, () => 'MACD signal line (the MACD averaged over 9 days)'],
  [/^macdHist$/, () => 'MACD above or below its signal line'],
  [/^bbPctB20$/, () => 'position within the 20-day Bollinger bands'],
  [/^atr14$/, () => 'average daily trading range over 14 days'],
  [/^volumeZ20$/, () => "the last day's volume against the 20 before it"],
  [/^KMID$/, () => "the last day's move from open to close"],
  [/^KMID2$/, () => "the last day's open-to-close move as a share of its range"],
  [/^KLEN$/, () => "the last day's range from low to high"],
  [/^KUP$/, () => "how far the last day's high reached above open and close"],
  [/^KUP2$/, () => "the last day's reach above open and close as a share of its range"],
  [/^KLOW$/, () => "how far the last day's low reached below open and close"],
  [/^KLOW2$/, () => "the last day's reach below open and close as a share of its range"],
  [/^KSFT$/, () => 'where the last day closed within its range'],
  [/^KSFT2$/, () => 'where the last day closed within its range, as a share of it'],
  [/^ROC(\d+)$/, (n) => `price ${n} days ago against today's`],
  [/^MA(\d+)$/, (n) => `${n}-day average price against today's`],
  [/^STD(\d+)$/, (n) => `price volatility over ${n} days`],
  [/^BETA(\d+)$/, (n) => `slope of the price trend over ${n} days`],
  [/^RSQR(\d+)$/, (n) => `how straight the ${n}-day price trend is`],
  [/^MAX(\d+)$/, (n) => `${n}-day high against today's price`],
  [/^MIN(\d+)$/, (n) => `${n}-day low against today's price`],
  [/^RSV(\d+)$/, (n) => `position between the ${n}-day low and high`],
  [/^CORR(\d+)$/, (n) => `how price and volume moved together over ${n} days`],
  [/^CNTP(\d+)$/, (n) => `share of up days in the last ${n}`],
  [/^CNTN(\d+)$/, (n) => `share of down days in the last ${n}`],
  [/^SUMP(\d+)$/, (n) => `share of gains in all price moves over ${n} days`],
  [/^VMA(\d+)$/, (n) => `${n}-day average volume against the last day's`],
  [/^VSTD(\d+)$/, (n) => `how much volume varied over ${n} days`],
  [/^WVMA(\d+)$/, (n) => `how unevenly volume-weighted moves came over ${n} days`],
  [/^QTLU(\d+)$/, (n) => `upper end (80th percentile) of ${n}-day prices against today's`],
  [/^QTLD(\d+)$/, (n) => `lower end (20th percentile) of ${n}-day prices against today's`],
  [/^IMAX(\d+)$/, (n) => `how recently the ${n}-day high was reached`],
  [/^IMIN(\d+)$/, (n) => `how recently the ${n}-day low was reached`],
  [/^EDAYSTO$/, () => 'days until the next earnings report'],
  [/^EDAYSSINCE$/, () => 'days since the last earnings report'],
  [/^ESURPRISE$/, () => 'surprise of the last reported earnings (%)'],
  [/^EWINDOW$/, () => 'an earnings report falls before the next close'],
  [/^SEQR(\d+)$/, (n) => `return ${daysAgo(n)}`],
  [/^SEQK(\d+)$/, (n) => `trading range ${daysAgo(n)}`],
  [/^SEQV(\d+)$/, (n) => `volume ${daysAgo(n)} against its 20-day average`],
];

function daysAgo(n: number): string {
  return n === 0 ? 'on the last day' : n === 1 ? 'the day before' : `${n} days before the last`;
}

/** A feature in a few plain words, e.g. `ret5` → `5-day return`, `SEQR3` → `return 3 days before the last`. */
export function describeFeature(name: FeatureName): string {
  for (const [re, text] of DESCRIPTIONS) {
    const m = re.exec(name);
    if (m) return text(Number(m[1] ?? Number.NaN));
  }
  throw new Error(`feature ${name} has no description in models/feature-groups.ts`);
}

function checkLength(contributions: ArrayLike<number>): void {
  if (contributions.length !== FEATURE_NAMES.length) {
    throw new Error(`expected ${FEATURE_NAMES.length} contributions (spec order), got ${contributions.length}`);
  }
}
