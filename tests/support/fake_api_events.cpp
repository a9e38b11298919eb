// FakeApiServer: core/v1 Events (POST and PATCH).
#include "support/fake_api_internal.hpp"

namespace npv::test {

using nlohmann::json;

void FakeApiServer::serve_events(HttpConnection& conn, const HttpRequest& req, const std::string& ns,
                                 const std::string& name, std::size_t index) {
  json body = json::parse(req.body, nullptr, false);
  int status = 200;
  json out;
  {
    std::lock_guard lock(mutex_);
    if (fail_events_ > 0) {
      --fail_events_;
      status = fail_events_status_;
      out = status_json(status, "InternalError", "injected failure");
    } else if (!body.is_object()) {
      status = 400;
      out = status_json(400, "BadRequest", "body is not a JSON object");
    } else if (req.method == "POST") {
      json& meta = body["metadata"];
      std::string obj_name = meta.is_object() && meta.contains("name") ? meta["name"].get<std::string>() : "";
      std::string involved_ns = body.contains("involvedObject") ? body["involvedObject"].value("namespace", "") : "";
      if (obj_name.empty()) {
        status = 422;
        out = status_json(422, "Invalid", "Event \"\" is invalid: metadata.name: Required value");
      } else if (meta.contains("namespace") && meta["namespace"] != ns) {
        status = 400;
        out = status_json(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
      } else if (!involved_ns.empty() && involved_ns != ns) {
        status = 422;
        out = status_json(422, "Invalid", "involvedObject.namespace: Invalid value: does not match event.namespace");
      } else if (events_.contains(ns + "/" + obj_name)) {
        status = 409;
        out = status_json(409, "AlreadyExists", "events \"" + obj_name + "\" already exists");
      } else {
        meta["namespace"] = ns;
        meta["uid"] = "e0e0e0e0-0000-4000-8000-" + std::to_string(100000000000ULL + next_uid_++);
        meta["resourceVersion"] = std::to_string(++rv_);
        body["kind"] = "Event";
        body["apiVersion"] = "v1";
        events_[ns + "/" + obj_name] = body;
        status = 201;
        out = body;
      }
    } else {  // PATCH
      auto ct = req.headers.find("content-type");
      std::string type = ct == req.headers.end() ? "" : ct->second;
      auto it = events_.find(ns + "/" + name);
      if (type != "application/strategic-merge-patch+json" && type != "application/merge-patch+json") {
        status = 415;
        out = status_json(415, "UnsupportedMediaType", "the body of the request was in an unknown format: " + type);
      } else if (it == events_.end()) {
        status = 404;
        out = status_json(404, "NotFound", "events \"" + name + "\" not found");
      } else {
        // For an Event's scalar fields a strategic merge patch is a JSON merge patch.
        it->second.merge_patch(body);
        it->second["metadata"]["resourceVersion"] = std::to_string(++rv_);
        out = it->second;
      }
    }
  }
  set_status(index, status);
  conn.send_response(status, out.dump());
}

}  // namespace npv::test
