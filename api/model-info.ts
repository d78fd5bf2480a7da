// The shipped model as the API reports it: models/artifacts/shipped.json and the metadata of
// the trained nets it names (validation metrics written by `tickcast train`). Read from files,
// parsed with zod so a malformed artifact is a clear error, not a half-filled answer.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ARTIFACTS_DIR } from '../models/shipped.js';

const ref = z.object({ name: z.string(), version: z.string() });

const manifestSchema = z.object({
  normal: ref.extend({ members: z.array(ref).optional() }),
  earningsIntervalScale: z.number(),
  earningsMedianShrink: z.number().optional(),
  horizons: z.array(z.number().int()),
  featureSpec: z.string(),
  selection: z
    .object({
      validation: z.object({ from: z.string(), to: z.string() }).optional(),
      maeRatio: z.record(z.string(), z.number()).optional(),
    })
    .optional(),
});

const scores = z.object({
  n: z.number(),
  mae: z.number(),
  maePersistence: z.number(),
  maeRatio: z.number(),
  hitRate: z.number(),
  rankIc: z.number(),
  coverage80: z.number(),
  pinball: z.number(),
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
        .object({ horizon: z.number().int(), all: scores, normal: scores.optional(), earnings: scores.optional() })
        .optional(),
    })
    .optional(),
});

export type Scores = z.infer<typeof scores>;

export interface Evaluation extends Scores {
  /** all, normal or earnings days. */
  segment: string;
  horizon: number;
}

export interface NetInfo {
  name: string;
  version: string;
  kind: string;
  trainedAt: string | null;
  trainingWindow: { from: string; to: string } | null;
  validation: Evaluation[];
}

export interface ModelInfo {
  name: string;
  version: string;
  featureSpec: string;
  horizons: number[];
  earningsIntervalScale: number;
  earningsMedianShrink: number;
  validationWindow: { from: string; to: string } | null;
  /** MAE ÷ persistence MAE on validation, per candidate: what chose the shipped model. */
  selection: Array<{ model: string; maeRatio: number }>;
  /** The trained nets behind it (one, or an ensemble's members; none for a baseline). */
  nets: NetInfo[];
}

export async function readModelInfo(dir = ARTIFACTS_DIR): Promise<ModelInfo | null> {
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
          return s ? [{ segment, horizon: v.horizon, ...s }] : [];
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
    selection: Object.entries(manifest.selection?.maeRatio ?? {}).map(([model, maeRatio]) => ({ model, maeRatio })),
    nets,
  };
}
