// `npm start` runs this first: builds the dashboard into ui/dist when it is missing, so a fresh
// clone serves it at `/` without a separate step. A failed build does not stop the API.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(`${root}ui/dist/index.html`)) {
  console.error('tickcast: building the dashboard (ui/dist is missing; `npm run build` does this)…');
  try {
    execFileSync(
      process.execPath,
      [`${root}node_modules/vite/bin/vite.js`, 'build', '--config', 'ui/vite.config.ts', '--logLevel', 'warn'],
      {
        cwd: root,
        stdio: 'inherit',
      },
    );
  } catch {
    console.error('tickcast: the dashboard did not build; the API still starts. Run `npm install && npm run build`.');
  }
}
