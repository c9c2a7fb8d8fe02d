#!/usr/bin/env node
// The staplerd command: parses the command line (commander) and dispatches; exit statuses per docs/cli.md.
import { Command, CommanderError, Option } from 'commander';
import { VERSION } from '../version.js';
import { EXIT_USAGE, reportFatalError } from './exit-codes.js';
import { addPassOptions, toRawOptions } from './pass-options.js';

/** Each subcommand module is imported only when it runs, so `staplerd check` and `--help` do not load the daemon,
 *  got, chokidar or prom-client stacks they never use. */
function buildProgram(setExit: (code: number | Promise<number>) => void): Command {
  const program = new Command('staplerd')
    .description('Keeps validated OCSP staples fresh on disk for nginx, HAProxy and Node TLS servers.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  addPassOptions(program.command('once').description('one pass: fetch every missing, invalid or due staple, then exit'))
    .option('--force', 'fetch for every certificate, even when its staple is fresh')
    .action((options: Record<string, unknown>) => setExit(import('./commands/once-command.js').then((m) => m.runOnceCommand(toRawOptions(options)))));

  addPassOptions(program.command('run').description('the daemon: a pass at start, then keep every staple fresh until SIGTERM'))
    .option('--sweep <cron>', 'cron expression of the safety-net sweep (default "*/15 * * * *")')
    .option('--watch-debounce <seconds>', 'how long a changed certificate file must be still before it is read (default 0.5)')
    .option('--metrics <host:port>', 'serve /metrics (Prometheus) and /healthz on this address, e.g. 127.0.0.1:9420 (default: off)')
    .option('--health-margin <duration>', '/healthz fails when a staple is this close to its nextUpdate: seconds or 30m, 6h, 1d (default 1h)')
    .action((options: Record<string, unknown>) => setExit(import('./commands/run-command.js').then((m) => m.runDaemonCommand(toRawOptions(options)))));

  addPassOptions(program.command('status').description('one row per certificate: staple state, times, failures (live view when the daemon runs)'))
    .option('--json', 'print exact JSON')
    .action((options: Record<string, unknown>) => {
      const { json, ...rest } = options;
      setExit(import('./commands/status-command.js').then((m) => m.runStatusCommand({ ...toRawOptions(rest), json: json === true })));
    });

  program
    .command('check')
    .description('validate an OCSP response file exactly as before a staple write; exit 0 valid, 1 invalid')
    .argument('<response>', 'DER OCSP response file')
    .requiredOption('--issuer <pem>', 'issuer certificate (PEM or DER)')
    .option('--cert <pem>', 'the certificate the response is about (PEM or DER)')
    .option('--serial <hex>', 'or just its serial number in hex')
    .option('--at <time>', 'verification time, ISO-8601 (default: now)')
    .option('--clock-skew <seconds>', 'tolerated clock skew for thisUpdate (default 300)')
    .option('--min-remaining <seconds>', 'minimum remaining lifetime (default 300)')
    .option('--lifetime-without-next-update <duration>', 'how long after thisUpdate a response without nextUpdate is valid (default 1d; 0 refuses them)')
    .option('--json', 'print the verdict as JSON')
    .action((response: string, options: Record<string, string | boolean | undefined>) =>
      setExit(
        import('./commands/check-command.js').then((m) =>
          m.runCheckCommand({
            response,
            issuer: options.issuer as string,
            cert: options.cert as string | undefined,
            serial: options.serial as string | undefined,
            at: options.at as string | undefined,
            json: options.json === true,
            clockSkew: options.clockSkew as string | undefined,
            minRemaining: options.minRemaining as string | undefined,
            lifetimeWithoutNextUpdate: options.lifetimeWithoutNextUpdate as string | undefined,
          }),
        ),
      ),
    );

  program
    .command('demo')
    .description('throwaway CA and OCSP responder on 127.0.0.1; runs a real pass and shows what was written')
    .addOption(new Option('--dir <dir>', 'work in this directory instead of a new temporary one'))
    .action((options: { dir?: string }) => setExit(import('./commands/demo-command.js').then((m) => m.runDemoCommand(options))));

  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  // A holder, not a `let`: TypeScript cannot see the callback assign it and would narrow it to the initial number.
  const dispatched: { result?: number | Promise<number> } = {};
  const program = buildProgram((code) => {
    dispatched.result = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    if (dispatched.result === undefined) {
      program.outputHelp({ error: true });
      return EXIT_USAGE;
    }
    return await dispatched.result;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with code 0; every parse error (unknown option, bad value, missing argument) is usage.
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    return reportFatalError(error);
  }
}

/** Resolves once everything written to `stream` so far is handed to the system (or the stream failed). */
function waitUntilWritten(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    stream.write('', () => resolve());
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Everything is closed by now; should a stray handle linger, do not hang a cron job or systemd stop over it.
    setTimeout(() => process.exit(code), 2000).unref();
    // Exit once stdout and stderr are written out, instead of waiting for the event loop to drain: Node then does
    // not tear the heap down first, 0.1 s of a 10,000-certificate `once` (docs/performance.md, "Session 8"). Writes
    // to a pipe can still be queued here (a slow reader), so the exit waits for them.
    void Promise.all([process.stdout, process.stderr].map(waitUntilWritten)).then(() => process.exit(code));
  },
  (error: unknown) => {
    process.exitCode = reportFatalError(error);
  },
);
