// GraphQL types generated from the Avro schemas of the pipeline's public topics: per topic, an
// object type named after its Avro record (fields and docs from the schema), a query of its
// records by key and time range, and a subscription fed by its `live({ hub, topic })` sink (whose
// channel is the topic's name). A data engineer declares a topic `public` with its table; no
// resolver is written by hand.
//
// Built with graphql-js around the Pothos schema rather than on the Pothos builder: that builder is
// one registry filled at import and built once, while these types depend on the pipeline a server
// runs (tests start servers of several pipelines in one process).
import {
  GraphQLBoolean,
  GraphQLEnumType,
  type GraphQLFieldConfig,
  GraphQLFloat,
  type GraphQLInputType,
  GraphQLInt,
  GraphQLList,
  type GraphQLNamedType,
  GraphQLNonNull,
  GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLScalarType,
  GraphQLSchema,
  GraphQLString,
} from 'graphql';
import type { TableTopic } from '../../engine/index.js';
import { type RecordField, recordFields, typedArraysAsArrays } from '../../schemas/index.js';
import type { RecordKey } from '../../storage/timeseries-store.js';
import type { ApiContext } from '../context.js';
import { apiError, ErrorCode } from '../errors.js';
import { watchChannels } from '../pubsub.js';
import { checkRange } from './validate.js';

/** Records a query returns when `last` is not given. */
const DEFAULT_LAST = 100;

type Row = { readonly [field: string]: unknown };
type KeyArgs = { [field: string]: string | number | boolean };
type KeyListArgs = { [field: string]: ReadonlyArray<string | number | boolean> };

/** A public topic's types clash with the schema's, or its names cannot be GraphQL names. */
export class RecordSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordSchemaError';
  }
}

/** `base` with a query and a subscription field per public topic, and their record types. */
export function withRecordTopics(base: GraphQLSchema, topics: readonly TableTopic[]): GraphQLSchema {
  if (topics.length === 0) return base;
  const query = base.getQueryType();
  const subscription = base.getSubscriptionType();
  const dateTime = base.getType('DateTime') as GraphQLScalarType;
  if (!query || !subscription || !dateTime) throw new Error('the base schema needs Query, Subscription and DateTime');
  const queryFields = query.toConfig().fields;
  const subscriptionFields = subscription.toConfig().fields;
  const added = new Map<string, GraphQLNamedType>();
  const nameType = <T extends GraphQLNamedType>(type: T, topic: string): T => {
    if (base.getType(type.name) || added.has(type.name)) {
      throw new RecordSchemaError(
        `public topic ${topic}: its GraphQL type ${type.name} (from its Avro schema) is already in the schema; rename the record`,
      );
    }
    added.set(type.name, type);
    return type;
  };

  for (const topic of topics) {
    const field = fieldName(topic.name);
    for (const [root, fields] of [
      ['Query', queryFields],
      ['Subscription', subscriptionFields],
    ] as const) {
      if (field in fields) {
        throw new RecordSchemaError(
          `public topic ${topic.name}: ${root}.${field} already exists in the schema; rename the topic`,
        );
      }
    }
    const fields = recordFields(topic.schema);
    const recordName = graphqlName(topic.schema.name.split('.').at(-1) ?? topic.schema.name, topic.name);
    const enums = new Map<string, GraphQLEnumType>();
    const scalarOf = (f: RecordField): GraphQLScalarType | GraphQLEnumType => {
      switch (f.kind) {
        case 'enum': {
          let e = enums.get(f.name);
          if (!e) {
            e = nameType(
              new GraphQLEnumType({
                name: `${recordName}${f.name[0]!.toUpperCase()}${f.name.slice(1)}`,
                values: Object.fromEntries((f.symbols ?? []).map((s) => [graphqlName(s, topic.name), { value: s }])),
              }),
              topic.name,
            );
            enums.set(f.name, e);
          }
          return e;
        }
        case 'int':
          return GraphQLInt;
        // A long may exceed GraphQL's 32-bit Int; as a Float it is exact up to 2^53.
        case 'long':
        case 'float':
        case 'double':
          return GraphQLFloat;
        case 'boolean':
          return GraphQLBoolean;
        case 'timestamp':
          return dateTime;
        default:
          return GraphQLString;
      }
    };
    const type = nameType(
      new GraphQLObjectType<Row, ApiContext>({
        name: recordName,
        description: docOf(topic.schema.avsc) ?? `A record of topic ${topic.name}.`,
        fields: () =>
          Object.fromEntries(fields.map((f) => [graphqlName(f.name, topic.name), outputField(f, scalarOf(f))])),
      }),
      topic.name,
    );
    const keyFields = topic.table.key.map((k) => fields.find((f) => f.name === k)!);

    const query: GraphQLFieldConfig<
      unknown,
      ApiContext,
      KeyArgs & { from?: number | null; to?: number | null; last?: number | null }
    > = {
      type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(type))),
      description:
        `Records of topic ${topic.name} with these key values (${topic.table.key.join(', ')}) and ` +
        `${topic.table.time} in [from, to): the newest \`last\` (default ${DEFAULT_LAST}), oldest first.`,
      args: {
        ...Object.fromEntries(
          keyFields.map((f) => [f.name, { type: new GraphQLNonNull(scalarOf(f) as GraphQLInputType) }]),
        ),
        from: { type: dateTime },
        to: { type: dateTime },
        last: { type: GraphQLInt },
      },
      resolve: async (_root, args, { services }) => {
        checkRange(args.from, args.to);
        const last = args.last ?? DEFAULT_LAST;
        const max = services.limits.maxPageSize;
        if (last < 0 || last > max) throw apiError(ErrorCode.BAD_ARGUMENT, `last: between 0 and ${max}`, { max });
        const key: RecordKey = Object.fromEntries(topic.table.key.map((k) => [k, args[k]!]));
        return services.store.records(topic, key, {
          ...(args.from != null ? { from: args.from } : {}),
          ...(args.to != null ? { to: args.to } : {}),
          limit: last,
        });
      },
    };
    queryFields[field] = query as GraphQLFieldConfig<unknown, unknown>;

    const onlySymbol = topic.table.key.length === 1 && topic.table.key[0] === 'symbol';
    const subscriptionField: GraphQLFieldConfig<unknown, ApiContext, KeyListArgs> = {
      type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(type))),
      description:
        `New records of topic ${topic.name} with any of these key values, as they are produced; records ` +
        'produced together arrive as one list.',
      args: Object.fromEntries(
        keyFields.map((f) => [
          f.name,
          { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(scalarOf(f) as GraphQLInputType))) },
        ]),
      ),
      subscribe: (_root, args, { services }) => {
        const max = services.limits.maxSymbolsPerSubscription;
        for (const k of topic.table.key) {
          const values = args[k] ?? [];
          if (values.length === 0) throw apiError(ErrorCode.BAD_ARGUMENT, `${k}: give at least one value`);
          if (values.length > max) {
            throw apiError(
              ErrorCode.TOO_MANY_SYMBOLS,
              `${k}: at most ${max} values per subscription (got ${values.length})`,
              {
                max,
              },
            );
          }
        }
        // The live sink publishes each record on `<topic>` and, by symbol, on `<topic>:<SYMBOL>`.
        const wanted = topic.table.key.map((k) => new Set(args[k]));
        const accept = (r: unknown) => topic.table.key.every((k, i) => wanted[i]!.has((r as Row)[k] as string));
        const channels = onlySymbol ? [...wanted[0]!].map((s) => `${topic.name}:${s}`) : [topic.name];
        return watchChannels(services.feed, channels, onlySymbol ? undefined : accept);
      },
      resolve: (batch: unknown) => batch,
      // The event is the list itself and a record's fields read only the record: see shared-items.ts.
      extensions: { sharedItems: true },
    };
    subscriptionFields[field] = subscriptionField as GraphQLFieldConfig<unknown, unknown>;
  }

  const config = base.toConfig();
  const newQuery = new GraphQLObjectType({ ...query.toConfig(), fields: queryFields });
  const newSubscription = new GraphQLObjectType({ ...subscription.toConfig(), fields: subscriptionFields });
  return new GraphQLSchema({
    ...config,
    query: newQuery,
    subscription: newSubscription,
    types: [...config.types.filter((t) => t !== query && t !== subscription), ...added.values()],
  });
}

/** The query and subscription field of a topic: its name in camelCase (`features.normal` → `featuresNormal`). */
export function fieldName(topic: string): string {
  const parts = topic.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const name = parts.map((p, i) => (i === 0 ? p : p[0]!.toUpperCase() + p.slice(1))).join('');
  return graphqlName(name, topic);
}

const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

function graphqlName(name: string, topic: string): string {
  if (!NAME.test(name) || name.startsWith('__') || ['true', 'false', 'null'].includes(name)) {
    throw new RecordSchemaError(`public topic ${topic}: ${JSON.stringify(name)} cannot be a GraphQL name`);
  }
  return name;
}

function outputField(f: RecordField, scalar: GraphQLScalarType | GraphQLEnumType): GraphQLFieldConfig<Row, ApiContext> {
  const number = f.kind === 'float' || f.kind === 'double';
  // NaN (a value not known yet) has no GraphQL Float: such fields are nullable and read null for it.
  const nullable = f.nullable || number;
  const description = [
    f.doc,
    f.kind === 'json' ? 'JSON text.' : undefined,
    number ? 'Null when not a number.' : undefined,
  ]
    .filter(Boolean)
    .join(' ');
  return {
    type: (nullable ? scalar : new GraphQLNonNull(scalar)) as GraphQLOutputType,
    ...(description ? { description } : {}),
    resolve: (r) => {
      const v = r[f.name];
      if (v === null || v === undefined) return null;
      if (f.kind === 'json') return JSON.stringify(v, typedArraysAsArrays);
      if (number && Number.isNaN(v)) return null;
      return v;
    },
  };
}

function docOf(avsc: Readonly<Record<string, unknown>>): string | undefined {
  return typeof avsc.doc === 'string' ? avsc.doc : undefined;
}
