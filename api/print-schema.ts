// npm run api:schema — writes the printed SDL to api/schema.graphql (a test fails when it drifts).
import { writeFileSync } from 'node:fs';
import { bundledPublicTopics } from '../pipelines/modules.js';
import { printedSchema } from './schema/index.js';

const file = new URL('./schema.graphql', import.meta.url).pathname;
writeFileSync(file, printedSchema(bundledPublicTopics()));
console.error(`wrote ${file}`);
