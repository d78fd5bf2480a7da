// What operators see: a decoded record with its key and event time. (StreamRecord, not Record:
// that would shadow TypeScript's built-in Record type wherever it is imported.)

export interface StreamRecord<T> {
  key: string;
  value: T;
  /** Event time, epoch ms. */
  timestamp: number;
  headers?: { [name: string]: string };
}

/** Thrown by an operator (or rule) to send the current record to the dead-letter topic. */
export class RecordError extends Error {
  constructor(
    message: string,
    readonly kind: 'validation' | 'processing' | 'late' = 'validation',
  ) {
    super(message);
    this.name = 'RecordError';
  }
}

/** What an error says, whatever was thrown. */
export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
