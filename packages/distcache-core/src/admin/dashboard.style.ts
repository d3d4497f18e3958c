/** The dashboard's stylesheet, inlined into the page (no external requests, no build step). */
export const DASHBOARD_STYLE = String.raw`
:root {
  --bg: #f4f6f9; --card: #ffffff; --ink: #1c2430; --muted: #66707e; --line: #e2e6ec;
  --ok: #1f9d55; --warn: #d98b00; --bad: #d64545; --info: #2f6fde; --idle: #8a94a3;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); }
header { display: flex; align-items: center; gap: 16px; padding: 12px 24px; background: #17202c; color: #f0f3f7; }
header h1 { margin: 0; font-size: 18px; font-weight: 650; letter-spacing: .2px; }
header .meta { display: flex; gap: 14px; align-items: center; color: #b7c0cc; font-size: 13px; }
header .meta b { color: #f0f3f7; font-weight: 600; }
header .spacer { flex: 1; }
main { padding: 18px 24px 28px; display: grid; gap: 16px; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; min-width: 0; }
.card h2 { margin: 0 0 10px; font-size: 13px; text-transform: uppercase; letter-spacing: .6px; color: var(--muted); font-weight: 650; display: flex; gap: 8px; align-items: baseline; }
.card h2 .count { text-transform: none; letter-spacing: 0; color: var(--ink); font-weight: 600; }
.wide { grid-column: 1 / -1; }
.section-title h2 { margin: 0 0 8px; font-size: 13px; text-transform: uppercase; letter-spacing: .6px; color: var(--muted); font-weight: 650; display: flex; gap: 8px; align-items: baseline; }
.section-title .count { text-transform: none; letter-spacing: 0; color: var(--ink); font-weight: 600; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th { text-align: left; color: var(--muted); font-weight: 600; padding: 4px 8px 6px 0; border-bottom: 1px solid var(--line); }
td { padding: 7px 8px 7px 0; border-bottom: 1px solid var(--line); vertical-align: middle; }
tr:last-child td { border-bottom: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; color: #fff; background: var(--idle); }
.badge.self { background: var(--info); } .badge.alive, .badge.ok, .badge.running, .badge.closed { background: var(--ok); }
.badge.suspect, .badge.half-open, .badge.starting { background: var(--warn); }
.badge.open, .badge.bad, .badge.stopping, .badge.stopped { background: var(--bad); }
.bar { position: relative; height: 8px; border-radius: 4px; background: var(--line); overflow: hidden; min-width: 80px; }
.bar > span { position: absolute; inset: 0 auto 0 0; border-radius: 4px; background: var(--info); }
.share { display: flex; align-items: center; gap: 8px; }
.share .bar { flex: 1; }
.ring { display: flex; gap: 18px; align-items: center; }
.legend { display: grid; gap: 6px; font-size: 13px; }
.legend .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.empty { color: var(--muted); font-size: 13px; padding: 6px 0; }
.breakers { display: flex; flex-wrap: wrap; gap: 8px; }
.breaker { display: flex; gap: 8px; align-items: center; padding: 6px 10px; border: 1px solid var(--line); border-radius: 8px; }
.spaces { display: grid; gap: 16px; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); }
.space h3 { margin: 0; font-size: 15px; display: flex; justify-content: space-between; align-items: baseline; }
.space .figures { display: flex; gap: 18px; margin: 8px 0 6px; }
.space .figure b { display: block; font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; }
.space .figure span { color: var(--muted); font-size: 12px; }
.space svg { display: block; width: 100%; height: 130px; }
.space .memory { display: flex; align-items: center; gap: 8px; color: var(--muted); font-size: 12px; margin-top: 6px; }
.space .memory .bar { flex: 1; }
.space .foot { display: grid; gap: 2px; color: var(--muted); font-size: 12px; margin-top: 6px; }
.keys { display: flex; gap: 14px; font-size: 12px; color: var(--muted); }
.keys i { display: inline-block; width: 14px; height: 3px; margin-right: 5px; vertical-align: 3px; }
#banner { display: none; margin: 0; padding: 8px 24px; background: #fff4d6; color: #6d4b00; font-size: 13px; }
#banner.show { display: block; }
#auth { display: none; grid-column: 1 / -1; }
#auth.show { display: block; }
#auth form { display: flex; gap: 8px; margin-top: 8px; }
#auth input { flex: 0 1 360px; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; font: inherit; }
#auth button { padding: 6px 14px; border: 0; border-radius: 6px; background: var(--info); color: #fff; font: inherit; cursor: pointer; }
footer { padding: 0 24px 20px; color: var(--muted); font-size: 12px; }
`;
