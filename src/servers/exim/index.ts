// Exim: `tls_ocsp_file` names staplerd's staple; Exim reloads it when the staple's directory changes (docs/exim.md).
//
// No code of its own: the atomically written staple file is all Exim needs (no snippet, no push, no reload), so
// there is no StapleServer for it. This folder exists so every server has one place to look.
// Docs: docs/exim.md; test with the real server: test/servers/exim.test.ts.
export {};
