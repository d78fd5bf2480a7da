// For tests that need a real API: a real pipeline that has replayed bundled tickers (and any extra
// CSV files, e.g. a broken one whose rows become dead letters) into DuckDB, and API servers over it.
// Used by api/http.test.ts and the dashboard's unit tests (ui/test/api-server.ts).
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ApiServer, startServer } from '../../api/server.js';
import { type App, buildApp, startPipeline } from '../../cli/app.js';
import { loadConfig } from '../../cli/config.js';
import type { RunningPipeline } from '../../engine/index.js';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface TestPipeline {
  /** An API server over the pipeline (port 0: a free one), closed by `close()` if not before. */
  serve(opts?: { port?: number; apiKeys?: readonly string[]; uiDir?: string }): Promise<ApiServer>;
  /** Closes every server, the pipeline and the store, and deletes the files. */
  close(): Promise<void>;
}

/**
 * Replays `tickers` (bundled CSV files, data/sp500-daily) and `files` (name → CSV text, e.g. a
 * broken file whose rows become dead letters) through the pipeline, to its end.
 */
export async function startTestPipeline(
  tickers: readonly string[],
  files: Readonly<Record<string, string>> = {},
): Promise<TestPipeline> {
  const dir = mkdtempSync(join(tmpdir(), 'tickcast-pipeline-'));
  const csv = join(dir, 'csv');
  mkdirSync(csv);
  for (const t of tickers) copyFileSync(join(ROOT, 'data/sp500-daily', `${t}_data.csv`), join(csv, `${t}_data.csv`));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(csv, name), text);
  const config = loadConfig({
    TICKCAST_DATA_DIR: csv,
    TICKCAST_DB: join(dir, 'store.duckdb'),
    TICKCAST_MODEL: 'persistence',
    TICKCAST_NEWS: 'none',
    TICKCAST_EXPLAIN: 'off',
  });
  let app: App | undefined;
  let running: RunningPipeline | undefined;
  const servers: ApiServer[] = [];
  const close = async () => {
    for (const s of servers.splice(0)) await s.close();
    await running?.transport.close();
    await app?.store.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    app = await buildApp(config);
    running = await startPipeline(app);
    await running.done;
  } catch (err) {
    await close();
    throw err;
  }
  const { store, hub } = app;
  const pipeline = running;
  return {
    async serve(opts = {}) {
      const s = await startServer({
        running: pipeline,
        store,
        hub,
        host: '127.0.0.1',
        port: opts.port ?? 0,
        horizons: config.TICKCAST_HORIZONS,
        apiKeys: opts.apiKeys ?? [],
        ...(opts.uiDir ? { uiDir: opts.uiDir } : {}),
        metricsIntervalMs: 50,
      });
      // Closing twice (a test, then `close()`) closes once.
      let closed: Promise<void> | undefined;
      const server: ApiServer = {
        url: s.url,
        port: s.port,
        connections: () => s.connections(),
        pipelineStarted: (binding) => s.pipelineStarted(binding),
        close: () => (closed ??= s.close()),
      };
      servers.push(server);
      return server;
    },
    close,
  };
}
