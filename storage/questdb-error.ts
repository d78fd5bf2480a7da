// The error of a failed QuestDB call, apart from the store itself: the CLI checks for it without
// loading the store and its clients (pg, @questdb/nodejs-client: start-up time of every other run).

/** The error every failed QuestDB call surfaces as: it names the endpoint and what was done. */
export class QuestDbError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QuestDbError';
  }
}
