// `tickcast train`: fit the candidate nets, choose by validation, write the artifacts and the
// shipped manifest, and print the validation table.

import { loadDailyBars } from '../models/daily-csv.js';
import { buildDataset } from '../models/dataset.js';
import { emptyEarningsCalendar, loadEarningsCalendar } from '../models/earnings-calendar.js';
import { selectBackend } from '../models/tf-backend.js';
import { trainAndSelect } from '../models/train.js';
import { type Config, ConfigError, dataOptionProblems } from './config.js';
import { EVALUATION_HEADER, evaluationRows, HORIZONS, parseDay, signedPct } from './evaluate.js';
import { consoleOutput, type Output } from './io.js';
import { taskProgress } from './progress.js';
import { printTable } from './table.js';

export interface TrainArgs {
  data?: string;
  earnings?: string;
  trainEnd?: string;
  validationDays?: string;
  artifacts?: string;
}

/** The settings train reads: a bad one it does not read (the API port) does not stop it. */
export const TRAIN_SETTINGS = ['TICKCAST_DATA_DIR', 'TICKCAST_EARNINGS_FILE'] as const;
type TrainConfig = Pick<Config, (typeof TRAIN_SETTINGS)[number]>;

/** The options, read, with what is wrong with them (and with the folders they or the settings name). */
function trainOptions(config: TrainConfig, args: TrainArgs) {
  const problems: string[] = [];
  const trainEnd = parseDay(args.trainEnd ?? '2016-12-31', '--train-end', problems);
  const validationDays = Number(args.validationDays ?? 126);
  if (!Number.isInteger(validationDays) || validationDays < 20) {
    problems.push(`--validation-days ${args.validationDays}: a whole number of trading days >= 20`);
  }
  problems.push(...dataOptionProblems(config, args));
  return { trainEnd, validationDays, problems };
}

/** What is wrong with train's options: for loadConfig's `also`, beside the settings' problems. */
export function trainProblems(config: TrainConfig, args: TrainArgs): string[] {
  return trainOptions(config, args).problems;
}

export async function trainCommand(config: TrainConfig, args: TrainArgs, io: Output = consoleOutput): Promise<void> {
  const { trainEnd, validationDays, problems } = trainOptions(config, args);
  if (problems.length > 0) throw new ConfigError(problems);
  await selectBackend();

  const started = performance.now();
  const loading = taskProgress('loading prices', 'files');
  const { bars } = await loadDailyBars(args.data ?? config.TICKCAST_DATA_DIR, {
    onFile: (d, t) => loading.update(d, t),
  });
  loading.stop();
  const earnings = args.earnings ?? config.TICKCAST_EARNINGS_FILE;
  const calendar = earnings === 'none' ? emptyEarningsCalendar() : await loadEarningsCalendar(earnings);
  const data = buildDataset(bars, { horizons: HORIZONS, calendar });

  const epochBars = new Map<string, ReturnType<typeof taskProgress>>();
  const report = await trainAndSelect(data, {
    trainEnd,
    validationDays,
    ...(args.artifacts ? { artifactsDir: args.artifacts } : {}),
    log: (line) => io.err(line),
    onEpoch: (name, epoch, epochs) => {
      let bar = epochBars.get(name);
      if (!bar) {
        bar = taskProgress(`training ${name}`, 'epochs');
        epochBars.set(name, bar);
      }
      bar.update(epoch + 1, epochs);
    },
  });
  for (const bar of epochBars.values()) bar.stop();
  io.out(`\nvalidation (horizon 1): ${report.validation.examples.toLocaleString('en-US')} examples`);
  printTable(EVALUATION_HEADER, evaluationRows(report.results, `${report.shipped.normal.name}`), io.out);
  for (const p of report.shipped.points ?? []) {
    io.out(
      `point forecast at h${p.horizon}: ${p.point === 'net' ? 'the net' : `${p.point} ${signedPct(p.value ?? 0)}`} (validation MAE ÷ best baseline (${p.bestBaseline}) ${p.skillVsBest}, t ${p.skillT} over ${p.skillDates} dates; the net's rank IC ${p.rankIc}, t ${p.rankIcT})`,
    );
  }
  io.out(
    `shipped ${report.shipped.normal.name}@${report.shipped.normal.version}, earnings median × ${report.shipped.earningsMedianShrink ?? 1}, interval × ${report.shipped.earningsIntervalScale}; ${((performance.now() - started) / 1000).toFixed(0)} s in all`,
  );
}
