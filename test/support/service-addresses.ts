// Where the services tests and benches find the servers that `npm run services:up` starts: the
// environment (scripts/services.sh prints these variables), else that script's default ports.
const env = process.env;

export const KAFKA_BROKERS = env.KAFKA_BROKERS ?? '127.0.0.1:19092';
export const SCHEMA_REGISTRY_URL = env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:18081/apis/ccompat/v7';
/** QuestDB's HTTP port (ILP writes, /exec). */
export const QUESTDB_URL = env.QUESTDB_URL ?? 'http://127.0.0.1:19000';
/** QuestDB's PostgreSQL wire port (reads). */
export const QUESTDB_PG = env.QUESTDB_PG ?? 'postgres://admin:quest@127.0.0.1:18812/qdb';
/** Chroma's HTTP API (the vector store). */
export const CHROMA_URL = env.CHROMA_URL ?? 'http://127.0.0.1:18000';
