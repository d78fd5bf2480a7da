// The pipeline modules the CLI can run (`tickcast run --pipeline NAME|PATH`, `tickcast pipelines`):
// each builds its pipeline from the parts the app provides (the configured source, stores, live
// hub, models, ...), so any of them runs on every transport and role with the same settings.
// A module outside this folder is a file exporting `pipeline: PipelineModule` (pipelines/README.md).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Registry } from 'prom-client';
import { type Pipeline, publicTopics, type TableTopic } from '../engine/index.js';
import { type PricePredictionOptions, pricePredictionModule } from './price-prediction.js';
import { smaCrossModule } from './sma-cross.js';

/** What the app provides: the price-prediction pipeline's options, and the process's metrics registry. */
export interface PipelineParts extends PricePredictionOptions {
  registry?: Registry;
}

export interface PipelineModule {
  /** What `--pipeline` and TICKCAST_PIPELINE name it by. */
  readonly name: string;
  /** Where it is defined, for `tickcast pipelines`. */
  readonly file: string;
  readonly description: string;
  build(parts: PipelineParts): Pipeline;
  /**
   * The topics its pipeline declares `public` (the same declarations it builds them from), known
   * without building it: the API serves the bundled pipelines' public topics whichever one runs,
   * so the schema committed as api/schema.graphql does not depend on the pipeline chosen.
   */
  readonly publicTopics?: readonly TableTopic[];
  /**
   * false: it uses no explanation parts (`PipelineParts.explain`), so none are opened — no vector
   * store, embedder or explainer is needed to run it. Default true.
   */
  readonly explains?: boolean;
}

export const PIPELINES: readonly PipelineModule[] = [pricePredictionModule, smaCrossModule];

/**
 * The topics the API serves beside a running pipeline: its public topics and the bundled pipelines'.
 * A topic of the same name must be the same record and table everywhere (it is one GraphQL type).
 */
export function servedTopics(running: Pick<Pipeline, 'topics' | 'name'>): TableTopic[] {
  const out = new Map<string, { topic: TableTopic; from: string }>();
  const add = (topic: TableTopic, from: string) => {
    const known = out.get(topic.name);
    if (!known) {
      out.set(topic.name, { topic, from });
      return;
    }
    const same =
      known.topic.schema.fingerprint === topic.schema.fingerprint &&
      JSON.stringify(known.topic.table) === JSON.stringify(topic.table);
    if (!same) {
      throw new Error(
        `public topic ${topic.name}: pipeline ${from} declares it with ${topic.schema.name} ${JSON.stringify(topic.table)}, ` +
          `pipeline ${known.from} with ${known.topic.schema.name} ${JSON.stringify(known.topic.table)}; rename one`,
      );
    }
  };
  for (const t of publicTopics(running.topics.values())) add(t, running.name);
  for (const m of PIPELINES) for (const t of m.publicTopics ?? []) add(t, m.name);
  return [...out.values()].map((x) => x.topic);
}

/** The public topics of the bundled pipelines: what the committed API schema has beside the fixed types. */
export function bundledPublicTopics(): TableTopic[] {
  return PIPELINES.flatMap((m) => m.publicTopics ?? []);
}

export class UnknownPipelineError extends Error {
  constructor(readonly asked: string) {
    super(
      `no pipeline named ${JSON.stringify(asked)} and no such module file; pipelines: ${PIPELINES.map((p) => p.name).join(', ')} (or the path of a file exporting \`pipeline\`)`,
    );
    this.name = 'UnknownPipelineError';
  }
}

/** A pipeline module by name, or from a file that exports `pipeline` (or a default export). */
export async function loadPipelineModule(nameOrPath: string): Promise<PipelineModule> {
  const known = PIPELINES.find((p) => p.name === nameOrPath);
  if (known) return known;
  const file = resolve(nameOrPath);
  if (!existsSync(file)) throw new UnknownPipelineError(nameOrPath);
  const loaded = (await import(pathToFileURL(file).href).catch((err: unknown) => {
    throw asCommonJs(err, nameOrPath) ?? err;
  })) as { pipeline?: unknown; default?: unknown };
  const candidate = loaded.pipeline ?? loaded.default;
  if (!isModule(candidate)) {
    throw new Error(`${nameOrPath}: exports no pipeline module (export const pipeline = { name, description, build })`);
  }
  return { ...candidate, file: nameOrPath };
}

/**
 * A .ts file with no package.json of `"type": "module"` above it (one kept outside the repo, say) is
 * CommonJS to Node, and its `export`s made Node's require(esm) fail with a message about cycles.
 */
function asCommonJs(err: unknown, path: string): Error | null {
  if ((err as { code?: string }).code !== 'ERR_REQUIRE_CYCLE_MODULE' || !/\.[cm]?ts$/.test(path)) return null;
  return new Error(
    `${path}: loaded as CommonJS (no package.json with "type": "module" above it): name it .mts, or put {"type": "module"} in a package.json beside it`,
    { cause: err },
  );
}

function isModule(x: unknown): x is PipelineModule {
  const m = x as Partial<PipelineModule> | null;
  return !!m && typeof m.name === 'string' && typeof m.build === 'function' && typeof m.description === 'string';
}
