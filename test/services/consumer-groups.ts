// Who owns what in consumer groups, as the broker says, through Kafka's own tool
// (`kafka-consumer-groups`, ConsumerGroupCommand) run with the machine's Java from the jars that
// `npm run services:up` fetched. Not through librdkafka's admin API in the test process: its
// DescribeGroups can abort the whole process when a connection drops mid-request (librdkafka
// #4605), and the tests that ask are the ones that kill workers.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

export interface GroupMember {
  clientId: string;
  /** Broker topic names, as the group sees them (with any topic prefix). */
  partitions: Array<{ topic: string; partition: number }>;
}

const run = promisify(execFile);

/** Members and assignments of each group; a group without members (or not known yet) has []. */
export async function describeGroups(brokers: string, groups: readonly string[]): Promise<Map<string, GroupMember[]>> {
  return parseMembers(await groupCommand(brokers, groups, ['--members', '--verbose']), groups);
}

/** Per group, each partition's lag (log end − committed offset; null: nothing committed). */
export async function groupLags(
  brokers: string,
  groups: readonly string[],
): Promise<Map<string, Array<{ topic: string; partition: number; lag: number | null }>>> {
  const out = new Map<string, Array<{ topic: string; partition: number; lag: number | null }>>(
    groups.map((g) => [g, []]),
  );
  // One row per partition: GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...
  for (const cell of rows(await groupCommand(brokers, groups, ['--offsets']))) {
    const lag = cell('LAG') ?? '-';
    out.get(cell('GROUP') ?? '')?.push({
      topic: cell('TOPIC') ?? '-',
      partition: Number(cell('PARTITION')),
      lag: lag === '-' ? null : Number(lag),
    });
  }
  return out;
}

/**
 * The rows of the tool's tables (a header row per group, starting GROUP), each as a lookup of its
 * cells by column name: undefined for a column the table does not have.
 */
function rows(stdout: string): Array<(column: string) => string | undefined> {
  const out: Array<(column: string) => string | undefined> = [];
  let columns: string[] = [];
  for (const line of stdout.split('\n')) {
    const cells = line.trim().split(/\s+/);
    if (cells[0] === 'GROUP') {
      columns = cells;
      continue;
    }
    if (columns.length === 0 || cells.length !== columns.length) continue;
    const names = columns;
    out.push((name) => (names.includes(name) ? cells[names.indexOf(name)] : undefined));
  }
  return out;
}

/** `kafka-consumer-groups --describe ARGS` for the groups: its table as text. */
async function groupCommand(brokers: string, groups: readonly string[], extra: readonly string[]): Promise<string> {
  const services = process.env.SERVICES_DIR ?? path.resolve('.services');
  const java = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  // A short-lived JVM: the quick JIT tier and the serial collector halve its start-up CPU, which
  // the workers under test share.
  const args = [
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    '-cp',
    path.join(services, 'kafka', 'lib', '*'),
    'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  ];
  args.push('--bootstrap-server', brokers, '--describe', ...extra);
  for (const g of groups) args.push('--group', g);
  const { stdout } = await run(java, args, { timeout: 60_000, maxBuffer: 16 << 20 });
  return stdout;
}

/**
 * Parses the tool's `--describe --members --verbose` table: a header row per group
 * (GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS ... CURRENT-ASSIGNMENT ...), then one row per
 * member, the assignment as `topic:0,1,2;other:3` or `-`.
 */
export function parseMembers(stdout: string, groups: readonly string[]): Map<string, GroupMember[]> {
  const out = new Map<string, GroupMember[]>(groups.map((g) => [g, []]));
  for (const cell of rows(stdout)) {
    const assignment = cell('CURRENT-ASSIGNMENT') ?? cell('ASSIGNMENT') ?? '-';
    const partitions: GroupMember['partitions'] = [];
    if (assignment !== '-') {
      for (const part of assignment.split(';')) {
        const at = part.lastIndexOf(':');
        for (const p of part.slice(at + 1).split(','))
          partitions.push({ topic: part.slice(0, at), partition: Number(p) });
      }
    }
    out.get(cell('GROUP') ?? '')?.push({ clientId: cell('CLIENT-ID') ?? '-', partitions });
  }
  return out;
}
