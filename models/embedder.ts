// The contract between text and vectors: news headlines and fact sheets are embedded by one
// Embedder, and a vector store holds the vectors of exactly one (its `id` is recorded in the
// store's metadata; vectors of another embedder are refused, since their spaces differ).
export interface EmbedderInfo {
  /** provider:model, e.g. `transformers.js:all-MiniLM-L6-v2@q8` or `ollama:nomic-embed-text`. */
  readonly id: string;
  /** Length of every vector. */
  readonly dimension: number;
}

export interface Embedder extends EmbedderInfo {
  /**
   * One unit-length vector (L2 norm 1, so cosine similarity is a dot product) per text, in
   * order. Rejects with a message naming the provider when the model cannot run.
   */
  embed(texts: readonly string[], opts?: { signal?: AbortSignal }): Promise<Float32Array[]>;
  /** Frees the model (workers, sessions); the embedder cannot be used after. */
  close?(): Promise<void>;
}
