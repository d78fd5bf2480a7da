// Explanations on demand: find the symbol's latest prediction, retrieve its facts and headlines,
// let the configured explainer write, check every sentence as it arrives, and fall back to the
// grounded template when the explainer fails, is slow, or writes something the checker refuses.
//
// Cached per (prediction id, explainer): a new prediction for the symbol makes a new key, and
// the old entries are dropped when the live feed announces it. Concurrent requests for the same
// key share one generation; a stream that joins late gets the text so far, then the rest.
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Prediction } from '../schemas/index.js';
import { formatFact, sourceName } from './format.js';
import { checkDirection, checkSentence, sentences } from './grounding.js';
import { type RetrievalOptions, type RetrievalSources, retrieve } from './retrieval.js';
import { templateExplainer } from './template-explainer.js';
import type { Citation, Explainer, Explanation, ExplanationContext, ExplanationEvent } from './types.js';

export type ExplainErrorCode = 'UNKNOWN_SYMBOL' | 'BAD_HORIZON' | 'NO_PREDICTION';

/** A request that cannot be explained; `code` is stable (the API maps it to a GraphQL error code). */
export class ExplainError extends Error {
  constructor(
    readonly code: ExplainErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ExplainError';
  }
}

export interface PredictionLookup {
  /** The symbol's latest prediction at this horizon, or null. */
  latest(symbol: string, horizon: number): Promise<Prediction | null>;
  /** Whether the symbol has any data at all (an unknown symbol is an error, not "no prediction yet"). */
  has(symbol: string): Promise<boolean>;
}

export interface ExplanationServiceOptions {
  sources: RetrievalSources;
  /** Where the latest predictions come from (the API's live cache, or the store). */
  predictions: PredictionLookup;
  horizons: readonly number[];
  /** The explainer asked first; default the template. */
  explainer?: Explainer;
  retrieval?: RetrievalOptions;
  /** Give up on the explainer (and fall back) without text after this long; default 10 s. */
  firstTextTimeoutMs?: number;
  /** ... or without a finished text after this long; default 60 s. */
  totalTimeoutMs?: number;
  /** Explanations kept, default 5,000. */
  cacheSize?: number;
  /**
   * How long a cached explanation is served, ms; default 5 minutes. Headlines keep arriving
   * after a prediction (a replay embeds its news behind the prices; live news is late), so an
   * explanation is written again now and then even when no new prediction came.
   */
  cacheTtlMs?: number;
  /** Registers the explanation metrics here (served at /metrics). */
  registry?: Registry;
  /**
   * Every new prediction is announced through onPrediction (the API wires its live feed): a
   * cached explanation of (symbol, horizon) is then current until the next announcement, and is
   * served without looking the latest prediction up. Default false (look it up every time).
   */
  announced?: boolean;
}

/** Why an explainer's text was not shown. */
class Fallback extends Error {}

interface Generation {
  events: ExplanationEvent[];
  wake: Set<() => void>;
  result: Promise<Explanation>;
}

export class ExplanationService {
  readonly explainerName: string;
  private readonly explainer: Explainer;
  private readonly template = templateExplainer();
  private readonly cache = new Map<string, Explanation>();
  private readonly running = new Map<string, Generation>();
  /** symbol|horizon → cache keys of that pair, to drop them when a new prediction arrives. */
  private readonly keysOf = new Map<string, Set<string>>();
  /** symbol|horizon → the cache key of its latest prediction's explanation (with `announced`). */
  private readonly current = new Map<string, string>();
  private readonly metrics: ReturnType<typeof createMetrics> | null;

  constructor(private readonly opts: ExplanationServiceOptions) {
    this.explainer = opts.explainer ?? this.template;
    this.explainerName = this.explainer.name;
    this.metrics = opts.registry ? createMetrics(opts.registry) : null;
  }

  /** The explanation of the latest prediction of (symbol, horizon). */
  async explain(symbol: string, horizon: number): Promise<Explanation> {
    const started = performance.now();
    const current = this.opts.announced ? this.cached(this.current.get(`${symbol}|${horizon}`) ?? '') : undefined;
    if (current) {
      this.metrics?.cacheHits.inc();
      return {
        ...current,
        cached: true,
        latencyMs: performance.now() - started,
        firstTextMs: performance.now() - started,
      };
    }
    const prediction = await this.prediction(symbol, horizon);
    const key = `${prediction.id}|${this.explainer.name}`;
    const hit = this.cached(key);
    if (hit) {
      this.metrics?.cacheHits.inc();
      return { ...hit, cached: true, latencyMs: performance.now() - started, firstTextMs: performance.now() - started };
    }
    return this.generation(key, prediction).result;
  }

  /** The same, as events: text as it is written (checked sentence by sentence), then the explanation. */
  async *stream(symbol: string, horizon: number): AsyncGenerator<ExplanationEvent> {
    const prediction = await this.prediction(symbol, horizon);
    const key = `${prediction.id}|${this.explainer.name}`;
    const hit = this.cached(key);
    if (hit) {
      this.metrics?.cacheHits.inc();
      yield { type: 'text', delta: hit.text };
      yield { type: 'done', explanation: { ...hit, cached: true } };
      return;
    }
    const g = this.generation(key, prediction);
    g.result.catch(() => undefined); // awaited below; never an unhandled rejection
    let next = 0;
    for (;;) {
      while (next < g.events.length) {
        const e = g.events[next++]!;
        yield e;
        if (e.type === 'done') return;
      }
      const settled = await Promise.race([
        new Promise<'event'>((resolve) => g.wake.add(() => resolve('event'))),
        g.result.then(
          () => 'event' as const,
          (err: unknown) => err,
        ),
      ]);
      if (settled !== 'event') throw settled;
    }
  }

  /** Drops cached explanations of older predictions of this symbol and horizon (the live feed calls it). */
  onPrediction(p: Pick<Prediction, 'id' | 'symbol' | 'horizon'>): void {
    const pair = `${p.symbol}|${p.horizon}`;
    if (!this.current.get(pair)?.startsWith(`${p.id}|`)) this.current.delete(pair);
    const keys = this.keysOf.get(pair);
    if (!keys) return;
    for (const key of keys) {
      if (!key.startsWith(`${p.id}|`)) {
        this.cache.delete(key);
        keys.delete(key);
      }
    }
  }

  /**
   * A cached explanation younger than the TTL; one written after a fallback is kept at most 30 s
   * (the explainer may be back), and one without the vector store is never cached (see store()).
   */
  private cached(key: string): Explanation | undefined {
    const e = this.cache.get(key);
    if (!e) return undefined;
    const ttl = this.opts.cacheTtlMs ?? 300_000;
    return Date.now() - e.generatedAt < (e.fallbackReason ? Math.min(ttl, 30_000) : ttl) ? e : undefined;
  }

  private async prediction(symbol: string, horizon: number): Promise<Prediction> {
    if (!this.opts.horizons.includes(horizon)) {
      throw new ExplainError(
        'BAD_HORIZON',
        `horizon ${horizon} is not forecast; the pipeline forecasts ${this.opts.horizons.join(', ')} trading days`,
      );
    }
    const p = await this.opts.predictions.latest(symbol, horizon);
    if (p) return p;
    if (!(await this.opts.predictions.has(symbol))) {
      throw new ExplainError('UNKNOWN_SYMBOL', `unknown symbol ${JSON.stringify(symbol)}: no data for it`);
    }
    throw new ExplainError(
      'NO_PREDICTION',
      `${symbol} has no prediction yet (the features need about 60 bars of history first)`,
    );
  }

  private generation(key: string, prediction: Prediction): Generation {
    const running = this.running.get(key);
    if (running) return running;
    const events: ExplanationEvent[] = [];
    const wake = new Set<() => void>();
    const wakeAll = () => {
      for (const w of wake) w();
      wake.clear();
    };
    const push = (e: ExplanationEvent) => {
      events.push(e);
      wakeAll();
    };
    const result = this.generate(prediction, push)
      .then((explanation) => {
        this.store(key, prediction, explanation);
        push({ type: 'done', explanation });
        return explanation;
      })
      .finally(() => {
        this.running.delete(key);
        wakeAll(); // a failure too: streams waiting for the next event see the rejection
      });
    const g: Generation = { events, wake, result };
    this.running.set(key, g);
    return g;
  }

  private async generate(prediction: Prediction, push: (e: ExplanationEvent) => void): Promise<Explanation> {
    const started = performance.now();
    let firstTextMs: number | null = null;
    const emit = (delta: string) => {
      firstTextMs ??= performance.now() - started;
      push({ type: 'text', delta });
    };
    const ctx = await retrieve(this.opts.sources, prediction, this.opts.retrieval);
    let fallbackReason: string | null = null;
    if (this.explainer !== this.template) {
      try {
        const text = await this.checked(ctx, emit);
        return this.finish(ctx, text, this.explainer.name, null, started, firstTextMs);
      } catch (err) {
        fallbackReason = err instanceof Fallback ? err.message : `${this.explainer.name} failed: ${messageOf(err)}`;
        this.metrics?.fallbacks.inc({ explainer: this.explainer.name, reason: reasonKind(fallbackReason) });
        if (firstTextMs !== null) push({ type: 'reset', reason: fallbackReason });
        firstTextMs = null;
      }
    }
    const text = await this.template.explain(ctx);
    emit(text);
    return this.finish(ctx, text, this.template.name, fallbackReason, started, firstTextMs);
  }

  /** Runs the explainer, passing on each sentence only once it passes the checker. */
  private async checked(ctx: ExplanationContext, emit: (delta: string) => void): Promise<string> {
    const controller = new AbortController();
    let failure: Fallback | null = null;
    // Settles on the first failure, whether or not the explainer honours the abort: the
    // template then takes over within the time limit, never after the explainer gives up.
    let failed: (f: Fallback) => void = () => undefined;
    const failedPromise = new Promise<never>((_, reject) => {
      failed = reject;
    });
    failedPromise.catch(() => undefined);
    const fail = (reason: string) => {
      if (failure) return;
      failure = new Fallback(reason);
      controller.abort(failure);
      failed(failure);
    };
    const firstTimer = setTimeout(
      () => fail(`${this.explainer.name} wrote nothing within ${this.opts.firstTextTimeoutMs ?? 10_000} ms`),
      this.opts.firstTextTimeoutMs ?? 10_000,
    );
    const totalTimer = setTimeout(
      () => fail(`${this.explainer.name} did not finish within ${this.opts.totalTimeoutMs ?? 60_000} ms`),
      this.opts.totalTimeoutMs ?? 60_000,
    );
    let pending = '';
    let shown = '';
    // `raw` is the sentence with the whitespace before it (a space, or a blank line between
    // paragraphs), passed on as written.
    const pass = (sentence: string, raw: string) => {
      const r = checkSentence(sentence, ctx);
      if (r.problems.length > 0) {
        fail(`not grounded: ${r.problems[0]} (in "${sentence.slice(0, 80)}")`);
        return;
      }
      const delta = shown ? raw : raw.trimStart();
      shown += delta;
      emit(delta);
    };
    /** Takes the first sentence of `pending` off it, and passes it on. */
    const takeFirst = (sentence: string) => {
      const end = pending.indexOf(sentence) + sentence.length;
      const raw = pending.slice(0, end);
      pending = pending.slice(end);
      pass(sentence, raw);
    };
    try {
      const writing = this.explainer.explain(ctx, {
        signal: controller.signal,
        onText: (delta) => {
          clearTimeout(firstTimer);
          if (failure) return;
          pending += delta;
          const pieces = sentences(pending);
          // A sentence is complete once the next one has begun (its citations may still be coming).
          while (pieces.length > 1 && !pieces[1]!.startsWith('[') && !failure) takeFirst(pieces.shift()!);
        },
      });
      writing.catch(() => undefined); // after a failure nobody awaits it
      const full = await Promise.race([writing, failedPromise]);
      if (failure) throw failure;
      // Explainers that do not stream hand over the whole text at the end.
      if (!shown && !pending) pending = full;
      for (const sentence of sentences(pending)) if (!failure) takeFirst(sentence);
      if (failure) throw failure;
      const problems = checkDirection(shown, ctx);
      if (shown.trim() === '') problems.push('the text is empty');
      if (problems.length > 0) throw new Fallback(`not grounded: ${problems[0]}`);
      return shown;
    } catch (err) {
      throw failure ?? err;
    } finally {
      clearTimeout(firstTimer);
      clearTimeout(totalTimer);
    }
  }

  private finish(
    ctx: ExplanationContext,
    text: string,
    explainer: string,
    fallbackReason: string | null,
    started: number,
    firstTextMs: number | null,
  ): Explanation {
    // The template is checked too: a failure there is a bug, counted and reported, never hidden.
    const problems = sentences(text).flatMap((s) => checkSentence(s, ctx).problems);
    problems.push(...checkDirection(text, ctx));
    const grounded = problems.length === 0;
    const latencyMs = performance.now() - started;
    this.metrics?.generated.inc({ explainer, grounded: String(grounded) });
    this.metrics?.seconds.observe({ explainer }, latencyMs / 1000);
    return {
      predictionId: ctx.prediction.id,
      symbol: ctx.prediction.symbol,
      horizon: ctx.prediction.horizon,
      text,
      citations: citationsOf(text, ctx),
      explainer,
      requestedExplainer: this.explainer.name,
      grounded,
      fallbackReason: fallbackReason ?? (grounded ? null : `template not grounded: ${problems[0]}`),
      retrievalProblem: ctx.degraded,
      firstTextMs: firstTextMs ?? latencyMs,
      latencyMs,
      cached: false,
      generatedAt: Date.now(),
    };
  }

  private store(key: string, p: Prediction, e: Explanation): void {
    // Written without its fact sheet and headlines (the vector store was down): ask again next time.
    if (e.retrievalProblem) return;
    this.cache.set(key, e);
    const pair = `${p.symbol}|${p.horizon}`;
    let keys = this.keysOf.get(pair);
    if (!keys) {
      keys = new Set();
      this.keysOf.set(pair, keys);
    }
    keys.add(key);
    this.current.set(pair, key);
    const max = this.opts.cacheSize ?? 5000;
    // Oldest first: a Map iterates in insertion order.
    for (const old of this.cache.keys()) {
      if (this.cache.size <= max) break;
      this.cache.delete(old);
    }
  }
}

/** The cited items in order of first citation. */
function citationsOf(text: string, ctx: ExplanationContext): Citation[] {
  const refs: string[] = [];
  for (const m of text.matchAll(/\[([^\][]+)\]/g)) {
    for (const r of m[1]!.split(/[,;]\s*/)) if (!refs.includes(r.trim())) refs.push(r.trim());
  }
  const asOf = ctx.sheet?.asOf ?? ctx.window.to;
  return refs.flatMap((ref): Citation[] => {
    const f = ctx.facts.find((x) => x.ref === ref || x.id === ref);
    if (f) {
      return [
        { ref: f.ref, id: f.id, kind: 'fact', title: f.label, detail: formatFact(f), ts: asOf, score: null, url: null },
      ];
    }
    const n = ctx.news.find((x) => x.ref === ref || x.id === ref);
    if (n) {
      return [
        {
          ref: n.ref,
          id: n.id,
          kind: 'news',
          title: n.headline,
          detail: sourceName(n.source),
          ts: n.ts,
          score: n.score,
          url: n.url,
        },
      ];
    }
    return [];
  });
}

function createMetrics(registry: Registry) {
  return {
    generated: new Counter({
      name: 'tickcast_explanations_total',
      help: 'Explanations generated, by the explainer that wrote the text shown and whether it passed the grounding checker',
      labelNames: ['explainer', 'grounded'] as const,
      registers: [registry],
    }),
    fallbacks: new Counter({
      name: 'tickcast_explanation_fallbacks_total',
      help: "Explanations where the configured explainer's text was not shown, by reason",
      labelNames: ['explainer', 'reason'] as const,
      registers: [registry],
    }),
    cacheHits: new Counter({
      name: 'tickcast_explanation_cache_hits_total',
      help: 'Explanations served from the cache',
      registers: [registry],
    }),
    seconds: new Histogram({
      name: 'tickcast_explanation_seconds',
      help: 'Time to generate an explanation (retrieval, writing, checking)',
      labelNames: ['explainer'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}

/** A metric label for a fallback reason: its kind, not its text. */
function reasonKind(reason: string): string {
  if (reason.includes('not grounded')) return 'not-grounded';
  if (/within \d+ ms/.test(reason)) return 'timeout';
  if (/ECONNREFUSED|fetch failed|connect/i.test(reason)) return 'unreachable';
  if (reason.includes('malformed reply')) return 'malformed';
  return 'error';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
