// The `tickcast` command (bin/tickcast.js): the command line of cli/program.ts on this process's
// argv, stdout, stderr and environment. An error exits at once with its code (a server may still
// hold the event loop); success leaves the process to end by itself, or to go on serving.
import { closeEarlyServer } from '../api/early-server.js';
import { processIo } from './io.js';
import { runCli } from './program.js';

const code = await runCli(process.argv.slice(2), processIo());
// A `run` that serves has taken the socket bin/early-listen.js opened; one that did not (`--help`) lets it go.
closeEarlyServer();
if (code !== 0) process.exit(code);
