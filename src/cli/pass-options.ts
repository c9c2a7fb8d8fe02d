// The options shared by `once`, `run` and `status`, declared once for commander and mapped to config keys.
import { Command, Option } from 'commander';
import type { RawOptions } from '../config/index.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Adds the pass options to a command. Values stay strings: config/option-table.ts validates them in one place. */
export function addPassOptions(command: Command): Command {
  return command
    .option('--certs <dir>', 'directory to scan recursively for certificates (repeatable)', collect)
    .option('--out <dir>', 'write staples under this directory, mirroring the certificate tree (default: <cert>.ocsp beside each certificate)')
    .option('--config <file>', 'YAML configuration file; flags override its values')
    .option('--responder <url>', "OCSP responder URL to use instead of each certificate's AIA URL")
    .option('--issuer-dir <dir>', 'directory of CA certificates to find issuers in')
    .option('--extensions <list>', 'comma-separated certificate file endings (default .pem,.crt,.cer)')
    .option('--timeout <seconds>', 'timeout per HTTP attempt (default 10)')
    .option('--concurrency <n>', 'certificates processed in parallel (default 32)')
    .option('--per-host-concurrency <n>', 'requests in flight per responder host (default 4)')
    .option('--max-response-size <bytes>', 'largest accepted response body (default 65536)')
    .option('--max-cert-file-size <bytes>', 'largest certificate or chain file read (default 1048576)')
    .option('--max-certs-per-file <n>', 'most certificates in one file (default 256)')
    .option('--max-issuer-candidates <n>', 'most same-named issuer certificates checked per leaf (default 16)')
    .option('--nonce', 'send a nonce in each request (RFC 8954) and check it when echoed')
    .option('--clock-skew <seconds>', 'tolerated responder clock skew for thisUpdate (default 300)')
    .option('--min-remaining <seconds>', 'minimum remaining lifetime of a staple (default 300)')
    .option('--lifetime-without-next-update <duration>', 'how long after thisUpdate a response without nextUpdate is valid: seconds or 12h, 1d; 0 refuses them (default 1d)')
    .addOption(new Option('--revoked-action <action>', 'revoked certificate: write the revoked response, or remove the staple').choices(['staple', 'remove']))
    .addOption(new Option('--crl-check <when>', 'check revocation through CRLs for certificates without an OCSP URL (no-ocsp, default), every certificate (always), or never').choices(['no-ocsp', 'always', 'never']))
    .option('--max-crl-size <bytes>', 'largest CRL downloaded or kept (default 33554432)')
    .option('--state-dir <dir>', 'where backoff history and the daemon status live (default: $STATE_DIRECTORY, /var/lib/staplerd for root, else $XDG_STATE_HOME/staplerd)')
    .option('--nginx-snippets', 'maintain <cert>.stapling.conf nginx include snippets beside each staple')
    .option('--issuer-files', 'write <crt>.issuer for HAProxy when the issuer is not inside the PEM (default: on without --out)')
    .option('--no-issuer-files', 'never write <crt>.issuer files')
    .option('--proxy <url>', 'HTTP proxy for OCSP and caIssuers requests, http://[user:pass@]host:port (default: HTTP_PROXY/HTTPS_PROXY)')
    .option('--fleet <redis-url>', 'share staples with other hosts through Redis: redis://, rediss:// or redis-sentinel:// (docs/fleet.md)')
    .option('--fleet-password-file <file>', 'read the fleet Redis password from this file')
    .option('--fleet-ca-file <file>', 'PEM CA certificate(s) a rediss:// Redis must chain to, trusted instead of the system CAs')
    .option('--fleet-prefix <prefix>', 'prefix of every fleet Redis key (default staplerd:)')
    .option('--haproxy-socket <path|host:port>', 'HAProxy runtime API socket to push new staples to (repeatable)', collect)
    .option('--on-update <command>', 'run after a pass that changed any staple (no shell; changed paths in the NUL-separated file STAPLERD_CHANGED_FILE and, one per line, STAPLERD_CHANGED)')
    .option('--on-revoked <command>', 'run after a pass that found a revoked certificate (no shell)')
    .option('--hook-timeout <seconds>', 'kill a hook still running after this long (default 60)')
    .addOption(new Option('--log-level <level>', 'log level').choices(['error', 'warn', 'info', 'debug']))
    .addOption(new Option('--log-format <format>', 'log format').choices(['json', 'text']));
}

/** Flags whose YAML key is not simply their camelCase name (docs/configuration.md lists both). */
const FLAG_TO_KEY: Readonly<Record<string, string>> = {
  revokedAction: 'onRevoked',
  onRevoked: 'onRevokedCommand',
  haproxySocket: 'haproxySockets',
  maxCertFileSize: 'maxCertificateFileSize',
  maxCertsPerFile: 'maxCertificatesPerFile',
};

/** Commander's camelCase option names are the YAML keys; `config` is not a key but the file itself. */
export function toRawOptions(options: Record<string, unknown>): { flags: RawOptions; configFile?: string } {
  const { config, ...given } = options;
  const flags: RawOptions = {};
  for (const [name, value] of Object.entries(given)) flags[FLAG_TO_KEY[name] ?? name] = value;
  return { flags, configFile: typeof config === 'string' ? config : undefined };
}
