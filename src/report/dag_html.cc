#include "report/dag_html.h"

#include <fmt/format.h>

#include "core/json_writer.h"

namespace orc {

void assign_layers(std::vector<DagNode>& nodes, const std::vector<std::pair<int, int>>& edges) {
  for (auto& n : nodes) n.layer = 0;
  // Relax until stable; a DAG settles in at most |nodes| rounds (dbt forbids cycles, the
  // bound keeps a malformed input from looping).
  for (size_t round = 0; round < nodes.size(); ++round) {
    bool changed = false;
    for (const auto& [p, c] : edges)
      if (nodes[c].layer < nodes[p].layer + 1) {
        nodes[c].layer = nodes[p].layer + 1;
        changed = true;
      }
    if (!changed) break;
  }
}

const char* status_colour(const std::string& status) {
  if (status == "built") return "#e67e22";
  if (status == "reused") return "#2e8b57";
  if (status == "failed") return "#d62728";
  if (status == "would build") return "#8e44ad";
  if (status == "would reuse") return "#2471a3";
  if (status == "cloned") return "#17a589";
  if (status == "would clone") return "#48c9b0";
  return "#9e9e9e";  // skipped
}

const std::vector<std::string>& dag_statuses(bool plan) {
  static const std::vector<std::string> run = {"built", "reused", "cloned", "failed", "skipped"};
  static const std::vector<std::string> planned = {"would build", "would reuse", "would clone"};
  return plan ? planned : run;
}

namespace {

constexpr const char* kPage = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>orc DAG: {title}</title>
<style>
body{{font:13px system-ui,sans-serif;margin:0;color:#222}}
header{{padding:8px 12px;border-bottom:1px solid #ddd;display:flex;gap:16px;align-items:center}}
.legend span{{display:inline-block;width:12px;height:12px;margin:0 4px 0 10px;vertical-align:middle}}
#detail{{padding:6px 12px;min-height:1.4em;background:#f6f6f6;border-bottom:1px solid #ddd}}
svg text{{font:11px system-ui,sans-serif;fill:#fff;pointer-events:none}}
.edge{{fill:none;stroke:#999;stroke-width:1}}
.node rect{{stroke:#333;stroke-width:.5;cursor:pointer}}
.node.dim{{opacity:.12}}
.plan .node rect{{stroke-dasharray:4 2;stroke-width:1}}
</style></head><body class="{page}">
<header><b>orc DAG</b><span>{title}</span>
<input id="filter" placeholder="filter by name" size="30">
<span class="legend">{legend}</span>
</header>
<div id="detail">Click a node for its decision.</div>
<svg id="dag" xmlns="http://www.w3.org/2000/svg"></svg>
<script id="dag-data" type="application/json">{data}</script>
<script>
(function(){{
const data = JSON.parse(document.getElementById('dag-data').textContent);
const colours = {colours};
const W = 230, H = 24, GX = 60, GY = 10, svg = document.getElementById('dag');
const NS = 'http://www.w3.org/2000/svg';
const rows = {{}};
data.nodes.forEach(n => {{ n.row = rows[n.layer] = (rows[n.layer] || 0); rows[n.layer]++; }});
const x = n => 10 + n.layer * (W + GX), y = n => 10 + n.row * (H + GY);
let maxRow = 0, maxLayer = 0;
data.nodes.forEach(n => {{ maxRow = Math.max(maxRow, n.row); maxLayer = Math.max(maxLayer, n.layer); }});
svg.setAttribute('width', 20 + (maxLayer + 1) * (W + GX));
svg.setAttribute('height', 20 + (maxRow + 1) * (H + GY));
data.edges.forEach(([p, c]) => {{
  const a = data.nodes[p], b = data.nodes[c], path = document.createElementNS(NS, 'path');
  const x1 = x(a) + W, y1 = y(a) + H / 2, x2 = x(b), y2 = y(b) + H / 2;
  path.setAttribute('d', `M${{x1}},${{y1}} C${{x1 + GX / 2}},${{y1}} ${{x2 - GX / 2}},${{y2}} ${{x2}},${{y2}}`);
  path.setAttribute('class', 'edge');
  path.dataset.from = a.unique_id; path.dataset.to = b.unique_id;
  svg.appendChild(path);
}});
data.nodes.forEach(n => {{
  const g = document.createElementNS(NS, 'g');
  g.setAttribute('class', 'node');
  g.dataset.id = n.unique_id; g.dataset.status = n.status; g.dataset.reasonCode = n.reason_code;
  g.setAttribute('transform', `translate(${{x(n)}},${{y(n)}})`);
  const r = document.createElementNS(NS, 'rect');
  r.setAttribute('width', W); r.setAttribute('height', H); r.setAttribute('rx', 4);
  r.setAttribute('fill', colours[n.status] || '{other}');
  const t = document.createElementNS(NS, 'text');
  t.setAttribute('x', 6); t.setAttribute('y', 16);
  const label = n.unique_id.split('.').slice(2).join('.') || n.unique_id;
  t.textContent = label.length > 34 ? label.slice(0, 33) + '…' : label;
  const tip = document.createElementNS(NS, 'title');
  tip.textContent = `${{n.unique_id}}\n${{n.status}}: ${{n.reason}} (${{n.reason_code}})`;
  g.append(r, t, tip);
  g.addEventListener('click', () => {{
    document.getElementById('detail').textContent =
      `${{n.unique_id}} (${{n.resource_type}}): ${{n.status}}, ${{n.reason}} [${{n.reason_code}}]`;
  }});
  svg.appendChild(g);
}});
document.getElementById('filter').addEventListener('input', e => {{
  const q = e.target.value.toLowerCase();
  svg.querySelectorAll('g.node').forEach(g =>
    g.classList.toggle('dim', q !== '' && !g.dataset.id.toLowerCase().includes(q)));
}});
document.body.dataset.rendered = String(data.nodes.length);
}})();
</script></body></html>
)HTML";

/// JSON inside <script>: a "</" must not end the element.
std::string script_safe(std::string json) {
  for (size_t i = json.find("</"); i != std::string::npos; i = json.find("</", i + 2))
    json.replace(i, 2, "<\\/");
  return json;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

}  // namespace

std::string dag_html(const std::vector<DagNode>& nodes,
                     const std::vector<std::pair<int, int>>& edges, const std::string& title,
                     bool plan) {
  std::string data = "{\"nodes\": [";
  for (size_t i = 0; i < nodes.size(); ++i) {
    const DagNode& n = nodes[i];
    data += fmt::format("{}{{\"unique_id\": {}, \"resource_type\": {}, \"status\": {}, "
                        "\"reason_code\": {}, \"reason\": {}, \"layer\": {}}}",
                        i ? ",\n" : "\n", json_quote(n.unique_id), json_quote(n.resource_type),
                        json_quote(n.status), json_quote(n.reason_code), json_quote(n.reason),
                        n.layer);
  }
  data += "], \"edges\": [";
  for (size_t i = 0; i < edges.size(); ++i)
    data += fmt::format("{}[{}, {}]", i ? ", " : "", edges[i].first, edges[i].second);
  data += "]}";
  std::string colours = "{";
  std::string legend;
  for (const std::string& status : dag_statuses(plan)) {
    colours += fmt::format("{}{}: \"{}\"", colours.size() > 1 ? ", " : "", json_quote(status),
                           status_colour(status));
    legend += fmt::format("<span style=\"background:{}\"></span>{}", status_colour(status),
                          html_escape(status));
  }
  colours += "}";
  return fmt::format(fmt::runtime(kPage), fmt::arg("title", html_escape(title)),
                     fmt::arg("data", script_safe(data)), fmt::arg("colours", colours),
                     fmt::arg("legend", legend), fmt::arg("page", plan ? "plan" : "run"),
                     fmt::arg("other", status_colour("skipped")));
}

}  // namespace orc
