#pragma once
// The DAG of a run as one self-contained HTML page (inline CSS, JS and SVG; nothing fetched
// at view time): nodes coloured by their last decision, laid out left to right by layer. A
// plan (`orc plan`: nothing ran) is drawn as a plan: would build / would reuse.
#include <string>
#include <utility>
#include <vector>

namespace orc {

/// One node to draw.
struct DagNode {
  std::string unique_id;
  std::string resource_type;
  /// built | reused | failed | skipped; a plan's nodes: would build | would reuse
  std::string status;
  std::string reason_code;
  std::string reason;       ///< human text, shown on hover and click
  int layer = 0;            ///< column: longest path from a root
};

/// Assigns each node its layer: 0 for nodes without drawn parents, else 1 + the largest of
/// its parents' layers. `edges` are (parent index, child index) into `nodes`.
void assign_layers(std::vector<DagNode>& nodes, const std::vector<std::pair<int, int>>& edges);

/// The colour of a status (the page's legend uses the same).
const char* status_colour(const std::string& status);

/// The statuses of a run's page (`plan` false) or of a plan's, in legend order.
const std::vector<std::string>& dag_statuses(bool plan);

/// The HTML page. `title` is shown at the top; `plan`: the legend names what would happen
/// and nodes are outlined dashed (nothing ran).
std::string dag_html(const std::vector<DagNode>& nodes,
                     const std::vector<std::pair<int, int>>& edges, const std::string& title,
                     bool plan = false);

}  // namespace orc
