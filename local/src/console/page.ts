/** The console's one HTML page: the per-start token in a meta tag, the bundled app and its styles from this server. */
export const page = (token: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="console-token" content="${token}">
<title>DataHarvest status</title>
<link rel="stylesheet" href="/console.css">
<script type="module" src="/console.js"></script>
</head>
<body><main id="app">loading…</main></body>
</html>
`;

export const styles = `
:root { font: 14px/1.4 system-ui, sans-serif; color: #1d2330; background: #f4f6f9; }
body { margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 16px; }
header { display: flex; align-items: baseline; gap: 12px; }
h1 { font-size: 20px; margin: 0 0 8px; }
h2 { font-size: 16px; margin: 20px 0 8px; }
.muted { color: #6b7385; }
section.card { background: #fff; border: 1px solid #dde2ea; border-radius: 6px; padding: 10px 14px; margin: 10px 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eef0f4; vertical-align: top; }
th { font-weight: 600; color: #4a5263; }
.stage { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; font-size: 12px; background: #e3e8f0; }
.stage.COMPLETE, .stage.PERSISTED, .stage.PASS { background: #d7f2df; color: #17642f; }
.stage.FAILED, .stage.REJECTED, .stage.FAIL, .stage.LATE, .stage.missing { background: #fbdcdc; color: #8a1c1c; }
.stage.holiday { background: none; color: #6b7385; font-weight: 400; }
.stage.expected { background: #e3ecfb; color: #2f4f8a; }
table.board td { white-space: nowrap; }
.owed { font-size: 12px; white-space: normal; }
.stage.WARN, .stage.OVERRIDDEN { background: #fcefc9; color: #7a5300; }
.timeline { display: flex; gap: 2px; margin: 6px 0; }
.timeline span { flex: 1 1 0; padding: 2px 6px; background: #e8edf5; font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.timeline span.current { background: #cfe0fb; }
.reason { color: #8a1c1c; }
button { font: inherit; padding: 2px 10px; border: 1px solid #2f5ec4; background: #2f5ec4; color: #fff; border-radius: 4px; cursor: pointer; }
button:disabled { opacity: 0.5; cursor: default; }
`;
