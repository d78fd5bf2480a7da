// Writes ui/src/lib/graphql-env.d.ts: api/schema.graphql as the introspection type gql.tada infers
// the dashboard's query types from (ui/src/lib/graphql.ts). `--check` fails when it is stale, so
// a schema change reaches the dashboard's type check (npm run check) instead of its users.
// (gql.tada's own CLI reads tsconfig through the TypeScript 5 API, which TypeScript 7 lacks.)
import { readFileSync, writeFileSync } from 'node:fs';
import { minifyIntrospection, outputIntrospectionFile } from '@gql.tada/internal';
import { buildSchema, introspectionFromSchema } from 'graphql';

const ROOT = new URL('..', import.meta.url).pathname;
const OUT = `${ROOT}ui/src/lib/graphql-env.d.ts`;
const sdl = readFileSync(`${ROOT}api/schema.graphql`, 'utf8');
const introspection = { ...minifyIntrospection(introspectionFromSchema(buildSchema(sdl))), name: 'tickcast' };
const text = `${outputIntrospectionFile(introspection, {
  fileType: '.d.ts',
  shouldPreprocess: true,
  preamble: '// Generated from api/schema.graphql by `npm run ui:graphql-env`: do not edit.\n',
})}\n`;

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(OUT, 'utf8');
  } catch {}
  if (current !== text) {
    console.error('ui/src/lib/graphql-env.d.ts is stale: run `npm run ui:graphql-env`');
    process.exit(1);
  }
} else {
  writeFileSync(OUT, text);
  console.log(`wrote ${OUT}`);
}
