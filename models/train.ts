// Training and selection: fit every candidate net on the training window, score it and the
// baselines on a later validation window (a gap of the longest horizon in between), ship the
// best one only if it beats persistence, and calibrate the earnings branch's interval.
import { join } from 'node:path';
import { constantDriftModel, driftModel, medianLogReturns, persistenceModel } from './baselines.js';
import type { Dataset, Example } from './dataset.js';
import { ensembleModel } from './ensemble.js';
import {
  BASELINES,
  beforeTestWindow,
  type Evaluation,
  evaluateModel,
  scoreModel,
  versusBaselines,
} from './evaluate.js';
import { FEATURE_SPEC, SEQ_STEPS, sequenceColumns } from './features.js';
import { fitIntervalScale, fitMedianShrink, shrunk } from './interval-scale.js';
import { demeanByDay, toMatrix } from './matrix.js';
import type { Model } from './model.js';
import { choosePoints, maeDifference, type PointChoice, withConstantPoints } from './point-forecast.js';
import { type QuantileNetSpec, quantileNetModel, saveQuantileNet, trainQuantileNet } from './quantile-net.js';
import { ARTIFACTS_DIR, type ShippedManifest, writeShipped } from './shipped.js';
import { holdoutSplit, lowerBound } from './walk-forward.js';

export interface Candidate {
  name: string;
  spec: Omit<QuantileNetSpec, 'horizons'>;
}

export const CANDIDATES: Candidate[] = [
  { name: 'linear', spec: { kind: 'linear', l2: 1e-3, epochs: 12, batchSize: 2048, learningRate: 0.01 } },
  { name: 'mlp', spec: { kind: 'mlp', hidden: [32, 16], dropout: 0.1, l2: 1e-4, epochs: 12, batchSize: 2048 } },
  {
    name: 'tcn',
    spec: {
      kind: 'tcn',
      sequenceColumns: sequenceColumns(),
      steps: SEQ_STEPS,
      filters: 8,
      kernelSize: 3,
      dilations: [1, 2, 4],
      hidden: [16],
      dropout: 0.1,
      l2: 1e-4,
      epochs: 10,
      batchSize: 2048,
    },
  },
];

/** The ensemble candidate: the mean of every trained net above. */
export const ENSEMBLE = 'ensemble';

export interface TrainOptions {
  /** Last training day (inclusive), epoch ms. */
  trainEnd: number;
  /** Trading days at the end of the training window kept for validation and selection. */
  validationDays: number;
  candidates?: Candidate[];
  /**
   * Fit targets minus each day's cross-sectional mean (default false; `tickcast train --demean`);
   * see `demeanByDay`. On the dev data it raised validation rank IC but lost to persistence on MAE.
   */
  demean?: boolean;
  artifactsDir?: string;
  log?: (line: string) => void;
  onEpoch?: (candidate: string, epoch: number, epochs: number, loss: number) => void;
}

export interface TrainReport {
  validation: { from: number; to: number; examples: number };
  results: Evaluation[];
  shipped: ShippedManifest;
}

export async function trainAndSelect(data: Dataset, opts: TrainOptions): Promise<TrainReport> {
  const log = opts.log ?? (() => {});
  const dir = opts.artifactsDir ?? ARTIFACTS_DIR;
  const maxH = Math.max(...data.horizons);
  const endIdx = lowerBound(data.days, opts.trainEnd + 1);
  const validFrom = data.days[Math.max(0, endIdx - opts.validationDays)]!;
  const validTo = data.days[endIdx] ?? opts.trainEnd + 86_400_000;
  const split = holdoutSplit(data.days, { trainEnd: validFrom, testFrom: validFrom, testTo: validTo, horizon: maxH });
  const trainUntil = data.days[split.trainTo] ?? validFrom;
  const inWindow = (e: Example, from: number, to: number) => e.ts >= from && e.ts < to;
  const trainRows = data.examples.filter((e) => inWindow(e, data.days[0]!, trainUntil));
  const train = toMatrix(trainRows);
  // Validation targets may reach past trainEnd: they are only used to choose, never to fit.
  const validRows = data.examples.filter((e) => inWindow(e, validFrom, validTo));
  const valid = toMatrix(validRows);
  if (opts.demean ?? false) {
    // The nets fit (and stop early on) returns relative to the day's market move; selection
    // and calibration below score them against the raw returns.
    train.y = demeanByDay(trainRows, train.y, train.horizons);
    valid.y = demeanByDay(validRows, valid.y, valid.horizons);
  }
  log(
    `train: ${train.rows.toLocaleString('en-US')} examples before ${iso(trainUntil)}; validation ${valid.rows.toLocaleString('en-US')} from ${iso(validFrom)} to ${iso(validTo)}`,
  );

  const evaluateOn = { horizon: 1, from: validFrom, to: validTo };
  // constantDrift: the training rows' median h-day return (their targets end before validFrom).
  const baselines = [
    persistenceModel({ horizons: data.horizons }),
    driftModel({ horizons: data.horizons }),
    constantDriftModel(medianLogReturns(trainRows, data.horizons)),
  ];
  const baselineResults: Evaluation[] = [];
  const models = new Map<string, Model>();
  for (const b of baselines) {
    baselineResults.push(await evaluateModel(b, data, evaluateOn));
    models.set(b.name, b);
  }
  const results = baselineResults.map((r) => versusBaselines(r, baselineResults));
  // Same window + same feature spec + same seeds = the same model; anything else, a new version.
  const version = `${iso(opts.trainEnd)}-${FEATURE_SPEC.id.split('@')[1]}`;
  for (const c of opts.candidates ?? CANDIDATES) {
    const started = performance.now();
    const net = await trainQuantileNet(
      train.x,
      train.rows,
      train.cols,
      train.y,
      { ...c.spec, horizons: data.horizons },
      {
        validation: { x: valid.x, rows: valid.rows, y: valid.y },
        earlyStoppingPatience: 3,
        onEpoch: (epoch, loss) => opts.onEpoch?.(c.name, epoch, c.spec.epochs ?? 40, loss),
      },
    );
    const model = quantileNetModel(net, { name: c.name, version, spec: FEATURE_SPEC.id });
    const evaluation = versusBaselines(await evaluateModel(model, data, evaluateOn), baselineResults);
    results.push(evaluation);
    models.set(c.name, model);
    await saveQuantileNet(net, join(dir, c.name, version), {
      name: c.name,
      version,
      trainingWindow: { from: iso(data.days[0]!), to: iso(trainUntil) },
      metrics: { validation: evaluation },
    });
    log(
      `${c.name}: trained in ${((performance.now() - started) / 1000).toFixed(1)} s, validation MAE ÷ persistence ${evaluation.normal.maeRatio.toFixed(4)}`,
    );
  }

  const nets = (opts.candidates ?? CANDIDATES).map((c) => c.name);
  if (nets.length > 1) {
    const ensemble = ensembleModel(
      nets.map((n) => models.get(n)!),
      { name: ENSEMBLE, version },
    );
    results.push(versusBaselines(await evaluateModel(ensemble, data, evaluateOn), baselineResults));
    models.set(ENSEMBLE, ensemble);
  }

  // The net (or ensemble) with the lowest validation MAE on normal days ships; at each horizon where
  // it does not beat the best baseline, its point is replaced by a constant (choosePoints), so the
  // points are never worse than a baseline on validation and the net is kept for its interval
  // width and its ranking. Only when no net was trained does persistence ship.
  const netResults = results.filter((r) => !(BASELINES as readonly string[]).includes(r.model));
  const chosen =
    netResults.length > 0
      ? netResults.reduce((a, b) => (b.normal.maeRatio < a.normal.maeRatio ? b : a))
      : results.find((r) => r.model === 'persistence')!;
  let shippedModel = models.get(chosen.model)!;
  let points: PointChoice[] | undefined;
  if (netResults.includes(chosen)) {
    // The constants that would ship: every h-day return realised by the train end (training and
    // validation rows), as `tickcast evaluate` reads constantDrift's window before its test days.
    const medians = medianLogReturns(data.examples, data.horizons, beforeTestWindow(data, opts.trainEnd + 1));
    const perHorizon: Array<{ evaluation: Evaluation; skill: { t: number; dates: number } }> = [];
    for (const h of data.horizons) {
      const on = { horizon: h, from: validFrom, to: validTo };
      const base: Evaluation[] = [];
      for (const b of baselines) {
        base.push(h === 1 ? baselineResults.find((r) => r.model === b.name)! : await evaluateModel(b, data, on));
      }
      const evaluation = h === 1 ? chosen : versusBaselines(await evaluateModel(shippedModel, data, on), base);
      const normalRows = async (m: Model) => (await scoreModel(m, data, on)).filter((s) => !s.earnings);
      const bestModel = baselines.find((b) => b.name === evaluation.versus!.normal.best)!;
      const skill = maeDifference(await normalRows(shippedModel), await normalRows(bestModel), h);
      perHorizon.push({ evaluation, skill });
    }
    points = choosePoints(perHorizon, medians);
    shippedModel = withConstantPoints(shippedModel, points);
    for (const p of points) {
      log(
        `point at h${p.horizon}: ${p.point === 'net' ? chosen.model : `${p.point} ${p.value}`} (validation MAE ÷ best baseline (${p.bestBaseline}) ${p.skillVsBest}, t ${p.skillT} over ${p.skillDates} dates; rank IC ${p.rankIc}, t ${p.rankIcT})`,
      );
    }
  }
  // The earnings branch: the shipped model's median shrunk and its interval widened, both fitted
  // on its validation earnings days.
  const scored = await scoreModel(shippedModel, data, evaluateOn);
  const earningsDays = scored.filter((s) => s.earnings);
  const shrink = fitMedianShrink(earningsDays);
  const scale = fitIntervalScale(shrunk(earningsDays, shrink));
  // Normal days too: the nets' 80% interval, scaled to cover 80% of validation normal days
  // (fitted on demeaned targets, it would otherwise leave the market's move out).
  const normalScale = fitIntervalScale(scored.filter((s) => !s.earnings));
  const shipped: ShippedManifest = {
    normal: {
      name: chosen.model,
      version: chosen.version,
      ...(chosen.model === ENSEMBLE ? { members: nets.map((name) => ({ name, version })) } : {}),
    },
    normalIntervalScale: Number(normalScale.toFixed(4)),
    earningsIntervalScale: Number(scale.toFixed(4)),
    earningsMedianShrink: shrink,
    horizons: data.horizons,
    featureSpec: FEATURE_SPEC.id,
    ...(points && { points }),
    selection: {
      validation: { from: iso(validFrom), to: iso(validTo) },
      maeRatio: Object.fromEntries(results.map((r) => [r.model, Number(r.normal.maeRatio.toFixed(5))])),
      // Against the best baseline on validation normal days (persistence, drift or constantDrift).
      bestBaseline: chosen.versus!.normal.best,
      skillVsBest: Object.fromEntries(results.map((r) => [r.model, Number(r.versus!.normal.skillVsBest.toFixed(5))])),
    },
  };
  await writeShipped(shipped, dir);
  log(
    `shipped: ${chosen.model}@${chosen.version}; interval × ${shipped.normalIntervalScale}; earnings median × ${shrink}, interval × ${shipped.earningsIntervalScale}`,
  );
  return { validation: { from: validFrom, to: validTo, examples: valid.rows }, results, shipped };
}

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
