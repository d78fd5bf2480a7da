/** Whether `argv` (after `tickcast`) runs from the bundle: `run` with a pipeline known by name, TICKCAST_BUNDLE not `off`. */
export function bundleServes(argv: readonly string[], env: NodeJS.ProcessEnv): boolean;
/** The URL of `entry` bundled (built, or reused while none of its files changed) in `cacheDir`; null: use tsx. */
export function runBundle(opts?: { entry?: string; cacheDir?: string }): Promise<string | null>;
