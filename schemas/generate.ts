// `npm run schemas`: writes schemas/generated.ts from schemas/*.avsc.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTypes } from './codegen.js';

const dir = dirname(fileURLToPath(import.meta.url));
writeFileSync(join(dir, 'generated.ts'), generateTypes(dir));
console.log('schemas/generated.ts written');
