/** The Connect page's CSS: one card, readable from 320 px up. */
export const CONNECT_PAGE_STYLES = `
:root { color-scheme: light; --accent: #ef294b; --ink: #1d1d29; --muted: #6b6b7b; --line: #e4e4ec; --bg: #f4f4f8; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
.card { max-width: 440px; min-height: 100vh; margin: 0 auto; background: #fff; display: flex; flex-direction: column; }
@media (min-width: 480px) { .card { min-height: auto; margin: 32px auto; border-radius: 16px; box-shadow: 0 8px 32px rgba(20, 20, 40, .12); } }
header { display: flex; align-items: center; gap: 8px; padding: 16px 20px; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; color: var(--accent); }
.badge { font-size: 11px; text-transform: uppercase; letter-spacing: .06em; background: #fff1f3; color: var(--accent); border-radius: 999px; padding: 2px 8px; }
.close { margin-left: auto; border: 0; background: none; font-size: 24px; line-height: 1; cursor: pointer; color: var(--muted); padding: 4px 8px; }
main { padding: 20px; flex: 1; }
h1 { font-size: 20px; margin: 0 0 12px; }
h1:focus { outline: none; }
p { margin: 0 0 12px; }
.muted { color: var(--muted); }
footer { padding: 12px 20px; border-top: 1px solid var(--line); font-size: 12px; color: var(--muted); }
code { font-size: 12px; background: var(--bg); padding: 1px 4px; border-radius: 4px; }
label { display: block; font-weight: 600; margin: 12px 0 4px; }
input { width: 100%; font: inherit; padding: 10px 12px; border: 1px solid #c9c9d6; border-radius: 8px; }
input:focus { outline: 2px solid var(--accent); outline-offset: 1px; }
.hint { font-size: 12px; color: var(--muted); margin-top: 4px; }
button.primary { width: 100%; margin-top: 16px; font: inherit; font-weight: 600; padding: 12px; border: 0; border-radius: 8px; background: var(--accent); color: #fff; cursor: pointer; }
button.link { border: 0; background: none; color: var(--accent); font: inherit; padding: 0; cursor: pointer; margin-bottom: 12px; }
ul.connectors { list-style: none; margin: 12px 0 0; padding: 0; }
ul.connectors li + li { border-top: 1px solid var(--line); }
ul.connectors button { display: flex; align-items: center; gap: 12px; width: 100%; padding: 12px 4px; border: 0; background: none; font: inherit; text-align: left; cursor: pointer; color: inherit; }
ul.connectors button:hover, ul.connectors button:focus-visible { background: var(--bg); }
.logo { flex: none; width: 40px; height: 40px; border-radius: 50%; display: grid; place-items: center; color: #fff; font-weight: 700; }
.connector-name { display: block; font-weight: 600; }
.connector-meta { display: block; font-size: 12px; color: var(--muted); }
[role="alert"] { background: #fff1f3; border: 1px solid #ffc2cc; color: #8a1026; border-radius: 8px; padding: 10px 12px; margin-bottom: 12px; }
.spinner { width: 36px; height: 36px; border-radius: 50%; border: 4px solid var(--line); border-top-color: var(--accent); animation: spin 0.9s linear infinite; margin: 24px auto; }
@keyframes spin { to { transform: rotate(360deg); } }
.success { font-size: 40px; text-align: center; color: #1a8f4a; }
`;
