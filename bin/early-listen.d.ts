/** Where `tickcast run` will serve, read as cli/config.ts reads TICKCAST_PORT/TICKCAST_HOST; null: left to the config. */
export function earlyAddress(env: NodeJS.ProcessEnv): { host: string; port: number } | null;
/** Listens at `address`, holding requests (upgrades: 503, retry) until the API takes it (api/early-server.ts); false: could not listen. */
export function listenEarly(address: { host: string; port: number }): Promise<boolean>;
