// A graphql-ws subscription's `next` messages written straight to its WebSocket, from a
// payload that is already JSON. graphql-ws would build `{ id, type: 'next', payload }` and
// JSON.stringify it per subscriber per event, behind a chain of promises; with 10,000
// subscribers that was most of the fan-out's CPU. Shared execution (shared-items.ts) has each
// record's result as JSON once per selection, so the message is a concatenation instead —
// byte for byte what graphql-ws sends (api.test.ts compares the frames).
import WebSocket from 'ws';

/** Where shared execution delivers an event's payload, given as JSON text. */
export interface DirectSink {
  /**
   * Sends one `next` message. Returns a promise when the socket could not take it all at once
   * (a slow reader): the caller waits for it before the next event, as graphql-ws waits for
   * each send, so the subscription's own bounded buffer (pubsub.ts) absorbs the backlog.
   */
  next(payloadJson: string): Promise<void> | undefined;
}

/** Put on the operation's rootValue by the graphql-ws glue (server.ts); read by shared-items.ts. */
export const DIRECT_SINK = Symbol('tickcast.directSink');

/** Counts per server, for /metrics. */
export interface DirectStats {
  sent: number;
}

/** The sink of subscription `id` on a graphql-ws connection over `ws`. */
export function wsDirectSink(socket: WebSocket, id: string, stats: DirectStats): DirectSink {
  // JSON.stringify's key order for graphql-ws's `{ id, type, payload }` literal.
  const head = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  return {
    next(payloadJson) {
      // As graphql-ws's own ws adapter: a socket that is closing drops the message.
      if (socket.readyState !== WebSocket.OPEN) return undefined;
      let flushed = false;
      let wake: (() => void) | null = null;
      // Called once the frame is in the kernel, or with an error when the socket went away.
      socket.send(`${head}${payloadJson}}`, () => {
        flushed = true;
        wake?.();
      });
      stats.sent++;
      // A write the kernel took whole leaves nothing buffered: no promise, no wait.
      if (flushed || socket.bufferedAmount === 0) return undefined;
      return new Promise<void>((resolve) => {
        wake = resolve;
      });
    },
  };
}
