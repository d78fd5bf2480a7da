// The shipped model as the API reports it: models/artifacts/shipped.json and the metadata of
// the trained nets it names (validation metrics written by `tickcast train`). Read from files,
// parsed with zod so a malformed artifact is a clear error, not a half-filled answer. Artifacts
// trained before the baselines beside persistence were recorded (constantDrift, always-up, the
// best baseline) read as null for those figures.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

const ref = z.object({ name: z.string(), version: z.string() });

const manifestSchema = z.object({
  normal: ref.extend({ members: z.array(ref).optional() }),
  earningsIntervalScale: z.number(),
  earningsMedianShrink: z.number().optional(),
  horizons: z.array(z.number().int()),
  featureSpec: z.string(),
  // JSON has no NaN: a figure that was NaN (e.g. a rank IC t over too few days) was written as null.
  points: z
    .array(
      z.object({
        horizon: z.number().int(),
        point: z.enum(['net', 'constantDrift', 'persistence']),
        value: z.number().nullable(),
        skillVsBest: z.number().nullable(),
        bestBaseline: z.string(),
        skillT: z.number().nullable(),
        skillDates: z.number().int(),
        rankIc: z.number().nullable(),
        rankIcT: z.number().nullable(),
      }),
    )
    .optional(),
  selection: z
    .object({
      validation: z.object({ from: z.string(), to: z.string() }).optional(),
      maeRatio: z.record(z.string(), z.number()).optional(),
      bestBaseline: z.string().optional(),
      skillVsBest: z.record(z.string(), z.number()).optional(),
    })
    .optional(),
});

// JSON has no NaN: a figure that was NaN (e.g. no earnings days) was written as null.
const figure = z.number().nullable();

const scores = z.object({
  n: z.number(),
  mae: z.number(),
  maePersistence: z.number(),
  maeRatio: z.number(),
  hitRate: z.number(),
  rankIc: z.number(),
  coverage80: z.number(),
  pinball: z.number(),
  hitRateAlwaysUp: figure.optional(),
  rankIcT: figure.optional(),
});

const versus = z.object({
  baselines: z.record(z.string(), z.object({ mae: figure, maeRatio: figure, hitRate: figure })),
  alwaysUpHitRate: figure,
  best: z.string(),
  skillVsBest: figure,
});

const metadataSchema = z.object({
  name: z.string(),
  version: z.string(),
  kind: z.string(),
  trainedAt: z.string().optional(),
  trainingWindow: z.object({ from: z.string(), to: z.string() }).optional(),
  metrics: z
    .object({
      validation: z
        .object({
          horizon: z.number().int(),
          all: scores,
          normal: scores.optional(),
          earnings: scores.optional(),
          versus: z.object({ all: versus, normal: versus.optional(), earnings: versus.optional() }).optional(),
        })
        .optional(),
    })
    .optional(),
});

type Scores = z.infer<typeof scores>;

export interface Evaluation extends Omit<Scores, 'hitRateAlwaysUp' | 'rankIcT'> {
  /** all, normal or earnings days. */
  segment: string;
  horizon: number;
  rankIcT: number | null;
  /** The baseline with the lowest MAE on the same days (persistence, drift or constantDrift). */
  bestBaseline: string | null;
  /** mae ÷ the best baseline's MAE: below 1 beats every baseline. */
  skillVsBest: number | null;
  /** constantDrift (the training window's median return, fixed) on the same days. */
  maeConstantDrift: number | null;
  hitRateConstantDrift: number | null;
  /** The hit rate of always forecasting "up" on the same days. */
  hitRateAlwaysUp: number | null;
}

/** One segment's validation scores with the baseline figures, null where the artifact has none. */
function evaluation(segment: string, horizon: number, s: Scores, v: z.infer<typeof versus> | undefined): Evaluation {
  const drift = v?.baselines.constantDrift;
  return {
    ...s,
    segment,
    horizon,
    rankIcT: s.rankIcT ?? null,
    bestBaseline: v?.best ?? null,
    skillVsBest: v?.skillVsBest ?? null,
    maeConstantDrift: drift?.mae ?? null,
    hitRateConstantDrift: drift?.hitRate ?? null,
    hitRateAlwaysUp: v?.alwaysUpHitRate ?? s.hitRateAlwaysUp ?? null,
  };
}

export interface NetInfo {
  name: string;
  version: string;
  kind: string;
  trainedAt: string | null;
  trainingWindow: { from: string; to: string } | null;
  validation: Evaluation[];
}

/** Which median ships at one horizon, and the validation figures that decided it (`tickcast train`). */
export type PointForecast = NonNullable<z.infer<typeof manifestSchema>['points']>[number];

export interface ModelInfo {
  name: string;
  version: string;
  featureSpec: string;
  horizons: number[];
  earningsIntervalScale: number;
  earningsMedianShrink: number;
  validationWindow: { from: string; to: string } | null;
  /**
   * Per candidate on validation normal days: MAE ÷ persistence MAE (what chose the shipped model)
   * and ÷ the best baseline's (null when the manifest predates it).
   */
  selection: Array<{ model: string; maeRatio: number; skillVsBest: number | null }>;
  /** The baseline with the lowest validation MAE on normal days; null when the manifest predates it. */
  bestBaseline: string | null;
  /** The trained nets behind it (one, or an ensemble's members; none for a baseline). */
  nets: NetInfo[];
  /**
   * Per horizon, the net's median or a constant baseline's where the net had no MAE skill on
   * validation; empty for a manifest written before it (the net's median at every horizon).
   */
  points: PointForecast[];
}

/**
 * `dir`: where shipped.json lives, by default models/artifacts (models/shipped.ts, loaded here on
 * the first read: it brings TensorFlow.js, which the API does not need to start serving).
 */
export async function readModelInfo(dir?: string): Promise<ModelInfo | null> {
  dir ??= (await import('../models/shipped.js')).ARTIFACTS_DIR;
  const file = join(dir, 'shipped.json');
  if (!existsSync(file)) return null;
  const manifest = manifestSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  const refs = manifest.normal.members ?? [manifest.normal];
  const nets: NetInfo[] = [];
  for (const r of refs) {
    const metaFile = join(dir, r.name, r.version, 'metadata.json');
    if (!existsSync(metaFile)) continue; // a baseline has no artifact
    const meta = metadataSchema.parse(JSON.parse(await readFile(metaFile, 'utf8')));
    const v = meta.metrics?.validation;
    const validation: Evaluation[] = v
      ? (['all', 'normal', 'earnings'] as const).flatMap((segment) => {
          const s = v[segment];
          return s ? [evaluation(segment, v.horizon, s, v.versus?.[segment])] : [];
        })
      : [];
    nets.push({
      name: meta.name,
      version: meta.version,
      kind: meta.kind,
      trainedAt: meta.trainedAt ?? null,
      trainingWindow: meta.trainingWindow ?? null,
      validation,
    });
  }
  return {
    name: manifest.normal.name,
    version: manifest.normal.version,
    featureSpec: manifest.featureSpec,
    horizons: manifest.horizons,
    earningsIntervalScale: manifest.earningsIntervalScale,
    earningsMedianShrink: manifest.earningsMedianShrink ?? 1,
    validationWindow: manifest.selection?.validation ?? null,
    selection: Object.entries(manifest.selection?.maeRatio ?? {}).map(([model, maeRatio]) => ({
      model,
      maeRatio,
      skillVsBest: manifest.selection?.skillVsBest?.[model] ?? null,
    })),
    bestBaseline: manifest.selection?.bestBaseline ?? null,
    nets,
    points: manifest.points ?? [],
  };
}
