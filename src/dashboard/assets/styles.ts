// The dashboard's one stylesheet, served from the daemon (/dashboard/assets/app.css). Calm: light
// surfaces, one accent, outcomes in large type; a single column under 640 px; visible focus.
export const STYLES = `
:root{--bg:#f5f6f8;--card:#fff;--ink:#1c2430;--soft:#5b6675;--line:#e3e6eb;--accent:#0f766e;--accent-soft:#d8efec;
--warn:#b45309;--warn-soft:#fdf0dc;--bad:#b42318;--bad-soft:#fde7e5;--ok:#067647;--focus:#2563eb;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg)}
*{box-sizing:border-box}
body{margin:0;line-height:1.45;font-size:15px}
a{color:var(--accent)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px;border-radius:3px}
.skip{position:absolute;left:-999px;top:0;background:var(--card);padding:.5rem 1rem;z-index:9}
.skip:focus{left:.5rem}
.top{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.25rem;padding:.6rem 1.25rem;background:var(--card);border-bottom:1px solid var(--line)}
.brand{font-weight:700;color:var(--ink);text-decoration:none;letter-spacing:-.01em}
.top nav{flex:1 1 auto;min-width:0}
.top nav ul{display:flex;flex-wrap:wrap;gap:.25rem;list-style:none;margin:0;padding:0}
.top nav a{display:block;padding:.35rem .65rem;border-radius:6px;color:var(--soft);text-decoration:none}
.top nav a[aria-current=page]{background:var(--accent-soft);color:var(--accent);font-weight:600}
.top nav a:hover{color:var(--ink)}
.signout{display:flex;align-items:center;gap:.5rem;margin:0}
.tier{font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;padding:.1rem .45rem;border-radius:99px;background:var(--line);color:var(--soft)}
.tier-root{background:var(--warn-soft);color:var(--warn)}
main{max-width:1120px;margin:0 auto;padding:1.25rem}
main:focus{outline:none}
h1{font-size:1.45rem;margin:.25rem 0 1rem;letter-spacing:-.01em}
h2{font-size:1.05rem;margin:0 0 .5rem}
h3{font-size:.95rem;margin:0 0 .35rem}
.summary{font-size:1.1rem;margin:0 0 1rem;max-width:60rem}
.flash{padding:.6rem .9rem;border-radius:8px;margin:0 0 1rem}
.flash.ok{background:var(--accent-soft);color:#0b4f4a}
.flash.err{background:var(--bad-soft);color:var(--bad)}
.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end;margin:0 0 1rem}
.filters label,.field label{display:block;font-size:.8rem;color:var(--soft);margin-bottom:.15rem}
select,input[type=text],input[type=password],textarea{font:inherit;color:inherit;background:var(--card);border:1px solid #c9ced6;border-radius:6px;padding:.4rem .5rem;max-width:100%}
textarea{width:100%;min-height:5rem}
button,.button{font:inherit;cursor:pointer;border:1px solid var(--accent);background:var(--accent);color:#fff;border-radius:6px;padding:.4rem .8rem;text-decoration:none;display:inline-block}
button.secondary,.button.secondary{background:var(--card);color:var(--accent)}
button.danger{background:var(--card);border-color:var(--bad);color:var(--bad)}
button.link{background:none;border:none;color:var(--accent);padding:.2rem;text-decoration:underline}
button:disabled{opacity:.5;cursor:not-allowed}
.js .js-hide{display:none}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:1rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:1rem 1.1rem;min-width:0}
.card .big{font-size:2rem;font-weight:650;letter-spacing:-.02em;margin:.1rem 0}
.card .big small{font-size:1rem;color:var(--soft);font-weight:500}
.card p{margin:.2rem 0;color:var(--soft)}
.card>form{margin-top:.75rem}
.chart-empty{height:56px;margin:.6rem 0 0;display:flex;align-items:center;justify-content:center;border-bottom:1px solid var(--line);font-size:.85rem}
.chart-box{margin:.6rem 0 0}
.chart-box figcaption{font-size:.75rem;color:var(--soft);margin-top:.15rem}
.chart{display:block;width:100%;height:56px}
.chart polyline{fill:none;stroke:var(--accent);stroke-width:2;vector-effect:non-scaling-stroke}
.chart circle{fill:var(--accent);vector-effect:non-scaling-stroke}
.chart rect{fill:var(--accent);opacity:.8}
.chart .axis{stroke:var(--line);stroke-width:1;vector-effect:non-scaling-stroke}
.stack{display:block;width:100%;height:12px;margin:.5rem 0}
.stack .track{fill:var(--line)}
.tone-open{fill:#0f766e}.tone-pending{fill:#d97706}.tone-escalated{fill:#b42318}.tone-closed{fill:#98a2b3}
.tone-sent{fill:#7ba7a2}.tone-delivered{fill:#3f8f87}.tone-read{fill:#0f766e}.tone-replied{fill:#065f46}.tone-failed{fill:#b42318}.tone-queued{fill:#c7ccd4}.tone-skipped{fill:#98a2b3}
.legend{display:flex;flex-wrap:wrap;gap:.25rem .9rem;list-style:none;padding:0;margin:.25rem 0 0;font-size:.85rem;color:var(--soft)}
.legend i{display:inline-block;width:.7rem;height:.7rem;border-radius:2px;margin-right:.3rem;vertical-align:-1px}
.status{font-weight:650}
.status-active{color:var(--ok)}.status-degraded{color:var(--warn)}.status-paused{color:var(--bad)}
.reasons{margin:.4rem 0 0;padding-left:1.1rem;color:var(--soft)}
.list{list-style:none;margin:0;padding:0;background:var(--card);border:1px solid var(--line);border-radius:12px}
.list>li{border-top:1px solid var(--line)}
.list>li:first-child{border-top:none}
.row{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:baseline;padding:.75rem 1rem;color:inherit;text-decoration:none}
a.row:hover{background:#fafbfc}
.row .who{font-weight:600;flex:1 1 12rem;min-width:0;overflow-wrap:anywhere}
.row .meta{color:var(--soft);font-size:.85rem}
.badge{display:inline-block;font-size:.75rem;padding:.05rem .45rem;border-radius:99px;background:var(--line);color:var(--soft);white-space:nowrap}
.badge.escalated,.badge.failed{background:var(--bad-soft);color:var(--bad)}
.badge.pending,.badge.waiting,.badge.paused{background:var(--warn-soft);color:var(--warn)}
.badge.open,.badge.running,.badge.active{background:var(--accent-soft);color:var(--accent)}
.detail{display:grid;grid-template-columns:minmax(0,2fr) minmax(0,1fr);gap:1rem;align-items:start}
@media (max-width:800px){.detail{grid-template-columns:minmax(0,1fr)}}
.timeline{list-style:none;margin:0;padding:0}
.timeline li{margin:.5rem 0;display:flex}
.bubble{max-width:85%;padding:.55rem .8rem;border-radius:12px;background:var(--card);border:1px solid var(--line);overflow-wrap:anywhere}
.out{justify-content:flex-end}.out .bubble{background:#e8f4f2;border-color:#cfe6e2}
.event{justify-content:center}.event .note{font-size:.82rem;color:var(--soft);text-align:center}
.bubble img.media{display:block;max-width:100%;max-height:320px;border-radius:8px;margin:.2rem 0}
.bubble .meta{display:block;font-size:.75rem;color:var(--soft);margin-top:.2rem}
.actions{display:flex;flex-direction:column;gap:1rem}
.actions form{margin:0}
.inline{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end}
.actions details{margin-top:.75rem}
.template-form{display:grid;gap:.5rem;margin-top:.6rem}
.template-form button{justify-self:start}
.picker{flex-wrap:nowrap}.picker .field{flex:1 1 auto;min-width:0}.picker select{width:100%}
.template-text{margin:0;padding:.6rem .8rem;border-left:3px solid var(--accent);background:var(--bg,#f6f7f9);border-radius:4px;display:grid;gap:.3rem;white-space:pre-wrap;overflow-wrap:anywhere}
.template-text small{color:var(--soft)}
.pager{display:flex;justify-content:space-between;align-items:center;gap:.5rem;margin:.75rem 0}
.inline>form{margin:0}
.draft-box{border:1px dashed var(--warn);background:var(--warn-soft);border-radius:10px;padding:.7rem}
.kv{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.25rem .9rem;margin:0}
.kv dt{color:var(--soft)}.kv dd{margin:0;overflow-wrap:anywhere}
pre{background:#0f172a;color:#e2e8f0;padding:1rem;border-radius:10px;overflow:auto;font-size:.82rem;max-height:32rem}
code{font-size:.88em;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;background:var(--card)}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);font-size:.9rem}
.table-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:12px}
.empty{background:var(--card);border:1px dashed #c9ced6;border-radius:12px;padding:1.1rem 1.25rem;margin:0 0 1rem}
.steps{margin:.4rem 0 0;padding-left:1.2rem}.steps li{margin:.35rem 0}
.login{max-width:26rem;margin:12vh auto;background:var(--card);border:1px solid var(--line);border-radius:14px;padding:1.5rem}
.login input{width:100%}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.muted{color:var(--soft)}
@media (max-width:640px){main{padding:.9rem}.top{padding:.5rem .9rem}.card .big{font-size:1.7rem}.cards{grid-template-columns:minmax(0,1fr)}
.table-wrap thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.table-wrap tr{display:block;border-bottom:1px solid var(--line);padding:.35rem 0}.table-wrap tr:last-child{border-bottom:none}
.table-wrap td{display:grid;grid-template-columns:5.5rem minmax(0,1fr);gap:.5rem;border:none;padding:.2rem .75rem;overflow-wrap:anywhere}
.table-wrap td::before{content:attr(data-label);color:var(--soft);font-size:.8rem}}
`;
