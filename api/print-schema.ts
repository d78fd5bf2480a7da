// npm run api:schema — writes the printed SDL to api/schema.graphql (a test fails when it drifts).
import { writeFileSync } from 'node:fs';
import { printedSchema } from './schema/index.js';

const file = new URL('./schema.graphql', import.meta.url).pathname;
writeFileSync(file, printedSchema());
console.error(`wrote ${file}`);
