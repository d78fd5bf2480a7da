// For the dashboard's unit tests (ui/src/lib/*.test.ts): a real tickcast API over a real pipeline
// (test/support/test-pipeline.ts), and a happy-dom page served from it, so the dashboard's own
// code (fetch, graphql-ws) talks to the server as in a browser.
import { Window } from 'happy-dom';
import { vi } from 'vitest';

export { startTestPipeline, type TestPipeline } from '../../test/support/test-pipeline.js';

/**
 * A page served from `url` (happy-dom): its document, location, sessionStorage, WebSocket and
 * CloseEvent become the globals the dashboard's modules use, while the test and the server keep
 * Node's (node's fetch plays the browser's). Import the modules under test after this.
 */
export function openPage(url: string): { window: Window; close(): Promise<void> } {
  const window = new Window({ url });
  vi.stubGlobal('window', window);
  vi.stubGlobal('document', window.document);
  vi.stubGlobal('location', window.location);
  vi.stubGlobal('sessionStorage', window.sessionStorage);
  vi.stubGlobal('localStorage', window.localStorage);
  vi.stubGlobal('WebSocket', window.WebSocket);
  vi.stubGlobal('CloseEvent', window.CloseEvent);
  return {
    window,
    async close() {
      vi.unstubAllGlobals();
      await window.happyDOM.abort();
      await window.happyDOM.close();
    },
  };
}
