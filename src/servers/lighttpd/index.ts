// lighttpd (1.4.56+): `ssl.stapling-file` names staplerd's staple, and lighttpd rereads the file when it changes.
//
// No code of its own: the staple file every pass writes atomically is all lighttpd needs (no snippet, no push, no
// reload), so there is no StapleServer for it. This folder exists so every server has one place to look.
// Docs: docs/lighttpd.md; test with the real server: test/servers/lighttpd.test.ts.
export {};
