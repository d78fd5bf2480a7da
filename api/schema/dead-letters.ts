// Dead letters of a topic, read from its `<topic>.dlq` topic through the transport (never from
// operator internals): what was rejected, by which node, why, and the original payload.
import type { IncomingMessage } from '../../engine/index.js';
import { type DeadLetter, schemas } from '../../schemas/index.js';
import { apiError, ErrorCode } from '../errors.js';
import { builder } from './builder.js';
import { paginate } from './connection.js';

/** A dead letter as served: the envelope, where it sits in the dead-letter topic, the payload as text or base64. */
export interface DeadLetterItem {
  letter: DeadLetter;
  dlqPartition: number;
  dlqOffset: number;
}

const PayloadEncodingRef = builder.enumType('PayloadEncoding', {
  description: 'How `payload` is written: the bytes as text, or base64 when they are not text.',
  values: { UTF8: { value: 'utf8' }, BASE64: { value: 'base64' } } as const,
});

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The payload as text when it is valid UTF-8 without control characters (tab, line breaks allowed), else base64. */
export function payloadText(bytes: Buffer): { payload: string; encoding: 'utf8' | 'base64' } {
  try {
    const text = strictUtf8.decode(bytes);
    if (!/[^\P{Cc}\t\n\r]/u.test(text)) return { payload: text, encoding: 'utf8' };
  } catch {}
  return { payload: bytes.toString('base64'), encoding: 'base64' };
}

function decodeLetter(m: IncomingMessage): DeadLetter {
  try {
    return schemas.DeadLetter.type.fromBuffer(m.value!) as DeadLetter;
  } catch (err) {
    // Not written by tickcast's engine: shown, not hidden, with its bytes.
    return {
      topic: m.topic,
      node: '',
      kind: 'decode',
      reason: `not a DeadLetter record: ${err instanceof Error ? err.message : String(err)}`,
      key: m.key,
      payload: m.value ?? Buffer.alloc(0),
      timestamp: m.timestamp,
      partition: null,
      offset: null,
      failedAt: m.timestamp,
    };
  }
}

const DeadLetterRef = builder.objectRef<DeadLetterItem>('DeadLetter').implement({
  description: 'A record that could not be decoded, validated or processed (or a source row that could not be read).',
  fields: (t) => ({
    topic: t.string({ description: 'Topic the record was read from or meant for.', resolve: (d) => d.letter.topic }),
    node: t.string({ description: 'Pipeline node that rejected it.', resolve: (d) => d.letter.node }),
    kind: t.string({
      description: 'decode, validation, processing, late or source.',
      resolve: (d) => d.letter.kind,
    }),
    reason: t.string({
      description: 'Readable reason; source rows start with FILE:LINE.',
      resolve: (d) => d.letter.reason,
    }),
    key: t.string({ nullable: true, resolve: (d) => d.letter.key }),
    timestamp: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'Event time of the original record, when known.',
      resolve: (d) => d.letter.timestamp,
    }),
    failedAt: t.field({ type: 'DateTime', description: 'When it was rejected.', resolve: (d) => d.letter.failedAt }),
    partition: t.int({
      nullable: true,
      description: 'Partition of the original record, when it was read from a topic.',
      resolve: (d) => d.letter.partition,
    }),
    offset: t.float({
      nullable: true,
      description: 'Offset of the original record, when it was read from a topic.',
      resolve: (d) => d.letter.offset,
    }),
    payload: t.string({
      description: 'The original bytes (raw source line, or Avro): as text when valid UTF-8, else base64.',
      resolve: (d) => payloadText(d.letter.payload).payload,
    }),
    payloadEncoding: t.field({
      type: PayloadEncodingRef,
      resolve: (d) => payloadText(d.letter.payload).encoding,
    }),
    payloadBytes: t.int({ description: 'Size of the original payload.', resolve: (d) => d.letter.payload.length }),
  }),
});

builder.queryFields((t) => ({
  deadLetters: t.connection(
    {
      type: DeadLetterRef,
      description:
        'Dead letters of a pipeline topic (read from its `<topic>.dlq` topic), oldest first. ' +
        'Errors: UNKNOWN_TOPIC (not a topic of the pipeline), NOT_AVAILABLE (the transport cannot read topics back).',
      args: {
        topic: t.arg.string({ required: true, description: 'A pipeline topic, e.g. quotes (not quotes.dlq).' }),
        node: t.arg.string({ required: false, description: 'Only those this pipeline node rejected.' }),
      },
      resolve: async (_root, args, { services }) => {
        const { pipeline, running } = await services.started();
        const topics = pipeline.description.topics;
        const topic = topics.find((x) => x.name === args.topic);
        if (!topic) {
          throw apiError(ErrorCode.UNKNOWN_TOPIC, `unknown topic ${JSON.stringify(args.topic.slice(0, 100))}`, {
            topics: topics.map((x) => x.name),
          });
        }
        const read = running.transport?.readTopic?.bind(running.transport);
        if (!read) {
          throw apiError(
            ErrorCode.NOT_AVAILABLE,
            'this server cannot read topics back (its transport has no readTopic)',
          );
        }
        const items: DeadLetterItem[] = [];
        for (const m of await read(topic.deadLetterTopic)) {
          const letter = decodeLetter(m);
          if (args.node == null || letter.node === args.node) {
            items.push({ letter, dlqPartition: m.partition, dlqOffset: m.offset });
          }
        }
        return paginate('deadLetters', items, (d) => [d.dlqPartition, d.dlqOffset], args, services.limits.maxPageSize);
      },
    },
    { name: 'DeadLetterConnection' },
    { name: 'DeadLetterEdge' },
  ),
}));
