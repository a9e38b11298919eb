// FakeApiServer: WATCH streams and their faults.
#include <chrono>

#include "support/fake_api_internal.hpp"

namespace npv::test {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::string event_line(const char* type, const json& object) {
  return json{{"type", type}, {"object", object}}.dump() + "\n";
}

// Writes a line as two chunks, so a client sees events split across reads.
bool send_line(HttpConnection& conn, const std::string& line) {
  const std::size_t half = line.size() / 2;
  return conn.send_chunk(std::string_view(line).substr(0, half)) && conn.send_chunk(std::string_view(line).substr(half));
}

}  // namespace

void FakeApiServer::serve_watch(HttpConnection& conn, const HttpRequest& req, const std::string& resource,
                                std::size_t index) {
  auto param = [&](const char* key) { return req.query.contains(key) ? req.query.at(key) : std::string(); };
  const bool bookmarks = param("allowWatchBookmarks") == "true" || param("allowWatchBookmarks") == "1";
  const std::string rv_text = param("resourceVersion");
  long timeout_s = param("timeoutSeconds").empty() ? 1800 : std::stol(param("timeoutSeconds"));
  const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);

  std::vector<std::string> initial;
  std::uint64_t cursor = 0;
  std::uint64_t end_seen, bookmark_seen, error_seen, drop_seen, malformed_seen;
  {
    std::unique_lock lock(mutex_);
    Resource& res = resource_locked(resource);
    if (rv_text.empty() || rv_text == "0") {  // "any": the current state as ADDED events
      cursor = rv_;
      for (const auto& [key, obj] : res.objects) initial.push_back(event_line("ADDED", obj));
    } else {
      cursor = std::stoull(rv_text);
      if (cursor < res.compacted_rv) {
        std::string message = "too old resource version: " + rv_text + " (" + std::to_string(res.compacted_rv) + ")";
        json status = status_json(410, "Expired", message);
        lock.unlock();
        set_status(index, options_.expired_watch == ExpiredWatch::kHttp410 ? 410 : 200);
        if (options_.expired_watch == ExpiredWatch::kHttp410) {
          conn.send_response(410, status.dump());
        } else if (conn.start_chunked(200)) {
          send_line(conn, event_line("ERROR", status));
          conn.end_chunked();
        }
        return;
      }
    }
    end_seen = res.end_epoch;
    bookmark_seen = res.bookmark_epoch;
    error_seen = res.error_epoch;
    drop_seen = res.drop_epoch;
    malformed_seen = res.malformed_epoch;
    ++res.open_watches;
  }
  set_status(index, 200);
  bool alive = conn.start_chunked(200);
  for (const auto& line : initial) alive = alive && send_line(conn, line);

  enum class End { kNone, kNormal, kDrop, kGone };
  End end = End::kNone;
  while (alive && end == End::kNone) {
    std::vector<std::string> lines;
    {
      std::unique_lock lock(mutex_);
      Resource& res = resource_locked(resource);
      auto has_work = [&] {
        if (stopping_ || res.drop_epoch != drop_seen) return true;
        if (stalled_) return false;  // silent: no events, no bookmarks, no end
        return (!res.history.empty() && res.history.back().rv > cursor) || res.end_epoch != end_seen ||
               res.bookmark_epoch != bookmark_seen || res.error_epoch != error_seen ||
               res.malformed_epoch != malformed_seen || Clock::now() >= deadline;
      };
      // Wake up now and then to notice a client that went away (it never writes during a watch).
      bool gone = false;
      while (!has_work() && !(gone = conn.peer_closed())) {
        cv_.wait_for(lock, std::chrono::milliseconds(20));
      }
      if (stopping_ || gone) {
        end = End::kDrop;
      } else if (res.drop_epoch != drop_seen) {
        lines.push_back(R"({"type":"ADDED","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"half)");
        end = End::kDrop;
      } else if (stalled_) {
        continue;
      } else if (res.error_epoch != error_seen) {
        std::string message = "too old resource version: " + std::to_string(cursor) + " (" +
                              std::to_string(res.compacted_rv) + ")";
        lines.push_back(event_line("ERROR", status_json(410, "Expired", message)));
        end = End::kGone;
      } else {
        for (const auto& change : res.history) {
          if (change.rv > cursor) lines.push_back(event_line(change.type.c_str(), change.object));
        }
        if (!res.history.empty()) cursor = std::max(cursor, res.history.back().rv);
        if (res.malformed_epoch != malformed_seen) lines.push_back("{\"type\":\"MODIFIED\",\"object\":{\"metadata\":\n");
        if (res.bookmark_epoch != bookmark_seen && bookmarks) {
          json bookmark = {{"kind", res.info->kind},
                           {"apiVersion", res.info->api_version},
                           {"metadata", {{"resourceVersion", std::to_string(rv_)}}}};
          lines.push_back(event_line("BOOKMARK", bookmark));
        }
        if (res.end_epoch != end_seen || Clock::now() >= deadline) end = End::kNormal;
      }
      end_seen = res.end_epoch;
      bookmark_seen = res.bookmark_epoch;
      error_seen = res.error_epoch;
      drop_seen = res.drop_epoch;
      malformed_seen = res.malformed_epoch;
    }
    for (const auto& line : lines) {
      if (end == End::kDrop) {
        alive = alive && conn.send_chunk(line);  // half an event, no newline
      } else {
        alive = alive && send_line(conn, line);
      }
    }
  }
  if (end == End::kDrop || !alive) {
    conn.abort();
  } else {
    conn.end_chunked();
  }
  std::lock_guard lock(mutex_);
  --resource_locked(resource).open_watches;
}

}  // namespace npv::test
