// The list/watch loop of one resource (rules in kube_watch.hpp). Internal to agent/kube.
#pragma once

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "npv/kube_client.hpp"
#include "npv/kube_watch.hpp"

namespace npv::kube {

// Receives the reflector's results; called on the reflector's thread. Implementations are
// thread-safe (several reflectors share one store).
class ReflectorSink {
 public:
  virtual ~ReflectorSink() = default;
  // A LIST being received, page by page: each page's items are decoded into the stage as the
  // page arrives, so only one page's JSON is held at a time (a 10,000-pod LIST as JSON is far
  // larger than its decoded objects). The stage is the implementation's; it only holds objects.
  struct ListStage {
    virtual ~ListStage() = default;
  };
  virtual std::unique_ptr<ListStage> begin_list(Resource resource) = 0;
  // Decodes one page's items into `stage` (the items may be moved from).
  virtual void stage_page(ListStage& stage, std::vector<nlohmann::json>& items) = 0;
  // The LIST completed: the resource's objects are now exactly the staged ones. Returns how many
  // of the LIST's items the model rejected.
  virtual std::size_t replace(ListStage& stage) = 0;
  // One ADDED, MODIFIED or DELETED event. Returns false when the model rejected the object.
  virtual bool apply(Resource resource, std::string_view type, const nlohmann::json& object) = 0;
  // The first LIST of `resource` completed.
  virtual void synced(Resource resource) = 0;
};

class Reflector {
 public:
  // `client`, `sink` and `cancel` must outlive run().
  Reflector(KubeClient& client, Resource resource, const WatchOptions& options, ReflectorSink& sink,
            Cancellation& cancel, std::uint64_t seed);
  void run();  // until cancel is cancelled
  ResourceStats stats() const;

 private:
  enum class End { kNormal, kExpired, kFailed, kDead, kCancelled };
  bool list(std::string& resource_version);
  End watch(std::string& resource_version, bool& received);
  // One line of a watch stream; false stops the stream (`end` says why).
  bool on_line(std::string_view line, std::string& resource_version, End& end, bool& received);
  void fail(const std::string& message);  // counts an error, logs it
  bool backoff(int failures);             // false when cancelled

  KubeClient& client_;
  const Resource resource_;
  const WatchOptions options_;
  ReflectorSink& sink_;
  Cancellation& cancel_;
  std::mt19937_64 rng_;
  bool not_installed_ = false;  // the last LIST answered 404 for an optional resource
  std::string stop_reason_;  // why on_line() stopped the stream, for the error message
  mutable std::mutex mutex_;
  ResourceStats stats_;
};

}  // namespace npv::kube
