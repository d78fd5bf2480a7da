// A graphql-ws subscription's `next` messages written straight to its WebSocket, already
// serialized. graphql-ws would build `{ id, type: 'next', payload }` and
// JSON.stringify it per subscriber per event, behind a chain of promises; with 10,000
// subscribers that was most of the fan-out's CPU. Shared execution (shared-items.ts) has each
// record's result as JSON once per selection, so the message is a copy of bytes instead — byte
// for byte what graphql-ws sends (api.test.ts compares the frames).
import WebSocket from 'ws';

/** Where shared execution delivers an event's message, already serialized. */
export interface DirectSink {
  /** The message's JSON before and after its payload (graphql-ws's `{ id, type: 'next', payload }`). */
  readonly head: Buffer;
  readonly tail: Buffer;
  /**
   * Sends one whole message (head, payload, tail) as a text frame. Returns a promise when the
   * socket could not take it all at once (a slow reader): the caller waits for it before the
   * next event, as graphql-ws waits for each send, so the subscription's own bounded buffer
   * (pubsub.ts) absorbs the backlog.
   */
  send(message: Buffer): Promise<void> | undefined;
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
  const head = Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
  const tail = Buffer.from('}');
  const text = { binary: false };
  return {
    head,
    tail,
    send(message) {
      // As graphql-ws's own ws adapter: a socket that is closing drops the message.
      if (socket.readyState !== WebSocket.OPEN) return undefined;
      let flushed = false;
      let wake: (() => void) | null = null;
      // Called once the frame is in the kernel, or with an error when the socket went away.
      socket.send(message, text, () => {
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
