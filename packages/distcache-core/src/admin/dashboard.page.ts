import { createHash } from 'node:crypto';
// The browser code of src/admin/browser, bundled into one IIFE (scripts/dashboard-script.ts).
import DASHBOARD_SCRIPT from './browser/dashboard.ts?iife';
import { DASHBOARD_STYLE } from './dashboard.style';

const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * The live dashboard: one self-contained page (inline style and script, no external request) that
 * polls `peers`, `keyspaces` and `readyz` next to it and redraws every two seconds.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>distcache admin</title>
<style>${DASHBOARD_STYLE}</style>
</head>
<body>
<header>
  <h1>distcache</h1>
  <div class="meta">cluster <b id="cluster">-</b></div>
  <div class="meta">node <b id="node">-</b></div>
  <div class="meta">engine <span id="state"></span></div>
  <div class="meta">ready <span id="ready"></span></div>
  <div class="spacer"></div>
  <div class="meta">updated <b id="updated">-</b></div>
</header>
<p id="banner" role="status"></p>
<main>
  <section id="auth" class="card">
    <h2>Token required</h2>
    <div class="empty">This admin server asks for a bearer token. It is kept in this tab's session storage only.</div>
    <form id="auth-form"><input id="token" type="password" autocomplete="off" placeholder="admin token" aria-label="admin token"><button type="submit">Connect</button></form>
  </section>
  <section class="card"><h2>Members <span class="count" id="member-count"></span></h2><div id="members"></div></section>
  <section class="card"><h2>Ring ownership</h2><div id="ring"></div></section>
  <section class="card wide"><h2>Circuit breakers <span class="count" id="breaker-count"></span></h2><div id="breakers"></div></section>
  <section class="wide"><div class="section-title"><h2>Keyspaces <span class="count" id="space-count"></span></h2></div><div class="spaces" id="spaces"></div></section>
</main>
<footer>The view of this node: counters are since each keyspace was added here; ring shares are this node's view of the ring.</footer>
<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;

/**
 * Content-Security-Policy of the page: only its own inline style and script (pinned by hash), and
 * requests to its own origin. A page that tried to load anything else would be refused.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${hash(DASHBOARD_SCRIPT)}`,
  `style-src ${hash(DASHBOARD_STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
