// The dashboard's build: Svelte 5 components, output in ui/dist (served by the API at `/`).
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The chart view (lightweight-charts) is a lazy chunk; the budget is for the first view.
    chunkSizeWarningLimit: 250,
  },
  server: {
    // `npx vite ui` during development, against a running `npm start` on :4000.
    proxy: { '/graphql': { target: 'http://127.0.0.1:4000', ws: true } },
  },
});
