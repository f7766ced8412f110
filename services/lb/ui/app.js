// The topology page: polls /lb/status and /lb/metrics once a second and redraws. Text goes into
// the DOM with textContent only, so nothing the LB reports can become markup.
"use strict";

const pollMs = 1000;
let previousCounts = null;  // lb_requests_total by "route status", with the time it was read

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function role(cluster, status) {
  if (status.drained.includes(cluster.index)) return "drained";
  if (cluster.draining) return "draining";
  const up = cluster.slave_answering && cluster.redis_reachable;
  if (cluster.index === status.leader && cluster.redis_reachable) return "leader";
  if (up && cluster.admitted) return "follower";
  return "down";
}

function agoText(ms) {
  return ms < 1000 ? `${ms} ms ago` : ms < 120000 ? `${(ms / 1000).toFixed(1)} s ago` : `${Math.round(ms / 60000)} min ago`;
}

function drawSummary(status) {
  const set = (id, value) => { document.getElementById(id).textContent = String(value); };
  set("term", status.term);
  set("leader", status.leader >= 0 ? `slave-${status.leader}` : "none");
  set("mode", status.replication_mode);
  set("followers", status.followers);
  set("ready", `${status.ready.length} / ${status.clusters.length}`);
  set("elections", status.elections);
  const banner = document.getElementById("banner");
  let message = "";
  if (status.recovering) message = "The LB is recovering the leader from the slaves.";
  else if (status.term === 0) message = "No Redis-leader elected yet.";
  else if (status.degraded) message = "Degraded: sync mode with no follower; writes are on the leader only.";
  banner.hidden = message === "";
  banner.textContent = message;
  banner.classList.toggle("bad", status.term === 0);
}

function drawClusters(status) {
  const leader = status.clusters.find((cluster) => cluster.index === status.leader);
  const leaderOffset = leader && leader.redis_reachable ? leader.redis_offset : null;
  const rows = status.clusters.map((cluster) => {
    const row = document.createElement("tr");
    const clusterRole = role(cluster, status);
    row.dataset.index = cluster.index;
    row.dataset.role = clusterRole;
    row.append(element("td", `slave-${cluster.index}`));
    const roleCell = element("td");
    roleCell.append(element("span", clusterRole, `role ${clusterRole}`));
    row.append(roleCell);
    row.append(element("td", cluster.slave_answering ? (cluster.admitted ? "serving" : "answering") : "no answer",
                       cluster.slave_answering ? "ok" : "bad"));
    row.append(element("td", cluster.slave_failures, "number" + (cluster.slave_failures > 0 ? " bad" : "")));
    row.append(element("td", cluster.redis_reachable ? cluster.redis_role : "unreachable",
                       cluster.redis_reachable ? "" : "bad"));
    row.append(element("td", cluster.redis_reachable ? cluster.redis_offset : "–", "number"));
    const follows = cluster.redis_role === "replica" && cluster.redis_master === status.leader;
    const lag = follows && leaderOffset !== null ? Math.max(0, leaderOffset - cluster.redis_offset) : "–";
    row.append(element("td", lag, "number"));
    row.append(element("td", cluster.redis_role === "replica"
                                 ? (cluster.redis_master >= 0 ? `slave-${cluster.redis_master}` : "nowhere") : "–"));
    return row;
  });
  document.querySelector("#clusters tbody").replaceChildren(...rows);
}

function drawElections(status) {
  const items = (status.recent_elections || []).slice().reverse().map((election) =>
    element("li", `term ${election.term}: slave-${election.leader}, ${election.reason}, ` +
                  `${election.duration_ms} ms, ${agoText(election.ago_ms)}`));
  if (items.length === 0) items.push(element("li", "none yet"));
  document.getElementById("elections-list").replaceChildren(...items);
  const pending = document.getElementById("pending");
  pending.hidden = !status.pending_election;
  if (status.pending_election) {
    pending.textContent = `Election pending (${status.pending_election.reason}) for ` +
                          `${status.pending_election.waiting_ms} ms`;
  }
}

function showProblem(message) {
  const banner = document.getElementById("banner");
  banner.hidden = false;
  banner.classList.add("bad");
  banner.textContent = message;
}

// lb_requests_total{route="get",status="200"} 12 -> {"get 200": 12}
function requestCounts(metricsText) {
  const counts = {};
  const pattern = /^lb_requests_total\{route="([^"]*)",status="(\d+)"\} (\d+)/gm;
  for (const match of metricsText.matchAll(pattern)) counts[`${match[1]} ${match[2]}`] = Number(match[3]);
  return counts;
}

function drawRates(metricsText) {
  const now = performance.now();
  const counts = requestCounts(metricsText);
  const rates = {};
  if (previousCounts) {
    const seconds = (now - previousCounts.at) / 1000;
    for (const [key, count] of Object.entries(counts)) {
      const [route, code] = key.split(" ");
      const delta = Math.max(0, count - (previousCounts.counts[key] || 0)) / seconds;
      const entry = rates[route] || (rates[route] = { all: 0, client: 0, server: 0 });
      entry.all += delta;
      if (code.startsWith("4")) entry.client += delta;
      if (code.startsWith("5")) entry.server += delta;
    }
  }
  previousCounts = { at: now, counts };
  const rows = ["get", "set", "delete", "list-keys"].map((route) => {
    const rate = rates[route] || { all: 0, client: 0, server: 0 };
    const row = document.createElement("tr");
    row.dataset.route = route;
    row.append(element("td", route));
    row.append(element("td", rate.all.toFixed(1), "number"));
    row.append(element("td", rate.client.toFixed(1), "number"));
    row.append(element("td", rate.server.toFixed(1), "number" + (rate.server > 0 ? " bad" : "")));
    return row;
  });
  document.querySelector("#routes tbody").replaceChildren(...rows);
}

async function poll() {
  try {
    const [statusAnswer, metricsAnswer] = await Promise.all([
      fetch("/lb/status", { cache: "no-store" }), fetch("/lb/metrics", { cache: "no-store" })]);
    if (!statusAnswer.ok) throw new Error(`/lb/status answered ${statusAnswer.status}`);
    const status = await statusAnswer.json();
    if (status.clusters) {
      drawSummary(status);
      drawClusters(status);
      drawElections(status);
    } else {
      showProblem("The load balancer is starting: it recovers the leader from the slaves.");
    }
    if (metricsAnswer.ok) drawRates(await metricsAnswer.text());
    document.getElementById("updated").textContent = new Date().toLocaleTimeString();
  } catch (error) {
    showProblem(`The load balancer does not answer: ${error.message}`);
  }
  setTimeout(poll, pollMs);
}

poll();
