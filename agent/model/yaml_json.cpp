#include "model/yaml_json.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <charconv>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>

namespace npv::detail {

using nlohmann::json;

namespace {

json plain_scalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (*begin == '+') ++begin;
  long long value = 0;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec == std::errc() && ptr == end && begin != end) return value;
  return s;
}

json typed_scalar(const std::string& tag, const std::string& value) {
  if (tag == "?") return plain_scalar(value);  // plain scalar: resolve its type
  if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null") {
    return plain_scalar(value);
  }
  return value;  // "!" (quoted), !!str and any other tag: a string
}

// Builds one document's json from parser events.
class JsonBuilder : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    root_.reset();
    stack_.clear();
    start_ = mark;
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { add(mark, anchor, nullptr, 1, nullptr); }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) throw YAML::ParserException(mark, "unknown alias");
    const std::string* key = it->second.value.is_string() ? &it->second.value.get_ref<const std::string&>() : nullptr;
    add(mark, 0, it->second.value, it->second.nodes, key);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    add(mark, anchor, typed_scalar(tag, value), 1, &value);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor, json::array());
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(mark, anchor, json::object());
  }
  void OnMapEnd() override { close(); }

  std::optional<json> take_root() { return std::exchange(root_, std::nullopt); }
  const YAML::Mark& start() const { return start_; }

 private:
  struct Frame {
    json value;
    YAML::anchor_t anchor;
    YAML::Mark mark;
    std::size_t nodes_before;          // node count when the frame opened (for anchors)
    std::optional<std::string> key;    // map: key waiting for its value
    std::set<std::string> merged;      // map: keys that came from a << merge (may be overridden)
  };

  void count(const YAML::Mark& mark, std::size_t n) {
    nodes_ += n;
    if (nodes_ > kMaxNodes) {
      throw YAML::ParserException(mark, "document expands to more than " + std::to_string(kMaxNodes) +
                                            " nodes (alias expansion?)");
    }
  }

  bool awaiting_key() const { return !stack_.empty() && stack_.back().value.is_object() && !stack_.back().key; }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor, json empty) {
    if (awaiting_key()) throw YAML::ParserException(mark, "mapping keys must be scalars");
    count(mark, 1);
    stack_.push_back(Frame{std::move(empty), anchor, mark, nodes_ - 1, std::nullopt, {}});
  }

  void close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.value.is_object() && f.key) throw YAML::ParserException(f.mark, "mapping key without value");
    std::size_t nodes = nodes_ - f.nodes_before;
    if (f.anchor) anchors_[f.anchor] = {f.value, nodes};
    place(f.mark, std::move(f.value));
  }

  // A complete node: `raw` is its source text when it may serve as a mapping key.
  void add(const YAML::Mark& mark, YAML::anchor_t anchor, json value, std::size_t nodes, const std::string* raw) {
    count(mark, nodes);
    if (anchor) anchors_[anchor] = {value, nodes};
    if (awaiting_key()) {
      if (!raw) throw YAML::ParserException(mark, "mapping keys must be non-empty scalars");
      stack_.back().key = *raw;
      return;
    }
    place(mark, std::move(value));
  }

  void place(const YAML::Mark& mark, json value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return;
    }
    Frame& parent = stack_.back();
    if (parent.value.is_array()) {
      parent.value.push_back(std::move(value));
      return;
    }
    std::string key = std::move(*parent.key);
    parent.key.reset();
    if (key == "<<" && (value.is_object() || value.is_array())) {
      merge(parent, mark, value);
      return;
    }
    if (parent.value.contains(key) && !parent.merged.erase(key)) {
      throw YAML::ParserException(mark, "duplicate mapping key \"" + key + "\"");
    }
    parent.value[key] = std::move(value);
  }

  // `<<: *base` or `<<: [*a, *b]`: keys not already present are copied; explicit keys win.
  void merge(Frame& parent, const YAML::Mark& mark, const json& source) {
    if (source.is_array()) {
      for (const auto& item : source) merge(parent, mark, item);
      return;
    }
    if (!source.is_object()) throw YAML::ParserException(mark, "merge key << needs a mapping");
    for (auto& [k, v] : source.items()) {
      if (!parent.value.contains(k)) {
        parent.value[k] = v;
        parent.merged.insert(k);
      }
    }
  }

  struct Anchored {
    json value;
    std::size_t nodes;
  };
  std::vector<Frame> stack_;
  std::unordered_map<YAML::anchor_t, Anchored> anchors_;
  std::optional<json> root_;
  YAML::Mark start_;
  std::size_t nodes_ = 0;
};

}  // namespace

std::vector<YamlDocument> parse_yaml_documents(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  JsonBuilder builder;
  std::vector<YamlDocument> docs;
  std::optional<int> stuck_at;  // position of the last document that produced nothing
  while (parser.HandleNextDocument(builder)) {
    auto root = builder.take_root();
    const YAML::Mark& mark = builder.start();
    bool empty = !root || root->is_null();
    if (empty) {
      // A parser that yields empty documents without moving on has met a token it cannot use.
      if (stuck_at == mark.pos) throw YAML::ParserException(mark, "unexpected token");
      stuck_at = mark.pos;
    } else {
      stuck_at.reset();
    }
    docs.push_back({root ? std::move(*root) : json(nullptr), mark.line + 1});
  }
  return docs;
}

}  // namespace npv::detail
