// nginx: `ssl_stapling_file` through a per-staple include snippet (on only while a valid staple exists); the
// operator's update hook reloads nginx, which reads the file only at start and reload. Docs: docs/nginx.md.
export { createNginxServer } from './nginx-server.js';
export { nginxSnippetPath, renderNginxSnippet, syncNginxSnippet } from './nginx-snippet.js';
