// The explanation path scaled out (REAL Kafka, registry, QuestDB and Chroma; npm run
// test:services): one `tickcast run --transport kafka` process replays two real tickers (to the end
// of 2016, where the bundled Finviz headlines are) with their real headlines; fact sheets and
// headlines go through Kafka topics into Chroma. Mid-run the Chroma server is stopped and started
// again: the vector sink waits and retries (nothing is lost), and an explanation asked while it is
// down says so instead of failing. Embeddings come from the Ollama protocol TEST DOUBLE (no Ollama
// server can run here); the text from the grounded template.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openChromaVectorStore } from '../../storage/chroma-vector-store.js';
import { type OllamaTestDouble, startOllamaTestDouble } from '../support/ollama-test-double.js';
import {
  CHROMA_URL,
  KAFKA_BROKERS,
  QUESTDB_PG,
  QUESTDB_URL,
  SCHEMA_REGISTRY_URL,
} from '../support/service-addresses.js';
import { killAll, logsOf, type Proc, startTickcast, until } from './processes.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const TICKERS = ['AAPL', 'MSFT'];
const LAST_DAY = '2016-12-30';
const run = `x${Date.now().toString(36)}`;
const sh = promisify(execFile);
const services = (...args: string[]) => sh('bash', ['scripts/services.sh', ...args], { timeout: 180_000 });

interface Explanation {
  symbol: string;
  grounded: boolean;
  explainer: string;
  retrievalProblem: string | null;
  text: string;
  citations: Array<{ kind: string; title: string; time: string }>;
}

/** Real rows, unchanged: prices up to LAST_DAY, and the Finviz headlines of the tickers. */
function dataFolders(dir: string): { prices: string; news: string; headlines: number } {
  const prices = join(dir, 'prices');
  const news = join(dir, 'news');
  mkdirSync(prices);
  mkdirSync(news);
  for (const t of TICKERS) {
    const [header, ...rows] = readFileSync(join(ROOT, `data/sp500-daily/${t}_data.csv`), 'utf8')
      .trim()
      .split('\n');
    writeFileSync(
      join(prices, `${t}_data.csv`),
      `${[header, ...rows.filter((r) => r.slice(0, 10) <= LAST_DAY)].join('\n')}\n`,
    );
  }
  const [header, ...rows] = readFileSync(join(ROOT, 'data/news/finviz_headlines_2016_texas-ucf.csv'), 'utf8').split(
    '\n',
  );
  const kept = rows.filter((r) => TICKERS.includes(r.split(',').at(-1) ?? ''));
  writeFileSync(join(news, 'finviz.csv'), `${[header, ...kept].join('\n')}\n`);
  // Repeated headlines are dead-lettered by the source: count the distinct ones.
  const distinct = new Set(kept.map((r) => r.toLowerCase().replace(/\s+/g, ' ')));
  return { prices, news, headlines: distinct.size };
}

async function graphql<T>(url: string, query: string): Promise<T> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown };
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function explain(url: string, symbol: string): Promise<Explanation> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: `query($s: String!) { explanation(symbol: $s) {
        symbol grounded explainer retrievalProblem text citations { kind title time } } }`,
      variables: { s: symbol },
    }),
  });
  const body = (await res.json()) as { data?: { explanation: Explanation }; errors?: unknown };
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data.explanation;
}

describe('explanations on Kafka, QuestDB and Chroma (real servers)', () => {
  const procs: Proc[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'tickcast-explain-'));
  let ollama: OllamaTestDouble | undefined;
  afterAll(async () => {
    await killAll(procs);
    await ollama?.close();
    // Whatever happened above, leave a running Chroma to the suites after this one.
    await services('up', 'chroma');
    rmSync(dir, { recursive: true, force: true });
  });

  it('fact sheets and headlines reach Chroma through Kafka, survive a Chroma restart, and explain the latest predictions', async () => {
    ollama = await startOllamaTestDouble({ models: ['nomic-embed-text'] });
    const data = dataFolders(dir);
    const collection = `tickcast-${run}`;
    const proc = startTickcast('pipeline', ['--transport', 'kafka', '--pace', '15ms'], {
      ...process.env,
      TICKCAST_STORE: 'questdb',
      TICKCAST_DATA_DIR: data.prices,
      TICKCAST_NEWS: data.news,
      TICKCAST_MODEL: 'persistence',
      TICKCAST_PARTITIONS: '2',
      KAFKA_BROKERS,
      KAFKA_TOPIC_PREFIX: `${run}.`,
      SCHEMA_REGISTRY_URL,
      QUESTDB_URL,
      QUESTDB_PG,
      QUESTDB_TABLE_PREFIX: `${run}_`,
      CHROMA_URL,
      CHROMA_COLLECTION: collection,
      TICKCAST_EMBEDDER: 'ollama',
      OLLAMA_HOST: ollama.url,
      OLLAMA_EMBED_MODEL: 'nomic-embed-text',
      TICKCAST_EXPLAINER: 'template',
      NODE_OPTIONS: '--max-old-space-size=512',
    });
    procs.push(proc);
    const url = await until(
      'the API address',
      120_000,
      async () => {
        const line = proc.output.find((l) => l.includes('GraphQL on '));
        return line ? /GraphQL on (http:\/\/\S+)\/graphql/.exec(line)?.[1] : undefined;
      },
      procs,
    );
    const vectors = await openChromaVectorStore({
      url: CHROMA_URL,
      collection,
      embedder: { id: 'ollama:nomic-embed-text', dimension: 768 },
    });

    // Some headlines are in Chroma: stop it while the replay goes on, then start it again.
    await until('headlines in Chroma', 180_000, async () => (await vectors.count('news')) > 20, procs);
    await services('down', 'chroma');
    await until(
      'an explanation while Chroma is down',
      60_000,
      async () => {
        const e = await explain(url, 'AAPL').catch(() => undefined);
        return e?.retrievalProblem ? e : undefined;
      },
      procs,
    ).then((e) => {
      expect(e.grounded).toBe(true);
      expect(e.retrievalProblem).toContain('CHROMA_URL');
      expect(e.citations.every((c) => c.kind === 'FACT')).toBe(true);
    });
    await new Promise((r) => setTimeout(r, 3000));
    await services('up', 'chroma');
    expect(proc.child.exitCode, logsOf(procs)).toBeNull();

    // Nothing lost: every distinct headline, and the fact sheets of both symbols.
    await until('replay finished', 300_000, async () => proc.output.some((l) => l.includes('replay finished')), procs);
    await until(
      'every headline in Chroma',
      120_000,
      async () => (await vectors.count('news')) === data.headlines,
      procs,
    );
    expect(await vectors.count('facts')).toBeGreaterThanOrEqual(TICKERS.length);

    // Scoring and the online calibration ran on Kafka too: scores in QuestDB, steps in force.
    const live = await graphql<{
      calibration: Array<{ group: string; steps: number }>;
      liveScores: Array<{ n: number }>;
    }>(url, '{ calibration { group steps } liveScores(horizon: 1) { n } }');
    expect(live.calibration.map((c) => c.group)).toContain('1:normal');
    expect(live.calibration.find((c) => c.group === '1:normal')!.steps).toBeGreaterThan(10);
    expect(live.liveScores.reduce((n, d) => n + d.n, 0)).toBeGreaterThan(10 * TICKERS.length);

    for (const symbol of TICKERS) {
      const e = await explain(url, symbol);
      expect(e, e.text).toMatchObject({ symbol, grounded: true, explainer: 'template', retrievalProblem: null });
      const news = e.citations.filter((c) => c.kind === 'NEWS');
      expect(news.length, e.text).toBeGreaterThan(0);
      // Nothing published after the last day's close was used.
      for (const c of news) expect(Date.parse(c.time)).toBeLessThan(Date.parse(LAST_DAY) + 86_400_000);
    }
    await vectors.close();
  }, 600_000);
});
