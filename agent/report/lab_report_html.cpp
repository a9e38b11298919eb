// The lab report's HTML sink (verifier.hpp): one self-contained page (inline CSS, no script, no
// external resource). Every piece of text is escaped: names come from manifests.
//
// Page: title and verdict line, the summary tiles, the legend and one reachability matrix per port
// (rows: sources, columns: destinations; one cell per pair, coloured by its worst result; a title
// attribute with every probe's details), the findings, every probe.
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "npv/verifier.hpp"
#include "report/lab_report_format.hpp"

namespace npv {

namespace {

// A cell's class, in increasing severity: a cell shows its worst probe.
enum class Cell { kNotProbed, kSelf, kAgreeDenied, kAgreeAllowed, kObserver, kUnexpectedDrop, kSilent };

struct CellStyle {
  const char* css;    // class name (the CSS below)
  const char* glyph;  // what the cell shows (HTML)
  const char* label;  // the legend
};

CellStyle style(Cell c) {
  switch (c) {
    case Cell::kNotProbed: return {"not-probed", "", "not probed"};
    case Cell::kSelf: return {"self", "", "pod to itself (always allowed, not probed)"};
    case Cell::kAgreeDenied: return {"agree-denied", "&#8211;", "denied, as policy expects"};
    case Cell::kAgreeAllowed: return {"agree-allowed", "&#10003;", "allowed, as policy expects"};
    case Cell::kObserver: return {"observer-disagreement", "?", "observer disagreement (observer vs prober)"};
    case Cell::kUnexpectedDrop: return {"unexpected-drop", "&#215;", "unexpected drop (policy allows, network dropped)"};
    case Cell::kSilent: return {"silent-non-enforcement", "!", "silent non-enforcement (policy denies, flow got through)"};
  }
  return {"", "", ""};
}

Cell classify(const ProbeRecord& r) {
  if (has_finding(r, FindingKind::kSilentNonEnforcement)) return Cell::kSilent;
  if (has_finding(r, FindingKind::kUnexpectedDrop)) return Cell::kUnexpectedDrop;
  if (has_finding(r, FindingKind::kObserverDisagreement)) return Cell::kObserver;
  return r.expected_allowed ? Cell::kAgreeAllowed : Cell::kAgreeDenied;
}

Cell finding_cell(FindingKind k) {
  switch (k) {
    case FindingKind::kSilentNonEnforcement: return Cell::kSilent;
    case FindingKind::kUnexpectedDrop: return Cell::kUnexpectedDrop;
    case FindingKind::kObserverDisagreement: return Cell::kObserver;
  }
  return Cell::kNotProbed;
}

// Text for element content and attribute values (double- or single-quoted).
std::string esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '\n': out += "&#10;"; break;  // a line break inside a title attribute
      default: out += c;
    }
  }
  return out;
}

constexpr const char* kCss = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px 32px;color:#1f2328;background:#fff}
h1{font-size:22px;margin:0 0 12px}
h2{font-size:17px;margin:24px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{font-size:14px;margin:18px 0 6px;font-family:ui-monospace,monospace}
.verdict{font-size:17px;font-weight:600;padding:10px 14px;border-radius:6px;margin:0 0 14px;display:inline-block}
.verdict.ok{background:#dafbe1;color:#116329;border:1px solid #8fd9a0}
.verdict.fail{background:#ffebe9;color:#a40e26;border:1px solid #ff9aa4}
.verdict.inconclusive{background:#f3e8fb;color:#5b1b86;border:1px solid #c9a3e6}
.verdict.none{background:#eaeef2;color:#424a53;border:1px solid #c4ccd4}
table{border-collapse:collapse}
table.list th,table.list td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
table.list th{background:#f6f8fa;font-weight:600;white-space:nowrap}
table.list td.nw{white-space:nowrap}
td.policies span{white-space:nowrap}
.stats{display:flex;flex-wrap:wrap;gap:8px;margin:0 0 4px}
.stat{border:1px solid #d0d7de;border-radius:6px;padding:6px 12px;min-width:84px;background:#f6f8fa}
.stat b{display:block;font-size:20px;font-variant-numeric:tabular-nums}
.stat span{font-size:12px;color:#57606a}
.stat.time{background:#fff}
.stat.silent-non-enforcement span,.stat.unexpected-drop span,.stat.observer-disagreement span{color:inherit}
.matrices{display:flex;flex-wrap:wrap;gap:12px 40px;align-items:flex-start}
td.mono,th.row,th.col{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
table.matrix th.row{text-align:right;padding:0 8px 0 0;font-weight:normal;white-space:nowrap}
table.matrix th.col{writing-mode:vertical-rl;transform:rotate(180deg);text-align:left;font-weight:normal;padding:0 0 6px;white-space:nowrap;height:auto}
table.matrix td.cell{width:24px;min-width:24px;height:24px;text-align:center;font-weight:700;border:2px solid #fff;padding:0}
td.cell.not-probed{background:#fff;outline:1px solid #eaeef2;outline-offset:-3px}
.agree-allowed{background:#2da44e;color:#fff}
.agree-denied{background:#c4c8cc;color:#424a53}
.silent-non-enforcement{background:#cf222e;color:#fff}
.unexpected-drop{background:#f0883e;color:#fff}
.observer-disagreement{background:#8250df;color:#fff}
.self{background:repeating-linear-gradient(45deg,#fff 0 3px,#e6e9ec 3px 6px)}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin:8px 0 4px;padding:0;list-style:none}
.legend li{display:flex;align-items:center;gap:6px}
.legend .swatch{display:inline-block;width:18px;height:18px;line-height:18px;text-align:center;font-weight:700;border:1px solid #d0d7de}
tr.finding td{background:#fff8f8}
.muted{color:#656d76}
)";

struct Page {
  std::string out;
  void add(std::string_view s) { out += s; }
  void cell(std::string_view tag, std::string_view text, std::string_view cls = {}) {
    out += "<" + std::string(tag) + (cls.empty() ? "" : " class=\"" + std::string(cls) + "\"") + ">" + esc(text) +
           "</" + std::string(tag) + ">";
  }
};

// The observer's outcome and drop reason (the prober has its own column).
std::string observed_cell(const ProbeRecord& r) {
  if (!r.observed) return "no observer event";
  std::string out = to_string(r.observed->outcome);
  if (!r.observed->drop_reason.empty()) out += ", drop " + r.observed->drop_reason;
  return out;
}

// The deciding policies (or rules), each kept on one line; the list wraps between them.
void policies_cell(Page& p, const ClusterState& cluster, const ProbeRecord& r) {
  const auto items = lab_report::deciding(cluster, r);
  p.add("<td class=\"mono policies\">");
  if (items.empty()) p.add("-");
  for (std::size_t i = 0; i < items.size(); ++i) {
    // "ns/name ingress[0]" may break before the rule index, nowhere else.
    std::string item = esc(items[i]);
    if (auto sp = item.rfind(' '); sp != std::string::npos) item.replace(sp, 1, "</span> <span>");
    p.add((i ? ", <span>" : "<span>") + item + "</span>");
  }
  p.add("</td>");
}

void badge(Page& p, Cell c, std::string_view text) {
  p.add("<span class=\"badge " + std::string(style(c).css) + "\">" + esc(text) + "</span>");
}

// The counts as a row of tiles; a count of findings above zero takes its kind's colour.
void summary(Page& p, const LabSummary& s) {
  p.add("<div class=\"stats\">");
  auto tile = [&](std::string_view value, std::string_view label, const char* cls = "") {
    p.add(std::string("<div class=\"stat") + (*cls ? " " : "") + cls + "\"><b>" + esc(value) + "</b><span>" + esc(label) + "</span></div>");
  };
  auto count = [&](std::size_t n, std::string_view label, Cell c) { tile(std::to_string(n), label, n ? style(c).css : ""); };
  tile(std::to_string(s.probes), "flows probed");
  tile(std::to_string(s.agree), "agree");
  count(s.silent_non_enforcement, "silent non-enforcement", Cell::kSilent);
  count(s.unexpected_drop, "unexpected drops", Cell::kUnexpectedDrop);
  count(s.observer_disagreement, "observer disagreements", Cell::kObserver);
  tile(lab_report::duration_text(s.setup), "setup", "time");
  tile(lab_report::duration_text(s.probing), "probing", "time");
  tile(lab_report::duration_text(s.teardown), "teardown", "time");
  p.add("</div>\n");
}

std::string probe_title(const ClusterState& cluster, const ProbeRecord& r) {
  std::string t = lab_report::name(cluster, r.flow.src) + " -> " + lab_report::name(cluster, r.flow.dst) + " " +
                  r.flow.port.to_string() + "\nexpected: " + lab_report::expected_text(cluster, r) +
                  "\nobserved: " + observed_cell(r) + "\nprober: " + to_string(r.prober) + "\nresult: ";
  if (r.findings.empty()) return t + "agree";
  for (std::size_t i = 0; i < r.findings.size(); ++i) t += (i ? ", " : "") + std::string(to_string(r.findings[i]));
  return t;
}

// Rows and columns: every endpoint of a probe, pods in cluster order, then IPs.
using AxisKey = std::tuple<int, PodId, IpAddr>;
AxisKey axis_key(const Endpoint& e) {
  if (e.pod) return {0, *e.pod, IpAddr{}};
  return {1, 0, e.ip.value_or(IpAddr{})};
}

void legend(Page& p) {
  p.add("<ul class=\"legend\">");
  for (Cell c : {Cell::kAgreeAllowed, Cell::kAgreeDenied, Cell::kSilent, Cell::kUnexpectedDrop, Cell::kObserver,
                 Cell::kNotProbed, Cell::kSelf}) {
    const CellStyle st = style(c);
    p.add(std::string("<li><span class=\"swatch ") + st.css + "\">" + st.glyph + "</span>" + esc(st.label) + "</li>");
  }
  p.add("</ul>\n<p class=\"muted\">Rows: from; columns: to (the endpoints probed on that port). "
        "Hover a cell for the details.</p>\n");
}

// One matrix per port, side by side. Its rows are the sources and its columns the destinations
// probed on that port, in a common order (pods as the cluster sorts them, then IPs).
void matrices(Page& p, const LabReport& report, const ClusterState& cluster) {
  std::map<AxisKey, std::size_t> axis;
  for (const ProbeRecord& r : report.probes) {
    for (const Endpoint* e : {&r.flow.src, &r.flow.dst}) axis.emplace(axis_key(*e), 0);
  }
  std::vector<std::string> names;
  for (auto& [key, index] : axis) {
    index = names.size();
    const auto& [kind, pod, ip] = key;
    names.push_back(kind == 0 ? cluster.pods[pod].ref() : ip.to_string());
  }
  struct PortGrid {
    std::set<std::size_t> rows, cols;
    std::map<std::pair<std::size_t, std::size_t>, std::vector<const ProbeRecord*>> cells;
  };
  std::map<PortProto, PortGrid> grids;
  for (const ProbeRecord& r : report.probes) {
    PortGrid& g = grids[r.flow.port];
    const std::size_t src = axis.at(axis_key(r.flow.src)), dst = axis.at(axis_key(r.flow.dst));
    g.rows.insert(src);
    g.cols.insert(dst);
    g.cells[{src, dst}].push_back(&r);
  }

  legend(p);
  p.add("<div class=\"matrices\">\n");
  for (const auto& [port, g] : grids) {
    p.add("<div class=\"grid\"><h3>" + esc(port.to_string()) + "</h3>\n<table class=\"matrix\"><tr><th></th>");
    for (std::size_t dst : g.cols) p.cell("th", names[dst], "col");
    p.add("</tr>\n");
    for (std::size_t src : g.rows) {
      p.add("<tr>");
      p.cell("th", names[src], "row");
      for (std::size_t dst : g.cols) {
        Cell c = src == dst ? Cell::kSelf : Cell::kNotProbed;
        std::string title = src == dst ? names[src] + ": pod to itself, always allowed, not probed"
                                       : names[src] + " -> " + names[dst] + " " + port.to_string() + ": not probed";
        if (auto it = g.cells.find({src, dst}); it != g.cells.end()) {
          c = Cell::kNotProbed;
          title.clear();
          for (const ProbeRecord* r : it->second) {
            c = std::max(c, classify(*r));
            title += (title.empty() ? "" : "\n\n") + probe_title(cluster, *r);
          }
        }
        const CellStyle st = style(c);
        p.add(std::string("<td class=\"cell ") + st.css + "\" title=\"" + esc(title) + "\">" + st.glyph + "</td>");
      }
      p.add("</tr>\n");
    }
    p.add("</table></div>\n");
  }
  p.add("</div>\n");
}

void findings(Page& p, const LabReport& report, const ClusterState& cluster) {
  const auto found = lab_report::findings(report);
  if (found.empty()) {
    p.add("<p>No findings: policy, network and observer agree on every probed flow.</p>\n");
    return;
  }
  p.add("<table class=\"list findings\"><tr><th>kind</th><th>from</th><th>to</th><th>port</th><th>expected</th>"
        "<th>observed</th><th>prober</th><th>policies</th></tr>\n");
  for (const auto& [i, kind] : found) {
    const ProbeRecord& r = report.probes[i];
    p.add("<tr class=\"finding\"><td class=\"nw\">");
    badge(p, finding_cell(kind), to_string(kind));
    p.add("</td>");
    p.cell("td", lab_report::name(cluster, r.flow.src), "mono nw");
    p.cell("td", lab_report::name(cluster, r.flow.dst), "mono nw");
    p.cell("td", r.flow.port.to_string(), "mono nw");
    p.cell("td", lab_report::expected_short(r));
    p.cell("td", observed_cell(r));
    p.cell("td", to_string(r.prober), "nw");
    policies_cell(p, cluster, r);
    p.add("</tr>\n");
  }
  p.add("</table>\n");
}

void probes(Page& p, const LabReport& report, const ClusterState& cluster) {
  p.add("<table class=\"list probes\"><tr><th>from</th><th>to</th><th>port</th><th>expected</th><th>observed</th>"
        "<th>prober</th><th>result</th><th>policies</th></tr>\n");
  for (const ProbeRecord& r : report.probes) {
    p.add("<tr>");
    p.cell("td", lab_report::name(cluster, r.flow.src), "mono nw");
    p.cell("td", lab_report::name(cluster, r.flow.dst), "mono nw");
    p.cell("td", r.flow.port.to_string(), "mono nw");
    p.cell("td", lab_report::expected_short(r));
    p.cell("td", observed_cell(r));
    p.cell("td", to_string(r.prober), "nw");
    p.add("<td class=\"nw\">");
    if (r.findings.empty()) badge(p, classify(r), "agree");
    for (FindingKind kind : r.findings) badge(p, finding_cell(kind), to_string(kind));
    p.add("</td>");
    policies_cell(p, cluster, r);
    p.add("</tr>\n");
  }
  p.add("</table>\n");
}

}  // namespace

std::string report_to_html(const LabReport& report, const ClusterState& cluster) {
  const LabSummary& s = report.summary;
  const std::string dataplane = s.dataplane.empty() ? "(unknown)" : s.dataplane;
  const char* verdict_class = "none";
  switch (lab_report::verdict(s)) {
    case lab_report::Verdict::kNothingProbed: verdict_class = "none"; break;
    case lab_report::Verdict::kEnforced: verdict_class = "ok"; break;
    case lab_report::Verdict::kFailed: verdict_class = "fail"; break;
    case lab_report::Verdict::kInconclusive: verdict_class = "inconclusive"; break;
  }
  Page p;
  p.add("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>npv lab: dataplane " +
        esc(dataplane) + "</title>\n<style>" + kCss + "</style>\n</head>\n<body>\n");
  p.add("<h1>npv lab report: dataplane " + esc(dataplane) + "</h1>\n");
  p.add(std::string("<p class=\"verdict ") + verdict_class + "\">" + esc(lab_report::verdict_line(s)) + "</p>\n");
  summary(p, s);
  p.add("<h2 id=\"reachability\">Reachability</h2>\n");
  if (report.probes.empty()) {
    p.add("<p>Nothing was probed.</p>\n");
  } else {
    matrices(p, report, cluster);
  }
  p.add("<h2 id=\"findings\">Findings</h2>\n");
  findings(p, report, cluster);
  p.add("<h2 id=\"probes\">Probes</h2>\n");
  probes(p, report, cluster);
  p.add("</body>\n</html>\n");
  return std::move(p.out);
}

}  // namespace npv
