/**
 * The console's whole stylesheet, inlined in every page under a CSP nonce: no build step, no external
 * fonts or files. Colours meet WCAG AA contrast in both the light and the dark scheme; every
 * interactive element has a visible keyboard focus ring; below 720px tables become stacked cards.
 */
export const CONSOLE_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f5f6f8; --surface: #ffffff; --surface-2: #eef1f4; --text: #1b1f24; --muted: #555f6b;
  --border: #cfd6de; --accent: #0a58a8; --accent-text: #ffffff; --accent-soft: #e3eefb;
  --ok: #17692f; --ok-soft: #e2f3e6; --warn: #7a5200; --warn-soft: #fbf0d6;
  --bad: #a8200f; --bad-soft: #fbe6e3; --info: #3b4aa8; --info-soft: #e8eafb;
  --focus: #c2410c; --bar: #2f6fb8; --bar-2: #2e8a4c; --bar-bad: #c0392b;
  --radius: 8px; --shadow: 0 1px 2px rgb(0 0 0 / 0.06);
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1216; --surface: #171b21; --surface-2: #1f252d; --text: #e7ecf2; --muted: #a3afbc;
    --border: #343c47; --accent: #7cb8ff; --accent-text: #0b1220; --accent-soft: #18283d;
    --ok: #6fd98c; --ok-soft: #163222; --warn: #f0c060; --warn-soft: #332a12;
    --bad: #ff8f82; --bad-soft: #3a1a17; --info: #aab4ff; --info-soft: #202547;
    --focus: #ffb26b; --bar: #5fa2ec; --bar-2: #5cc27d; --bar-bad: #f07a6c; --shadow: none;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
a { color: var(--accent); text-underline-offset: 2px; }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; border-radius: 3px; }
.skip-link { position: absolute; left: 8px; top: -48px; background: var(--surface); color: var(--text); padding: 8px 12px; border-radius: var(--radius); z-index: 10; }
.skip-link:focus { top: 8px; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }

.site-header { background: var(--surface); border-bottom: 1px solid var(--border); }
.site-header__inner { max-width: 1200px; margin: 0 auto; padding: 10px 20px; display: flex; flex-wrap: wrap; align-items: center; gap: 8px 24px; }
.brand { font-weight: 700; font-size: 16px; color: var(--text); text-decoration: none; white-space: nowrap; }
.brand span { font-weight: 400; color: var(--muted); }
.nav { flex: 1 1 auto; min-width: 0; }
.nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px; }
.nav a { display: block; padding: 6px 10px; border-radius: 6px; color: var(--text); text-decoration: none; }
.nav a:hover { background: var(--surface-2); }
.nav a[aria-current="page"] { background: var(--accent-soft); color: var(--accent); font-weight: 600; }
.who { display: flex; align-items: center; gap: 10px; color: var(--muted); font-size: 14px; }
.who form { margin: 0; }
.user-id { display: inline-block; max-width: 24ch; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; vertical-align: bottom; }

main { max-width: 1200px; margin: 0 auto; padding: 20px 20px 48px; }
main:focus { outline: none; }
h1 { font-size: 24px; line-height: 1.25; margin: 4px 0 16px; }
h2 { font-size: 18px; margin: 0 0 12px; }
h3 { font-size: 15px; margin: 0 0 8px; }
p { margin: 0 0 12px; }
.lead { color: var(--muted); margin-top: -8px; }
.muted { color: var(--muted); }
.mono, code, pre { font-family: var(--mono); font-size: 13px; }
code { background: var(--surface-2); padding: 1px 5px; border-radius: 4px; overflow-wrap: anywhere; }
.breadcrumb { font-size: 14px; margin-bottom: 4px; }
.site-footer { max-width: 1200px; margin: 0 auto; padding: 0 20px 24px; color: var(--muted); font-size: 13px; }

.card { background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); padding: 16px; box-shadow: var(--shadow); margin-bottom: 16px; }
.card > :last-child { margin-bottom: 0; }
.card--narrow { max-width: 560px; }
.grid { display: grid; gap: 16px; align-items: start; grid-template-columns: repeat(auto-fit, minmax(min(100%, 340px), 1fr)); margin-bottom: 16px; }
.grid > .card { margin-bottom: 0; }
.stats { display: grid; gap: 12px; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); margin: 0 0 16px; }
.stat { background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); padding: 12px 14px; margin: 0; }
.stat dt { color: var(--muted); font-size: 13px; }
.stat dd { margin: 2px 0 0; font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; }
.stat--bad dd { color: var(--bad); }
.stat--warn dd { color: var(--warn); }
.stat--ok dd { color: var(--ok); }
.stat a { color: inherit; }

.tabs { display: flex; flex-wrap: wrap; gap: 6px; margin: 0 0 16px; padding: 0; list-style: none; }
.tabs a { display: block; padding: 5px 12px; border: 1px solid var(--border); border-radius: 999px; text-decoration: none; color: var(--text); background: var(--surface); }
.tabs a[aria-current="page"] { background: var(--accent); border-color: var(--accent); color: var(--accent-text); font-weight: 600; }

.flash { border-radius: var(--radius); padding: 12px 14px; margin: 0 0 16px; border: 1px solid; }
.flash p { margin: 0; }
.flash--success { background: var(--ok-soft); border-color: var(--ok); }
.flash--error { background: var(--bad-soft); border-color: var(--bad); }
.flash--info { background: var(--info-soft); border-color: var(--info); }
.flash--warn { background: var(--warn-soft); border-color: var(--warn); }
.flash .request-id { font-size: 13px; color: var(--muted); margin-top: 4px; }
.flash ul { margin: 6px 0 0; padding-left: 20px; }

form { margin: 0; }
.form-row { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-end; }
.field { display: flex; flex-direction: column; gap: 4px; min-width: 0; }
.field--grow { flex: 1 1 220px; }
label, .label { font-weight: 600; font-size: 14px; }
.hint { color: var(--muted); font-size: 13px; font-weight: 400; }
input[type="text"], input[type="search"], input[type="number"], input[type="datetime-local"], input[type="password"], select, textarea {
  font: inherit; color: var(--text); background: var(--surface); border: 1px solid var(--muted); border-radius: 6px; padding: 7px 9px; min-height: 38px; max-width: 100%;
}
textarea { width: 100%; font-family: var(--mono); font-size: 13px; resize: vertical; }
input.input-id { width: 15ch; font-family: var(--mono); }
button, .button {
  font: inherit; font-weight: 600; display: inline-flex; align-items: center; justify-content: center; gap: 6px; min-height: 38px;
  padding: 7px 14px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-text); cursor: pointer; text-decoration: none; white-space: nowrap;
}
button:hover, .button:hover { filter: brightness(1.08); }
.button--secondary, button.secondary { background: var(--surface); color: var(--accent); }
.button--danger, button.danger { background: var(--surface); color: var(--bad); border-color: var(--bad); }
.button--small, button.small { min-height: 32px; padding: 4px 10px; font-size: 14px; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.inline-form { display: inline-flex; flex-wrap: wrap; gap: 6px; align-items: center; }

.table-wrap { overflow-x: auto; border: 1px solid var(--border); border-radius: var(--radius); background: var(--surface); margin-bottom: 16px; }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
caption { text-align: left; padding: 10px 12px; font-weight: 600; }
th, td { text-align: left; padding: 9px 12px; border-top: 1px solid var(--border); vertical-align: top; }
thead th, thead td { border-top: 0; background: var(--surface-2); font-size: 13px; color: var(--muted); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
th.group, td.group-start, th.group-start { border-left: 1px solid var(--border); }
th.group { text-align: center; color: var(--text); }
.stat a { text-decoration-thickness: 1px; text-decoration-color: var(--border); }
.stat a:hover { text-decoration-color: currentColor; }
td.wrap { overflow-wrap: anywhere; min-width: 12ch; }
tbody tr:hover { background: color-mix(in srgb, var(--surface-2) 55%, transparent); }
.empty { padding: 16px; color: var(--muted); }

.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12.5px; font-weight: 600; border: 1px solid; white-space: nowrap; }
.badge--ok { color: var(--ok); background: var(--ok-soft); }
.badge--warn { color: var(--warn); background: var(--warn-soft); }
.badge--bad { color: var(--bad); background: var(--bad-soft); }
.badge--info { color: var(--info); background: var(--info-soft); }
.badge--neutral { color: var(--muted); background: var(--surface-2); }

dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 0; }
dl.meta dt { color: var(--muted); font-size: 14px; }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
pre.json { background: var(--surface-2); border: 1px solid var(--border); border-radius: 6px; padding: 12px; overflow: auto; max-height: 560px; margin: 0; white-space: pre; }
details summary { cursor: pointer; font-weight: 600; padding: 4px 0; }
details[open] summary { margin-bottom: 8px; }
.pager { display: flex; gap: 12px; align-items: center; }

.chart-figure { margin: 0; }
.chart-figure details { margin-top: 8px; }
.chart { width: 100%; height: auto; display: block; }
.chart text { fill: var(--text); font-size: 12px; font-family: inherit; }
.chart .axis-label { fill: var(--muted); }
.chart .track { fill: var(--surface-2); }
.chart .bar { fill: var(--bar); }
.chart .bar--ok { fill: var(--bar-2); }
.chart .bar--bad { fill: var(--bar-bad); }
.legend { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 0; padding: 0; list-style: none; font-size: 13px; color: var(--muted); }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: baseline; background: var(--bar); }
.swatch--ok { background: var(--bar-2); }
.swatch--bad { background: var(--bar-bad); }

.sign-in { max-width: 560px; margin: 40px auto; }
.steps { padding-left: 20px; margin: 0 0 12px; }
.steps li { margin-bottom: 4px; }
.stack > * + * { margin-top: 12px; }

@media (max-width: 720px) {
  body { font-size: 16px; }
  .site-header__inner { padding: 10px 14px; gap: 6px 12px; }
  .nav { order: 3; flex-basis: 100%; }
  .nav a { white-space: nowrap; padding: 6px 8px; }
  main { padding: 16px 14px 40px; }
  h1 { font-size: 21px; }
  .table-wrap:has(> table.cards) { border: 0; background: transparent; overflow: visible; }
  table.cards, table.cards tbody, table.cards tr, table.cards td, table.cards th { display: block; width: 100%; }
  table.cards thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.cards caption { display: block; padding: 0 0 8px; }
  table.cards tr { background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); margin-bottom: 10px; padding: 6px 0; }
  table.cards th[scope="row"] { border: 0; padding: 6px 12px 4px; font-size: 16px; }
  table.cards td { border: 0; padding: 5px 12px; display: flow-root; text-align: left; }
  table.cards td::before { content: attr(data-label); float: left; width: 36%; padding: 2px 10px 0 0; color: var(--muted); font-size: 13px; font-weight: 600; line-height: 1.35; }
  table.cards td.num { text-align: left; }
  table.cards td[data-label=""]::before { display: none; }
  table.cards tbody tr:hover { background: var(--surface); }
  .brand span { display: none; }
  .who { margin-left: auto; }
  dl.meta { grid-template-columns: 1fr; gap: 2px; }
  dl.meta dd { margin-bottom: 8px; }
  .form-row > .field, .form-row > button { flex: 1 1 100%; }
  .form-row input, .form-row select { width: 100%; }
  input.input-id { width: 100%; }
}
`;
