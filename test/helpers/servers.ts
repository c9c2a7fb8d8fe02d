// Starts and stops real TLS servers (nginx, HAProxy, H2O, a pyOpenSSL script, lighttpd, Exim) on 127.0.0.1 in temp prefixes, and asks them
// for their OCSP staple the way a browser does (status_request, RFC 6066 section 8).
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect as connectTcp, createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { describeIfAvailable } from './describe-if-available.js';
import { PROJECT_ROOT } from './run-cli.js';

export const NGINX_BIN = '/usr/sbin/nginx';
export const HAPROXY_BIN = '/usr/sbin/haproxy';
export const H2O_BIN = '/usr/bin/h2o';
/** Debian's python3 with python3-openssl; the pyenv python3 on PATH has no pyOpenSSL. */
export const PYTHON_BIN = '/usr/bin/python3';
export const PYOPENSSL_EXAMPLE = path.join(PROJECT_ROOT, 'examples', 'pyopenssl_server.py');

export type ServerKind = 'nginx' | 'haproxy' | 'pyopenssl' | 'h2o' | 'lighttpd' | 'exim';


/** Binaries a server needs, by kind, with the Debian package of each (for lighttpd also its TLS module). */
const BINARIES_OF: Record<ServerKind, readonly [string, string][]> = {
  nginx: [[NGINX_BIN, 'nginx']],
  haproxy: [[HAPROXY_BIN, 'haproxy']],
  pyopenssl: [[PYTHON_BIN, 'python3-openssl']],
  h2o: [[H2O_BIN, 'h2o']],
  lighttpd: [
    ['/usr/sbin/lighttpd', 'lighttpd'],
    ['/usr/lib/lighttpd/mod_openssl.so', 'lighttpd-mod-openssl'],
  ],
  exim: [['/usr/sbin/exim4', 'exim4-daemon-light']],
};

/** Why the server cannot run here, or undefined when it can. */
export function missingServerReason(kind: ServerKind): string | undefined {
  for (const [file, pkg] of BINARIES_OF[kind]) if (!existsSync(file)) return `${file} not found (Debian package ${pkg})`;
  if (kind === 'pyopenssl') {
    const probe = spawnSync(PYTHON_BIN, ['-c', 'import OpenSSL.SSL'], { encoding: 'utf8' });
    if (probe.status !== 0) return `${PYTHON_BIN} cannot import OpenSSL (Debian package python3-openssl): ${probe.stderr.trim()}`;
  }
  return undefined;
}

/**
 * `describe` when the server is installed. Otherwise: under CI=true a failing test (CI must exercise the real servers),
 * elsewhere a skipped block with a visible warning, so a developer without nginx still runs the rest of the suite.
 */
export function describeWithServer(kind: ServerKind, name: string, body: () => void): void {
  describeIfAvailable(name, missingServerReason(kind), { what: `needs ${kind} installed`, remedy: 'CI must install it (.ci/run)', skipHint: 'Install it to run these tests.' }, body);
}

/** A port that was free a moment ago: bind an ephemeral port on 127.0.0.1, then release it for the server. */
export async function findFreePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** What one handshake with status_request got back. */
export interface StapleProbe {
  /** The stapled OCSPResponse DER, or undefined when the server sent none. */
  readonly staple: Buffer | undefined;
}

/**
 * One TLS handshake asking for a staple. Node emits 'OCSPResponse' during the handshake, before 'secureConnect'
 * (with null when the server sent no staple). The test CA is not trusted here: only the staple is under test.
 */
export function probeStaple(port: number, servername = 'x', timeoutMs = 5000): Promise<StapleProbe> {
  return new Promise((resolve, reject) => {
    let staple: Buffer | undefined;
    // tls.connect passes requestOCSP on to the TLSSocket (lib/_tls_wrap.js); @types/node only declares it there.
    const options: ConnectionOptions & { requestOCSP: boolean } = { host: '127.0.0.1', port, servername, requestOCSP: true, rejectUnauthorized: false };
    const socket = connectTls(options);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TLS handshake with 127.0.0.1:${port} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('OCSPResponse', (response: Buffer | null) => (staple = response ? Buffer.from(response) : undefined));
    socket.on('secureConnect', () => {
      clearTimeout(timer);
      socket.end();
      resolve({ staple });
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * Handshakes until the staple satisfies `accept` (bounded: `attempts` tries, 100 ms apart), then returns it. Needed
 * after an nginx reload, while old workers still answer, and for servers that staple lazily on a first handshake.
 * Throws with the last staple seen (as base64) when it never does.
 */
export function waitForStaple(port: number, accept: (staple: Buffer | undefined) => boolean, what: string, attempts = 50): Promise<Buffer | undefined> {
  return waitForProbedStaple(probeStaple, port, accept, `${what} in ${attempts} handshakes`, attempts);
}

/** Probes (TLS or STARTTLS) until the staple satisfies `accept`, 100 ms apart; throws naming the last one seen. */
async function waitForProbedStaple(
  probe: (port: number) => Promise<StapleProbe>,
  port: number,
  accept: (staple: Buffer | undefined) => boolean,
  what: string,
  attempts: number,
): Promise<Buffer | undefined> {
  let last: StapleProbe | undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    try {
      last = await probe(port);
      if (accept(last.staple)) return last.staple;
    } catch (error) {
      lastError = error;
    }
    await sleep(100);
  }
  const seen = last ? (last.staple ? `staple ${last.staple.toString('base64')}` : 'no staple') : `no handshake (${String(lastError)})`;
  throw new Error(`127.0.0.1:${port} never stapled ${what}; last: ${seen}`);
}

/** `openssl s_client -status` against the server: the independent, text view of what it staples. */
export function opensslStatus(port: number, servername = 'x'): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', servername, '-status'],
      { timeout: 10_000 },
      (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
    );
    // s_client waits for input after the handshake; closing stdin makes it quit.
    child.stdin?.end('Q\n');
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Every server started by this module, so a failing test's afterAll can still stop them all. */
const running = new Set<ManagedProcess>();

/** A server child process with its output kept for error messages. */
class ManagedProcess {
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    private readonly stopSignal: NodeJS.Signals,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    // A server that cannot start must fail the test with its own words, not a spawn error in the void.
    child.on('error', (error) => (this.output += `\nspawn failed: ${error.message}`));
    running.add(this);
    void this.exited.then(() => running.delete(this));
  }

  get isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Asks the server to stop, waits (bounded), then kills it. */
  async stop(): Promise<void> {
    if (!this.isRunning) return;
    this.child.kill(this.stopSignal);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 5000)));
    const stopped = await Promise.race([this.exited.then(() => true), gaveUp]);
    clearTimeout(timer);
    if (!stopped) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** Stops every server this module started that is still running (afterAll safety net). */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...running].map((server) => server.stop()));
}

/** Resolves once something accepts TCP connections on the port; rejects if the server exited first. */
/**
 * waitForListening, and when the server never listens, the error carries its own log as well (a taken port, a bad
 * config line is often only there, not on stdout/stderr).
 */
async function waitForListeningOrShowLog(server: ManagedProcess, port: number, logName: string, readLog: () => Promise<string>): Promise<void> {
  try {
    await waitForListening(server, port);
  } catch (error) {
    throw new Error(`${String(error)}\n${logName}:\n${await readLog()}`);
  }
}

async function waitForListening(server: ManagedProcess, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!server.isRunning) throw new Error(`${server.name} exited before listening on 127.0.0.1:${port}:\n${server.output}`);
    if (await canConnect(port)) return;
    if (Date.now() > deadline) throw new Error(`${server.name} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${server.output}`);
    await sleep(50);
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * findFreePort releases the port before the server binds it, so another process (a parallel test file) may take it
 * in between. The server then exits with "Address already in use" (nginx) or "cannot bind socket" (HAProxy): try
 * another port, a bounded number of times.
 */
async function retryIfPortTaken<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= attempts || !/Address already in use|cannot bind socket/i.test(String(error))) throw error;
    }
  }
}

export interface CommandResult {
  readonly code: number | null;
  readonly output: string;
}

function runCommand(file: string, args: readonly string[]): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 10_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// nginx

export interface RunningNginx {
  readonly port: number;
  readonly prefix: string;
  readonly configFile: string;
  /** The master's pid: unchanged by reloads. */
  readonly pid: number;
  /** `nginx -t` on the same configuration: exit 0 when nginx would accept it now. */
  testConfig(): Promise<CommandResult>;
  /** `nginx -s reload`: the master re-reads the configuration (asynchronously) and starts new workers. */
  reload(): Promise<CommandResult>;
  /** The argv of that reload command, e.g. for `--on-update`. */
  readonly reloadCommand: readonly string[];
  /** The error log (startup, reloads, [emerg] lines). */
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Runs nginx in the foreground (`daemon off`) with everything in `prefix`: configuration, pid, error log and the
 * temp paths Debian's build would otherwise put under /var/lib/nginx. `serverBody` is the inside of the one TLS
 * `server {}` block listening on 127.0.0.1:port.
 */
export function startNginx(prefix: string, serverBody: string): Promise<RunningNginx> {
  return retryIfPortTaken(async () => startNginxOnPort(prefix, serverBody, await findFreePort()));
}

async function startNginxOnPort(prefix: string, serverBody: string, port: number): Promise<RunningNginx> {
  await mkdir(path.join(prefix, 'temp'), { recursive: true });
  const configFile = path.join(prefix, 'nginx.conf');
  const errorLogFile = path.join(prefix, 'error.log');
  await writeFile(configFile, renderNginxConfig(prefix, port, serverBody));
  const args = ['-p', prefix, '-c', configFile, '-e', errorLogFile];
  const server = new ManagedProcess('nginx', spawn(NGINX_BIN, [...args, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] }), 'SIGTERM');
  await waitForListeningOrShowLog(server, port, 'error.log', () => readFile(errorLogFile, 'utf8').catch(() => ''));
  return {
    port,
    prefix,
    configFile,
    pid: server.child.pid!,
    testConfig: () => runCommand(NGINX_BIN, [...args, '-t']),
    reload: () => runCommand(NGINX_BIN, [...args, '-s', 'reload']),
    reloadCommand: [NGINX_BIN, ...args, '-s', 'reload'],
    errorLog: () => readFile(errorLogFile, 'utf8'),
    stop: () => server.stop(),
  };
}

/** `nginx -t` on a configuration built like startNginx's, without starting anything. */
export async function testNginxConfig(prefix: string, serverBody: string): Promise<CommandResult> {
  await mkdir(path.join(prefix, 'temp'), { recursive: true });
  const configFile = path.join(prefix, 'nginx-test.conf');
  await writeFile(configFile, renderNginxConfig(prefix, await findFreePort(), serverBody));
  return runCommand(NGINX_BIN, ['-p', prefix, '-c', configFile, '-e', path.join(prefix, 'error-test.log'), '-t']);
}

function renderNginxConfig(prefix: string, port: number, serverBody: string): string {
  const temp = (name: string): string => `${path.join(prefix, 'temp', name)}`;
  // Workers only serve handshakes: the master reads certificates, keys and ssl_stapling_file before forking.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `${user}worker_processes 1;
pid ${path.join(prefix, 'nginx.pid')};
error_log ${path.join(prefix, 'error.log')} info;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${temp('body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  server {
    listen 127.0.0.1:${port} ssl;
    server_name x;
${serverBody}
    location / { return 200 "ok\\n"; }
  }
}
`;
}

// ---------------------------------------------------------------------------------------------------------------
// HAProxy

export interface RunningHaproxy {
  readonly port: number;
  /** The runtime API socket at `level admin` (unix socket in the prefix). */
  readonly socketPath: string;
  /** The same API on TCP, as `127.0.0.1:PORT` (`stats socket ipv4@...`). */
  readonly socketAddress: string;
  readonly pid: number;
  readonly isRunning: boolean;
  /** HAProxy's own stdout/stderr so far (OCSP load warnings land here). */
  output(): string;
  stop(): Promise<void>;
}

/** Runs HAProxy in the foreground (`-db`) with one TLS frontend loading `crtFile` (and its .ocsp/.issuer/.key). */
export function startHaproxy(prefix: string, crtFile: string): Promise<RunningHaproxy> {
  return retryIfPortTaken(async () => startHaproxyOnPort(prefix, crtFile, await findFreePort()));
}

async function startHaproxyOnPort(prefix: string, crtFile: string, port: number): Promise<RunningHaproxy> {
  await mkdir(prefix, { recursive: true });
  const configFile = path.join(prefix, 'haproxy.cfg');
  const socketPath = path.join(prefix, 'admin.sock');
  const socketAddress = `127.0.0.1:${await findFreePort()}`;
  await writeFile(configFile, renderHaproxyConfig(port, crtFile, socketPath, socketAddress));
  const server = new ManagedProcess('haproxy', spawn(HAPROXY_BIN, ['-f', configFile, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] }), 'SIGTERM');
  await waitForListening(server, port);
  return {
    port,
    socketPath,
    socketAddress,
    pid: server.child.pid!,
    get isRunning() {
      return server.isRunning;
    },
    output: () => server.output,
    stop: () => server.stop(),
  };
}

/** `haproxy -c` on a configuration built like startHaproxy's: exit 0 when HAProxy would start with it. */
export async function checkHaproxyConfig(prefix: string, crtFile: string): Promise<CommandResult> {
  await mkdir(prefix, { recursive: true });
  const configFile = path.join(prefix, 'haproxy-check.cfg');
  await writeFile(configFile, renderHaproxyConfig(await findFreePort(), crtFile, path.join(prefix, 'admin.sock')));
  return runCommand(HAPROXY_BIN, ['-c', '-f', configFile]);
}

function renderHaproxyConfig(port: number, crtFile: string, socketPath: string, socketAddress?: string): string {
  // `set ssl ocsp-response` needs `level admin` (HAProxy management guide, section 9.3).
  const tcpSocket = socketAddress ? `  stats socket ipv4@${socketAddress} level admin\n` : '';
  return `global
  stats socket ${socketPath} mode 600 level admin
${tcpSocket}defaults
  mode http
  timeout connect 5s
  timeout client 5s
  timeout server 5s
frontend tls
  bind 127.0.0.1:${port} ssl crt ${crtFile}
  http-request return status 200 content-type text/plain string ok
`;
}

// ---------------------------------------------------------------------------------------------------------------
// pyOpenSSL

export interface RunningPythonServer {
  readonly port: number;
  output(): string;
  stop(): Promise<void>;
}

/** Runs examples/pyopenssl_server.py with Debian's python3 on a port the script picks and prints. */
export async function startPyopensslServer(options: { cert: string; key: string; staple: string }): Promise<RunningPythonServer> {
  const args = [PYOPENSSL_EXAMPLE, '--host', '127.0.0.1', '--port', '0', '--cert', options.cert, '--key', options.key, '--staple', options.staple];
  const server = new ManagedProcess('pyopenssl_server.py', spawn(PYTHON_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } }), 'SIGTERM');
  const port = await waitForPrintedPort(server);
  await waitForListening(server, port);
  return { port, output: () => server.output, stop: () => server.stop() };
}

/** The script prints "listening on 127.0.0.1:PORT" once its socket is bound. */
async function waitForPrintedPort(server: ManagedProcess, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = /listening on 127\.0\.0\.1:(\d+)/.exec(server.output);
    if (match) return Number(match[1]);
    if (!server.isRunning) throw new Error(`${server.name} exited before listening:\n${server.output}`);
    if (Date.now() > deadline) throw new Error(`${server.name} printed no port within ${timeoutMs} ms:\n${server.output}`);
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// H2O

export interface RunningH2o {
  readonly port: number;
  /** H2O's error log: its "[OCSP Stapling]" lines, and the update command's stderr once H2O is up. */
  errorLog(): Promise<string>;
  /** What H2O printed before it opened the error log. */
  output(): string;
  stop(): Promise<void>;
}

export interface H2oOptions {
  readonly certFile: string;
  readonly keyFile: string;
  /** `ocsp-update-cmd`: one executable, which H2O runs with the certificate file as its only argument. */
  readonly ocspUpdateCmd: string;
  /** `ocsp-update-interval` in seconds (H2O's default is 14400). */
  readonly ocspUpdateInterval?: number;
}

/** Runs H2O 2.2 in the foreground with one TLS listener on 127.0.0.1 and everything (pid, logs) in `prefix`. */
export function startH2o(prefix: string, options: H2oOptions): Promise<RunningH2o> {
  return retryIfPortTaken(async () => startH2oOnPort(prefix, options, await findFreePort()));
}

async function startH2oOnPort(prefix: string, options: H2oOptions, port: number): Promise<RunningH2o> {
  await mkdir(path.join(prefix, 'www'), { recursive: true });
  const configFile = path.join(prefix, 'h2o.conf');
  const errorLogFile = path.join(prefix, 'error.log');
  await writeFile(configFile, renderH2oConfig(prefix, port, options));
  const server = new ManagedProcess('h2o', spawn(H2O_BIN, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] }), 'SIGTERM');
  const errorLog = (): Promise<string> => readFile(errorLogFile, 'utf8').catch(() => '');
  await waitForListeningOrShowLog(server, port, 'error.log', errorLog);
  return { port, errorLog, output: () => server.output, stop: () => server.stop() };
}

function renderH2oConfig(prefix: string, port: number, options: H2oOptions): string {
  // As root, H2O switches to `nobody` unless told otherwise, and nobody cannot write the pid file in the prefix.
  const user = process.getuid?.() === 0 ? 'user: root\n' : '';
  // JSON strings are YAML scalars: any path is quoted correctly.
  const q = (value: string): string => JSON.stringify(value);
  return `${user}pid-file: ${q(path.join(prefix, 'h2o.pid'))}
error-log: ${q(path.join(prefix, 'error.log'))}
num-threads: 1
listen:
  host: 127.0.0.1
  port: ${port}
  ssl:
    certificate-file: ${q(options.certFile)}
    key-file: ${q(options.keyFile)}
    ocsp-update-cmd: ${q(options.ocspUpdateCmd)}
    ocsp-update-interval: ${options.ocspUpdateInterval ?? 14400}
hosts:
  default:
    paths:
      /:
        file.dir: ${q(path.join(prefix, 'www'))}
`;
}

// ---------------------------------------------------------------------------------------------------------------
// lighttpd

export const LIGHTTPD_BIN = '/usr/sbin/lighttpd';
/** Debian ships mod_openssl in its own package (lighttpd-mod-openssl); without it `ssl.engine` cannot load. */
export const LIGHTTPD_MOD_OPENSSL = '/usr/lib/lighttpd/mod_openssl.so';

export interface RunningLighttpd {
  readonly port: number;
  readonly pid: number;
  readonly isRunning: boolean;
  /** SIGUSR1 is lighttpd's graceful restart: it re-reads the configuration, certificates and ssl.stapling-file. */
  gracefulRestart(): void;
  /** The argv that does the same from a shell, e.g. for `--on-update`. */
  readonly restartCommand: readonly string[];
  /** server.errorlog (startup messages, stapling-file read errors). */
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Runs lighttpd in the foreground (`-D`) with a configuration in `prefix` whose one TLS socket on 127.0.0.1:port
 * serves `pemfile`/`privkey` and staples `staplingFile` (mod_openssl's `ssl.stapling-file`).
 */
export function startLighttpd(prefix: string, files: { pemfile: string; privkey: string; staplingFile: string }): Promise<RunningLighttpd> {
  return retryIfPortTaken(async () => startLighttpdOnPort(prefix, files, await findFreePort()));
}

async function startLighttpdOnPort(prefix: string, files: { pemfile: string; privkey: string; staplingFile: string }, port: number): Promise<RunningLighttpd> {
  const docroot = path.join(prefix, 'htdocs');
  await mkdir(docroot, { recursive: true });
  const configFile = path.join(prefix, 'lighttpd.conf');
  const errorLogFile = path.join(prefix, 'error.log');
  const quote = (value: string): string => `"${value.replace(/(["\\])/g, '\\$1')}"`;
  // No pid file, upload dir or log outside the prefix; running as root is allowed (lighttpd only warns about it).
  await writeFile(
    configFile,
    `server.modules = ("mod_openssl")
server.document-root = ${quote(docroot)}
server.bind = "127.0.0.1"
server.port = ${port}
server.errorlog = ${quote(errorLogFile)}
server.upload-dirs = (${quote(prefix)})
ssl.engine = "enable"
ssl.pemfile = ${quote(files.pemfile)}
ssl.privkey = ${quote(files.privkey)}
ssl.stapling-file = ${quote(files.staplingFile)}
`,
  );
  const server = new ManagedProcess('lighttpd', spawn(LIGHTTPD_BIN, ['-D', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] }), 'SIGTERM');
  const errorLog = (): Promise<string> => readFile(errorLogFile, 'utf8').catch(() => '');
  // lighttpd reports a taken port as "can't bind to socket ... Address already in use" in its error log.
  await waitForListeningOrShowLog(server, port, 'error.log', errorLog);
  const pid = server.child.pid!;
  return {
    port,
    pid,
    get isRunning() {
      return server.isRunning;
    },
    gracefulRestart: () => void server.child.kill('SIGUSR1'),
    restartCommand: ['kill', '-USR1', String(pid)],
    errorLog,
    stop: () => server.stop(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Exim

export const EXIM_BIN = '/usr/sbin/exim4';

/**
 * One SMTP session up to STARTTLS (RFC 3207), then a TLS handshake asking for a staple on the same socket. Exim
 * staples only on STARTTLS here: the daemon has no tls_on_connect_ports.
 */
export function probeSmtpStaple(port: number, timeoutMs = 5000): Promise<StapleProbe> {
  return new Promise((resolve, reject) => {
    const plain = connectTcp({ host: '127.0.0.1', port });
    let received = '';
    let step: 'banner' | 'ehlo' | 'starttls' | 'tls' = 'banner';
    const timer = setTimeout(() => {
      plain.destroy();
      reject(new Error(`STARTTLS with 127.0.0.1:${port} did not finish within ${timeoutMs} ms (at ${step}; got ${JSON.stringify(received)})`));
    }, timeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      plain.destroy();
      reject(error);
    };
    plain.on('error', fail);
    plain.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      // A reply is complete at its last line, "NNN text" (a space, not "-", after the code).
      const lines = received.split('\r\n');
      const last = lines.length >= 2 ? lines[lines.length - 2]! : '';
      if (!/^\d{3} /.test(last)) return;
      const reply = received;
      received = '';
      if (step === 'banner' && reply.startsWith('220')) {
        step = 'ehlo';
        plain.write('EHLO probe.test\r\n');
      } else if (step === 'ehlo' && reply.startsWith('250')) {
        step = 'starttls';
        plain.write('STARTTLS\r\n');
      } else if (step === 'starttls' && reply.startsWith('220')) {
        step = 'tls';
        plain.removeAllListeners('data');
        let staple: Buffer | undefined;
        const options: ConnectionOptions & { requestOCSP: boolean } = { socket: plain, servername: 'x', requestOCSP: true, rejectUnauthorized: false };
        const secure = connectTls(options);
        secure.on('OCSPResponse', (response: Buffer | null) => (staple = response ? Buffer.from(response) : undefined));
        secure.on('secureConnect', () => {
          clearTimeout(timer);
          secure.end('QUIT\r\n');
          resolve({ staple });
        });
        secure.on('error', fail);
      } else {
        fail(new Error(`unexpected SMTP reply at ${step}: ${JSON.stringify(reply)}`));
      }
    });
  });
}

/** waitForStaple over STARTTLS: handshakes until the staple satisfies `accept` (bounded), or throws with the last one. */
export function waitForSmtpStaple(port: number, accept: (staple: Buffer | undefined) => boolean, what: string, attempts = 50): Promise<Buffer | undefined> {
  return waitForProbedStaple((p) => probeSmtpStaple(p), port, accept, `${what} over STARTTLS in ${attempts} sessions`, attempts);
}

/** `openssl s_client -starttls smtp -status`: the independent, text view of what Exim staples. */
export function opensslSmtpStatus(port: number): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, '-starttls', 'smtp', '-name', 'probe.test', '-status'],
      { timeout: 10_000 },
      (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
    );
    child.stdin?.end('QUIT\n');
  });
}

export interface RunningExim {
  readonly port: number;
  readonly pid: number;
  readonly isRunning: boolean;
  /** SIGHUP: the daemon re-executes itself and reloads its configuration and TLS files (Exim spec, "-bd"). */
  hangUp(): void;
  /** The argv that does the same from a shell, e.g. for `--on-update`. */
  readonly reloadCommand: readonly string[];
  /** mainlog and paniclog in the spool prefix (TLS errors land in mainlog). */
  logs(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Runs an Exim daemon in the foreground (`-bdf`) with its own configuration (`-C`), spool directory and logs in
 * `prefix`, listening on 127.0.0.1:port (`-oX`), offering STARTTLS with `certificate`/`privateKey` and stapling
 * `ocspFile` (tls_ocsp_file). Root may use -C and keep privilege; exim_user/exim_group = root stop Exim from
 * switching to Debian-exim, who could not write the root-owned temp spool.
 */
export function startExim(prefix: string, files: EximTlsFiles): Promise<RunningExim> {
  return retryIfPortTaken(async () => startEximOnPort(prefix, files, await findFreePort()));
}

export interface EximTlsFiles {
  readonly certificate: string;
  readonly privateKey: string;
  readonly ocspFile: string;
  /** The tls_ocsp_file setting as written, e.g. an expansion; default: ocspFile as it is. */
  readonly ocspSetting?: string;
}

async function startEximOnPort(prefix: string, files: EximTlsFiles, port: number): Promise<RunningExim> {
  const spool = path.join(prefix, 'spool');
  await mkdir(spool, { recursive: true });
  const configFile = path.join(prefix, 'exim.conf');
  await writeFile(
    configFile,
    `primary_hostname = staplerd.test
spool_directory = ${spool}
log_file_path = ${path.join(prefix, '%slog')}
exim_user = root
exim_group = root
keep_environment =
local_interfaces = 127.0.0.1
tls_advertise_hosts = *
tls_certificate = ${files.certificate}
tls_privatekey = ${files.privateKey}
tls_ocsp_file = ${files.ocspSetting ?? files.ocspFile}
`,
  );
  const args = ['-C', configFile, '-bdf', '-oX', String(port), '-oP', path.join(prefix, 'exim.pid')];
  const server = new ManagedProcess('exim', spawn(EXIM_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] }), 'SIGTERM');
  const logs = async (): Promise<string> => {
    const read = (name: string): Promise<string> => readFile(path.join(prefix, name), 'utf8').catch(() => '');
    return `${await read('mainlog')}${await read('paniclog')}`;
  };
  // Exim reports a taken port as "socket bind() to port N for address 127.0.0.1 failed: Address already in use".
  await waitForListeningOrShowLog(server, port, 'logs', logs);
  const pid = server.child.pid!;
  return {
    port,
    pid,
    get isRunning() {
      return server.isRunning;
    },
    hangUp: () => void server.child.kill('SIGHUP'),
    reloadCommand: ['kill', '-HUP', String(pid)],
    logs,
    stop: () => server.stop(),
  };
}
