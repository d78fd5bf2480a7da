// `tickcast explain SYMBOL`: the explanation of a symbol's latest prediction, with its citations.
// Asks the running tickcast's API when one answers (the embedded database is then locked by
// it); otherwise opens the stores itself, read from what the last run wrote.

import { existsSync } from 'node:fs';
import { ExplainError, ExplanationService } from '../explain/explanation-service.js';
import { formatDay, newYorkDay } from '../explain/format.js';
import type { Explanation } from '../explain/types.js';
import { openExplainParts, openStore } from './app.js';
import { API_SETTINGS, type ApiSetting, type Config, ConfigError, loadConfig, settingsExcept } from './config.js';
import { type CliIo, consoleOutput } from './io.js';

export interface ExplainArgs {
  horizon?: string;
  json?: boolean;
  /** Read this embedded database directly instead of asking a running server. */
  db?: string;
}

const QUERY = `query ($symbol: String!, $horizon: Int) {
  explanation(symbol: $symbol, horizon: $horizon) {
    predictionId symbol horizon text explainer requestedExplainer grounded fallbackReason firstTextMs latencyMs cached generatedAt
    citations { ref id kind title detail time score url }
  }
}`;

/** The settings of reading the stores directly: no API server is asked (the API's are not read). */
type LocalConfig = Omit<Config, ApiSetting>;

export async function explainCommand(symbolArg: string, args: ExplainArgs, io: CliIo): Promise<void> {
  const symbol = symbolArg.trim().toUpperCase();
  const horizon = Number(args.horizon ?? '1');
  // Said beside the settings' problems, in one message.
  const also = () =>
    Number.isInteger(horizon) && horizon >= 1
      ? []
      : [`--horizon ${JSON.stringify(args.horizon)}: a whole number of trading days, such as 1`];
  let explanation: Explanation;
  if (args.db) {
    // Reading a file, asking no server: a bad TICKCAST_PORT does not stop it.
    const config = loadConfig(io.env, { settings: settingsExcept(...API_SETTINGS), also });
    explanation = await locally({ ...config, TICKCAST_DB: args.db }, symbol, horizon);
  } else {
    const config = loadConfig(io.env, { also });
    explanation = (await fromServer(config, symbol, horizon)) ?? (await locally(config, symbol, horizon));
  }
  if (args.json) {
    io.out(JSON.stringify(explanation));
    return;
  }
  printExplanation(explanation, io.out);
}

/** The running server's answer, or null when none answers on TICKCAST_HOST:TICKCAST_PORT. */
async function fromServer(config: Config, symbol: string, horizon: number): Promise<Explanation | null> {
  const url = `http://${config.TICKCAST_HOST}:${config.TICKCAST_PORT}/graphql`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(config.TICKCAST_API_KEYS[0] ? { 'x-api-key': config.TICKCAST_API_KEYS[0] } : {}),
      },
      body: JSON.stringify({ query: QUERY, variables: { symbol, horizon } }),
      signal: AbortSignal.timeout(60_000),
    });
  } catch {
    return null; // nothing listening: read the stores directly
  }
  const body = (await res.json().catch(() => null)) as {
    data?: {
      explanation:
        | (Omit<Explanation, 'generatedAt' | 'citations'> & {
            generatedAt: string;
            citations: Array<Explanation['citations'][number] & { time: string; kind: string }>;
          })
        | null;
    };
    errors?: Array<{ message: string; extensions?: { code?: string } }>;
  } | null;
  if (!body) throw new Error(`${url} answered ${res.status} without a GraphQL body`);
  const error = body.errors?.[0];
  if (error) {
    const code = error.extensions?.code;
    if (code === 'UNKNOWN_SYMBOL' || code === 'BAD_HORIZON' || code === 'NO_PREDICTION')
      throw new ExplainError(code, error.message);
    throw new Error(`${url}: ${error.message}`);
  }
  const e = body.data?.explanation;
  if (!e) throw new Error(`${url}: no explanation in the answer`);
  return {
    ...e,
    generatedAt: Date.parse(e.generatedAt),
    citations: e.citations.map((c) => ({
      ...c,
      kind: c.kind.toLowerCase() as 'fact' | 'news',
      ts: Date.parse(c.time),
    })),
  };
}

async function locally(config: LocalConfig, symbol: string, horizon: number): Promise<Explanation> {
  // Reading only: opening a missing file would create an empty database and blame the symbol.
  if (config.TICKCAST_STORE === 'duckdb' && !existsSync(config.TICKCAST_DB)) {
    throw new ConfigError([`no such database file: ${config.TICKCAST_DB} (run \`tickcast run\` first or pass --db)`]);
  }
  const store = await openStore(config);
  const parts = await openExplainParts(config).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  try {
    const service = new ExplanationService({
      sources: { store, vectors: parts.vectors, embedder: parts.embedder },
      predictions: {
        latest: async (s, h) => (await store.latestPredictions([s], h))[0] ?? null,
        has: async (s) => (await store.symbols()).includes(s),
      },
      horizons: config.TICKCAST_HORIZONS,
      retrieval: { marketMinSimilarity: config.TICKCAST_MARKET_MIN_SIMILARITY },
      ...(parts.explainer ? { explainer: parts.explainer } : {}),
    });
    return await service.explain(symbol, horizon);
  } finally {
    await parts.close();
    await store.close();
  }
}

export function printExplanation(e: Explanation, out: (line: string) => void = consoleOutput.out): void {
  out(`${e.symbol}, ${e.horizon} trading day${e.horizon === 1 ? '' : 's'} ahead (prediction ${e.predictionId})`);
  out('');
  for (const paragraph of e.text.split(/\n\n/)) {
    for (const line of wrap(paragraph, 96)) out(line);
    out('');
  }
  for (const c of e.citations) {
    out(
      c.kind === 'fact'
        ? `  [${c.ref}] ${c.title}: ${c.detail}`
        : `  [${c.ref}] "${c.title}" (${c.detail}, ${formatDay(newYorkDay(c.ts))})${c.url ? ` ${c.url}` : ''}`,
    );
  }
  out('');
  const how = e.fallbackReason
    ? `written by ${e.explainer} (fallback from ${e.requestedExplainer}: ${e.fallbackReason})`
    : `written by ${e.explainer}`;
  out(
    `${how}; ${e.grounded ? 'grounded' : 'NOT grounded'}; ${Math.round(e.latencyMs)} ms${e.cached ? ' (cached)' : ''}`,
  );
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
