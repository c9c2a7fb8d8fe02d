// H2O: runs an external command per certificate (`ocsp-update-cmd`) and staples what it prints on stdout.
//
// staplerd ships that command, `staplerd-ocsp-response` (src/cli/ocsp-response-main.ts on top of
// src/cli/commands/ocsp-response-command.ts, which runs one ordinary pass over the one certificate). What is H2O's own
// is the exit-status contract below; nothing is written or pushed for H2O after a pass, so it needs no StapleServer.
// Docs: docs/h2o.md; test with the real server: test/servers/h2o.test.ts.
export { EX_OK, EX_PERMANENT, EX_TEMPFAIL, EX_USAGE_OR_CONFIG, exitStatusFor } from './h2o-exit-status.js';
