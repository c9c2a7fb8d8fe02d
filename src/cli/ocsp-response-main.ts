#!/usr/bin/env node
// The staplerd-ocsp-response command for H2O's ocsp-update-cmd: DER on stdout and exit 0, 75 to retry, else give up.
import { Command, CommanderError, Option } from 'commander';
import { toStaplerdError } from '../errors/index.js';
import { VERSION } from '../version.js';
import { EX_USAGE_OR_CONFIG, exitStatusFor } from './commands/ocsp-response-command.js';
import { toRawOptions } from './pass-options.js';

/** The `once` options that matter for one certificate; hooks and sockets come from --config when wanted. */
function buildProgram(setExit: (code: Promise<number>) => void): Command {
  return new Command('staplerd-ocsp-response')
    .description('Prints a validated DER OCSP response for CERT_FILE (H2O ocsp-update-cmd): exit 0, or 75 on a temporary failure.')
    .version(VERSION, '-V, --version')
    .argument('<cert-file>', 'the certificate file (H2O passes its certificate-file)')
    .option('--issuer <file>', 'issuer certificate (PEM or DER), when it is not in the certificate file or beside it')
    .option('--config <file>', "staplerd's YAML configuration file; flags override its values")
    .option('--state-dir <dir>', 'backoff history shared with the daemon (default as for staplerd once)')
    .option('--out <dir>', 'staple tree of the daemon (default: <cert>.ocsp beside the certificate)')
    .option('--responder <url>', "OCSP responder URL to use instead of the certificate's AIA URL")
    .option('--issuer-dir <dir>', 'directory of CA certificates to find issuers in')
    .option('--timeout <seconds>', 'timeout per HTTP attempt (default 10)')
    .option('--nonce', 'send a nonce in each request (RFC 8954) and check it when echoed')
    .option('--clock-skew <seconds>', 'tolerated responder clock skew for thisUpdate (default 300)')
    .option('--min-remaining <seconds>', 'minimum remaining lifetime of a printed response (default 300)')
    .addOption(new Option('--revoked-action <action>', 'revoked certificate: print the revoked response, or print nothing and exit 1').choices(['staple', 'remove']))
    .option('--proxy <url>', 'HTTP proxy for OCSP and caIssuers requests')
    .addOption(new Option('--log-level <level>', 'log level (stderr)').choices(['error', 'warn', 'info', 'debug']))
    .addOption(new Option('--log-format <format>', 'log format (stderr)').choices(['json', 'text']))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .action((certFile: string, options: Record<string, unknown>) => {
      const { issuer, ...rest } = options;
      const { flags, configFile } = toRawOptions(rest);
      setExit(
        import('./commands/ocsp-response-command.js').then((m) =>
          m.runOcspResponseCommand({ certFile, issuerFile: typeof issuer === 'string' ? issuer : undefined, flags, configFile }),
        ),
      );
    });
}

export async function main(argv: readonly string[]): Promise<number> {
  let result: Promise<number> | undefined;
  const program = buildProgram((code) => {
    result = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return result ? await result : EX_USAGE_OR_CONFIG;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EX_USAGE_OR_CONFIG;
    return reportFatal(error);
  }
}

/** Errors go to stderr only: stdout is H2O's DER. A temporary cause (e.g. state dir busy) still exits 75. */
function reportFatal(error: unknown): number {
  const err = toStaplerdError(error);
  process.stderr.write(`staplerd-ocsp-response: ${err.code}: ${err.message}${err.file ? ` (${err.file})` : ''}\n`);
  return exitStatusFor(err.code);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (error: unknown) => {
    process.exitCode = reportFatal(error);
  },
);
