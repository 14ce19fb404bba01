/* minyi-web pages: plain JavaScript over /api/v1/ (docs/http.md).  Text
 * from the server only ever goes into the page through textContent, never
 * as HTML. */
"use strict";

const OUTCOME = { adopted: "采用", forwarded: "转送", filed: "存档", declined: "不予采用" };
const STATE = { open: "待办理", leased: "办理中", closed: "已办结" };
const EVENT = { routed: "分办", imported: "导入", leased: "领取", released: "退回待办",
                reassigned: "转办", closed: "办结" };
const FIELD_NAMES = { title: "标题", body: "正文", ref: "编号", member: "委员" };
let me = null;

function $(id) { return document.getElementById(id); }
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }

async function api(method, path, body) {
  const opt = { method, headers: {}, credentials: "same-origin" };
  if (method !== "GET") {
    opt.headers["Content-Type"] = "application/json";
    if (me) opt.headers["X-CSRF-Token"] = me.csrf;
    opt.body = JSON.stringify(body || {});
  }
  let r, j;
  try {
    r = await fetch("/api/v1/" + path, opt);
    j = await r.json();
  } catch (e) {
    return { ok: false, error: "unavailable", detail: "网络不通，请稍后再试", status: 0 };
  }
  j.status = r.status;
  if (r.status === 401 && document.body.dataset.page !== "login") location.href = "/";
  return j;
}

/* A reason code and detail as a sentence for people. */
function reason(j) {
  const words = {
    bad_json: "格式有误", bad_encoding: "编码有误", missing_field: "缺少必填项",
    bad_field: "内容不符合要求", too_large: "内容过长", unknown_member: "委员编号不在名册中",
    busy: "系统繁忙，请稍后再试", unavailable: "系统暂时无法连接，请稍后再试",
    forbidden: "无权查看或办理", not_found: "没有找到", conflict: "状态已变化，请刷新",
    csrf: "页面已过期，请刷新后重试", slow_down: "尝试次数过多，请稍后再试",
    unauthenticated: "用户名或密码错误",
  };
  return (words[j.error] || "出错了") + (j.detail ? "（" + j.detail + "）" : "");
}

/* Which field a refusal is about ("field \"title\" ..."), if any. */
function fieldOf(j) {
  const m = /"(title|body|ref)"/.exec(j.detail || "");
  return m ? m[1] : null;
}

function newRef() {
  const a = new Uint8Array(9);
  crypto.getRandomValues(a);
  return "web-" + Array.from(a, b => b.toString(16).padStart(2, "0")).join("");
}

function age(s) {
  if (s === null || s === undefined) return "";
  if (s < 3600) return Math.floor(s / 60) + " 分钟";
  if (s < 86400) return Math.floor(s / 3600) + " 小时";
  return Math.floor(s / 86400) + " 天";
}

async function whoami() {
  const j = await api("GET", "me");
  if (!j.ok) return false;
  me = j;
  if ($("who")) $("who").textContent = j.user;
  if ($("logout")) $("logout").addEventListener("click", async () => {
    await api("POST", "logout");
    location.href = "/";
  });
  return true;
}

/* ---- login ---- */

async function pageLogin() {
  const j = await api("GET", "me");
  if (j.ok) { location.href = "/" + j.role; return; }
  $("login").addEventListener("submit", async ev => {
    ev.preventDefault();
    $("login-error").textContent = "";
    const r = await api("POST", "login", { user: $("user").value, password: $("password").value });
    if (r.ok) location.href = "/" + r.role;
    else $("login-error").textContent = reason(r);
  });
}

/* ---- one report, for every role ---- */

function showReport(box, r) {
  clear(box);
  box.appendChild(el("h3", r.title));
  box.appendChild(el("p", "编号 " + r.id + " · " + (r.name || r.member) + " · " + r.received_at, "meta"));
  box.appendChild(el("p", "状态：" + (STATE[r.state] || r.state) +
                     (r.outcome ? " · 结果：" + (OUTCOME[r.outcome] || r.outcome) : "") +
                     " · 专委会：" + (r.committee || "")));
  if (r.note) box.appendChild(el("p", "办理意见：" + r.note));
  box.appendChild(el("p", r.body, "body"));
  const topics = (r.topics || []).map(t => {
    const words = (t.hits || []).map(h => Array.isArray(h) ? h[3] : h.text).filter(Boolean);
    return t.topic + "（" + t.category + "，" + t.score + " 分" +
           (words.length ? "：" + Array.from(new Set(words)).join("、") : "") + "）";
  });
  box.appendChild(el("p", "分办依据：" + (topics.length ? topics.join("；") : "未命中关键词")));
  const h = el("ol", null, "history");
  for (const e of r.history || [])
    h.appendChild(el("li", e.at + " " + (EVENT[e.event] || e.event) + (e.who ? " · " + e.who : "") +
                     (e.to ? " → " + e.to : "") + (e.outcome ? " · " + (OUTCOME[e.outcome] || e.outcome) : "")));
  box.appendChild(h);
}

/* ---- member ---- */

async function loadMine() {
  const j = await api("GET", "reports");
  const list = $("mine");
  clear(list);
  if (!j.ok) { list.appendChild(el("li", reason(j), "error")); return; }
  if (!j.reports.length) list.appendChild(el("li", "还没有报送过信息"));
  for (const r of j.reports) {
    const li = el("li");
    li.dataset.id = r.id;
    const a = el("a", r.title);
    a.href = "#" + r.id;
    a.addEventListener("click", async ev => { ev.preventDefault(); openMine(r.id); });
    li.appendChild(a);
    li.appendChild(el("p", (STATE[r.state] || r.state) + (r.outcome ? " · " + (OUTCOME[r.outcome] || r.outcome) : "") +
                      " · " + (r.committee || "") + " · " + r.received_at, "meta state-" + r.state));
    if (r.note) li.appendChild(el("p", "办理意见：" + r.note, "note"));
    list.appendChild(li);
  }
}

async function openMine(id) {
  const j = await api("GET", "reports/" + encodeURIComponent(id));
  $("detail").hidden = false;
  if (j.ok) showReport($("detail-body"), j.report);
  else { clear($("detail-body")); $("detail-body").appendChild(el("p", reason(j), "error")); }
}

async function loadPoints() {
  const j = await api("GET", "points");
  if (!j.ok || !j.me) { $("points").textContent = j.ok ? "本月暂无记录" : reason(j); return; }
  const m = j.me;
  $("points").textContent = j.month + "：报送 " + m.count + " 条，本年 " + m.ytd + " 条；积分 " +
    m.points + "，本年 " + m.points_ytd + (m.quota !== null && m.quota !== undefined ?
    "；指标 " + m.quota + (m.met ? "（已完成）" : "（未完成）") : "");
}

function pageMember() {
  let ref = newRef();
  $("file").addEventListener("submit", async ev => {
    ev.preventDefault();
    for (const f of ["title", "body", "file"]) $(f + "-error").textContent = "";
    $("file-ok").textContent = "";
    const title = $("title").value.trim(), body = $("body").value.trim();
    if (!title) { $("title-error").textContent = "请填写标题"; return; }
    if (!body) { $("body-error").textContent = "请填写正文"; return; }
    $("file-submit").disabled = true;
    const j = await api("POST", "reports", { title, body, ref });
    $("file-submit").disabled = false;
    if (j.ok) {
      $("file-ok").textContent = "已报送，编号 " + j.id;
      $("file").reset();
      ref = newRef();            /* the next report is another one */
      loadMine();
      return;
    }
    const f = fieldOf(j);
    (f ? $(f + "-error") : $("file-error")).textContent = (f ? FIELD_NAMES[f] + "：" : "") + reason(j);
  });
  loadPoints();
  loadMine();
}

/* ---- clerk ---- */

let current = null;

async function loadQueue() {
  const c = $("committee").value;
  const j = await api("GET", "queue/" + encodeURIComponent(c));
  const list = $("queue");
  clear(list);
  $("queue-error").textContent = j.ok ? "" : reason(j);
  if (!j.ok) return;
  $("queue-counts").textContent = "待办 " + j.open + " 条，办理中 " + j.leased + " 条" +
    (j.oldest_age_s !== null ? "，最早一条已等 " + age(j.oldest_age_s) : "");
  const now = Date.now();
  for (const r of j.reports) {
    const li = el("li");
    li.dataset.id = r.id;
    const a = el("a", r.title);
    a.href = "#" + r.id;
    a.addEventListener("click", ev => { ev.preventDefault(); openReport(r.id); });
    li.appendChild(a);
    const waited = (now - Date.parse(r.received_at)) / 1000;
    li.appendChild(el("p", (STATE[r.state] || r.state) + (r.lease_who ? "（" + r.lease_who + "）" : "") +
      " · 已等 " + age(waited) + " · " + (r.topics || []).map(t => t.topic).join("、"), "meta state-" + r.state));
    list.appendChild(li);
  }
}

async function openReport(id) {
  const j = await api("GET", "reports/" + encodeURIComponent(id));
  $("detail").hidden = false;
  $("detail-error").textContent = "";
  $("detail-ok").textContent = "";
  current = j.ok ? j.report : null;
  $("close").hidden = $("move").hidden = !j.ok || j.report.state === "closed";
  if (j.ok) showReport($("detail-body"), j.report);
  else { clear($("detail-body")); $("detail-error").textContent = reason(j); }
}

async function act(path, body, done) {
  if (!current) return;
  const j = await api("POST", "reports/" + encodeURIComponent(current.id) + "/" + path, body);
  if (!j.ok) { $("detail-error").textContent = reason(j); return; }
  $("detail-ok").textContent = done;
  await openReport(current.id);
  loadQueue();
}

async function pageClerk() {
  for (const c of me.committees) $("committee").appendChild(new Option(c, c));
  const cs = await api("GET", "committees");
  for (const c of cs.ok ? cs.committees : []) $("move-to").appendChild(new Option(c.name || c.committee, c.committee));
  $("committee").addEventListener("change", loadQueue);
  $("pull").addEventListener("click", async () => {
    const j = await api("POST", "queue/" + encodeURIComponent($("committee").value) + "/pull", { limit: 1 });
    if (!j.ok) { $("queue-error").textContent = reason(j); return; }
    await loadQueue();
    if (j.reports.length) openReport(j.reports[0].id);
    else $("queue-error").textContent = "没有可领取的信息";
  });
  $("close").addEventListener("submit", ev => {
    ev.preventDefault();
    act("ack", { outcome: $("outcome").value, note: $("note").value }, "已办结");
  });
  $("release").addEventListener("click", () => act("release", {}, "已退回待办"));
  $("move").addEventListener("submit", ev => {
    ev.preventDefault();
    act("reassign", { committee: $("move-to").value }, "已转办");
  });
  loadQueue();
}

/* ---- staff ---- */

function drawChart(svg, points) {
  const NS = "http://www.w3.org/2000/svg";
  clear(svg);
  const max = Math.max(1, ...points.map(p => p.count)), w = 320 / Math.max(1, points.length);
  points.forEach((p, i) => {
    const h = Math.round(120 * p.count / max);
    const r = document.createElementNS(NS, "rect");
    r.setAttribute("x", String(i * w + 2));
    r.setAttribute("y", String(140 - h));
    r.setAttribute("width", String(Math.max(1, w - 4)));
    r.setAttribute("height", String(h));
    svg.appendChild(r);
    for (const [y, s] of [[152, p.month.slice(5)], [136 - h, String(p.count)]]) {
      const t = document.createElementNS(NS, "text");
      t.setAttribute("x", String(i * w + 2));
      t.setAttribute("y", String(y));
      t.textContent = s;
      svg.appendChild(t);
    }
  });
}

async function loadAudit() {
  const month = $("month").value;
  const j = await api("GET", "audit" + (month ? "?month=" + encodeURIComponent(month) : ""));
  if (!j.ok) { $("staff-error").textContent = reason(j); return; }
  const a = j.audit;
  $("month").value = a.month;
  $("audit-total").textContent = (a.organisation || "") + " " + a.month + "：共 " + a.total + " 条，本年 " + a.ytd + " 条";
  drawChart($("chart"), a.trend || []);
  const tb = $("committees").tBodies[0];
  clear(tb);
  for (const c of a.committees || []) {
    const tr = el("tr");
    for (const v of [c.name || c.committee, c.count, c.open, c.closed]) tr.appendChild(el("td", v));
    tb.appendChild(tr);
  }
  const under = $("under");
  clear(under);
  for (const m of (a.members || []).filter(m => m.active && m.met === false))
    under.appendChild(el("li", m.member + " " + m.name + "：本年 " + m.ytd + " 条，指标 " + m.quota));
  if (!under.firstChild) under.appendChild(el("li", "全部达标"));
}

async function loadStatus() {
  const j = await api("GET", "status");
  const q = $("queues"), s = $("status");
  clear(q); clear(s);
  if (!j.ok) { $("staff-error").textContent = reason(j); return; }
  const queues = (j.archiver && j.archiver.queues) || {};
  for (const c of Object.keys(queues)) q.appendChild(el("li", c + "：待办 " + queues[c].open + "，办理中 " + queues[c].leased));
  for (const d of ["collector", "router", "archiver"])
    s.appendChild(el("li", d + "：" + (j[d] && j[d].ok ? "正常" : "无应答")));
  s.appendChild(el("li", "web：会话 " + j.web.sessions + "，请求 " + j.web.requests + "，拒绝 " + j.web.refused));
}

function pageStaff() {
  $("month").addEventListener("change", loadAudit);
  loadAudit();
  loadStatus();
}

document.addEventListener("DOMContentLoaded", async () => {
  const page = document.body.dataset.page;
  if (page === "login") return pageLogin();
  if (!(await whoami())) { location.href = "/"; return; }
  if (page === "member") pageMember();
  else if (page === "clerk") pageClerk();
  else if (page === "staff") pageStaff();
});
