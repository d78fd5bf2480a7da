// The error of a Chroma server that did not answer, apart from the store itself: the CLI checks
// for it without loading the chromadb client (start-up time).

/** Chroma did not answer: the server is down, unreachable, or hung. Worth a retry later. */
export class ChromaUnreachableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ChromaUnreachableError';
  }
}
