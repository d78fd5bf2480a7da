// The shipped models: what `npm start` and `tickcast evaluate` use by default. A small JSON file
// under models/artifacts/ names the normal model's artifact and the earnings branch's interval
// scale; trained nets live in models/artifacts/<name>/<version>/.
import { existsSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Features } from '../schemas/index.js';
import { driftModel, persistenceModel } from './baselines.js';
import type { EarningsCalendar } from './earnings-calendar.js';
import { ensembleModel } from './ensemble.js';
import { FEATURE_SPEC } from './features.js';
import { withEarningsInWindow, withIntervalScale } from './interval-scale.js';
import type { Attribution, Model, ModelOutput, WidthAttribution } from './model.js';
import { type PointChoice, withConstantPoints } from './point-forecast.js';
import { type LoadedQuantileNet, loadQuantileNet, quantileNetModel } from './quantile-net.js';

export const ARTIFACTS_DIR = new URL('./artifacts', import.meta.url).pathname;

export interface ShippedManifest {
  /**
   * A baseline name, a trained net at artifacts/<name>/<version>/, or an ensemble: the mean of
   * its `members` (trained nets).
   */
  normal: { name: string; version: string; members?: { name: string; version: string }[] };
  /** Scale of the model's interval on normal days (fitted on validation normal days); default 1. */
  normalIntervalScale?: number;
  /** Scale of the normal model's interval on earnings days (fitted on validation earnings days). */
  earningsIntervalScale: number;
  /** Factor on the normal model's median on earnings days (fitted likewise); default 1. */
  earningsMedianShrink?: number;
  horizons: number[];
  featureSpec: string;
  /**
   * Per horizon, which median ships: the net's, or a constant baseline's where the net had no MAE
   * skill against the best baseline on validation (`choosePoints`). Absent in manifests written
   * before it, and for a baseline: the model's own median at every horizon.
   */
  points?: PointChoice[];
  /** Validation figures that chose it (see `tickcast train`). */
  selection?: unknown;
}

export interface ShippedModels {
  normal: Model;
  earnings: Model;
  /**
   * The net behind them with its own medians, when `points` replaced some: its predicted returns
   * are the cross-sectional ranking (rank IC) that a constant median cannot carry (`tickcast evaluate`
   * scores it). The live predictions need not run it: `normal` and `earnings` carry its median as
   * every output's `rankReturn` (their `rankScore`) from the same pass.
   */
  ranking: Model | null;
  manifest: ShippedManifest;
}

const BASELINES: Record<string, (opts: { horizons: number[] }) => Model> = {
  persistence: persistenceModel,
  drift: driftModel,
};

/**
 * Loads the shipped pair, or null when nothing has been shipped yet. Given the earnings `calendar`
 * the router uses, the normal model widens the interval of every horizon whose window holds an
 * announcement later than its first session (`withEarningsInWindow`); without one, it does not.
 */
export async function loadShipped(
  dir = ARTIFACTS_DIR,
  opts: { calendar?: Pick<EarningsCalendar, 'nextEarnings'> } = {},
): Promise<ShippedModels | null> {
  const file = join(dir, 'shipped.json');
  if (!existsSync(file)) return null;
  const manifest = JSON.parse(await readFile(file, 'utf8')) as ShippedManifest;
  const net = (ref: { name: string; version: string }) =>
    loadQuantileNet(join(dir, ref.name, ref.version), { expectSpec: FEATURE_SPEC.id });
  const { name, version, members } = manifest.normal;
  const baseline = BASELINES[name];
  const base = baseline
    ? baseline({ horizons: manifest.horizons })
    : members
      ? ensembleOf(await Promise.all(members.map(net)), { name, version })
      : (await net(manifest.normal)).model;
  // The scales below were fitted on the model with its shipped points, so they wrap it.
  const pointed = withConstantPoints(base, manifest.points ?? []);
  const k = manifest.normalIntervalScale ?? 1;
  const calibrated = k === 1 ? pointed : withIntervalScale(pointed, k, { branch: 'calibrated' });
  const normal = opts.calendar ? earningsInWindow(calibrated, manifest, opts.calendar) : calibrated;
  // The scale is the announcement day's (fitted at horizon 1): longer horizons widen less.
  const earnings = withIntervalScale(pointed, manifest.earningsIntervalScale, {
    shrink: manifest.earningsMedianShrink ?? 1,
    oneDay: true,
  });
  return { normal, earnings, ranking: pointed === base ? null : base, manifest };
}

/**
 * The normal model widening every window that holds an announcement after its first session
 * (`withEarningsInWindow`, by the announcement session's scale the earnings branch uses).
 */
export function earningsInWindow(
  normal: Model,
  manifest: Pick<ShippedManifest, 'earningsIntervalScale'>,
  calendar: Pick<EarningsCalendar, 'nextEarnings'>,
): Model {
  return withEarningsInWindow(normal, manifest.earningsIntervalScale, calendar);
}

/**
 * Nets that share their inputs (as nets trained on the same rows do) run as one model: one standardisation and
 * one upload for all of them. Others are averaged output by output.
 */
function ensembleOf(loaded: readonly LoadedQuantileNet[], meta: { name: string; version: string }): Model {
  const nets = loaded.map((l) => l.net);
  const [first] = loaded;
  if (first && nets.every((n) => first.net.sharesInputsWith(n))) {
    return quantileNetModel(nets, { ...meta, spec: first.metadata.featureSpec });
  }
  return ensembleModel(
    loaded.map((l) => l.model),
    meta,
  );
}

/** The newest version of every trained net under `dir` (versions start with their date, so they sort). */
export async function loadLatestArtifacts(dir = ARTIFACTS_DIR): Promise<Model[]> {
  if (!existsSync(dir)) return [];
  const models: Model[] = [];
  for (const name of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    const latest = readdirSync(join(dir, name.name)).sort().at(-1);
    if (latest)
      models.push((await loadQuantileNet(join(dir, name.name, latest), { expectSpec: FEATURE_SPEC.id })).model);
  }
  return models;
}

export async function writeShipped(manifest: ShippedManifest, dir = ARTIFACTS_DIR): Promise<void> {
  await writeFile(join(dir, 'shipped.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * The pipeline's routing as one model: earnings-window inputs to `earnings`, the rest to `normal` (outputs of the
 * normal ones first). Attributions, when both models give them, come from the model that made the forecast.
 */
export function routedModel(
  normal: Model,
  earnings: Model,
  calendar: { isEarningsWindow(symbol: string, ts: number): boolean },
): Model {
  const route = (inputs: readonly Features[]) => ({
    n: inputs.filter((f) => !calendar.isEarningsWindow(f.symbol, f.ts)),
    e: inputs.filter((f) => calendar.isEarningsWindow(f.symbol, f.ts)),
  });
  return {
    name: `${normal.name}|${earnings.name}`,
    version: `${normal.version}|${earnings.version}`,
    spec: normal.spec,
    horizons: normal.horizons,
    async predictBatch(inputs: readonly Features[]): Promise<ModelOutput[]> {
      const { n, e } = route(inputs);
      return [...(await normal.predictBatch(n)), ...(await earnings.predictBatch(e))];
    },
    ...(normal.attribute &&
      earnings.attribute && {
        async attribute(inputs: readonly Features[]): Promise<Attribution[]> {
          const { n, e } = route(inputs);
          return [...(await normal.attribute!(n)), ...(await earnings.attribute!(e))];
        },
      }),
    ...(normal.attributeWidth &&
      earnings.attributeWidth && {
        async attributeWidth(inputs: readonly Features[]): Promise<WidthAttribution[]> {
          const { n, e } = route(inputs);
          return [...(await normal.attributeWidth!(n)), ...(await earnings.attributeWidth!(e))];
        },
      }),
  };
}
