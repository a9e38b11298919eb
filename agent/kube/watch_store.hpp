// The objects a ClusterWatcher has received, decoded into the model, and the snapshots built from
// them (kube_watch.hpp). Internal to agent/kube. Thread-safe: reflectors write, the builder reads.
#pragma once

#include <array>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "kube/reflector.hpp"
#include "npv/object_decoder.hpp"

namespace npv::kube {

class WatchStore final : public ReflectorSink {
 public:
  explicit WatchStore(const WatchOptions& options);

  std::unique_ptr<ListStage> begin_list(Resource resource) override;
  void stage_page(ListStage& stage, std::vector<nlohmann::json>& items) override;  // no lock held
  std::size_t replace(ListStage& stage) override;
  bool apply(Resource resource, std::string_view type, const nlohmann::json& object) override;
  void synced(Resource resource) override;

  // Blocks until a change awaits a snapshot and every configured resource is synced; false once
  // stop() was called.
  bool wait_for_change();
  void stop();
  // A finalized snapshot of the store (generation left 0); clears the pending change.
  ClusterSnapshot build();
  bool all_synced() const;
  std::size_t object_count(Resource resource) const;

 private:
  struct Entry {
    ModelObject object;
    std::string fingerprint;  // the parts that can change a verdict, as JSON text
    MonoTime changed{};
    std::string uid;
    bool terminal = false;  // a pod in phase Succeeded or Failed
  };
  using Objects = std::map<std::string, Entry>;  // key: "ns/name", or "name" for namespaces
  struct Staged;  // a ListStage: the decoded objects of a LIST in progress

  // Decodes `object` into `entry` (all but its change time); the model's error when it rejects
  // it (logged). Touches no member: callable without the lock.
  static std::optional<std::string> decode(Resource resource, const nlohmann::json& object, Entry& entry);
  // Bookkeeping of a decoded entry about to be stored under `key` (under the lock): its change
  // time (`previous`'s when nothing relevant changed); true when it can change a verdict.
  bool admit(Resource resource, const std::string& key, const Entry* previous, MonoTime now, Entry& entry);
  void erased(Resource resource, const std::string& key, MonoTime now);  // bookkeeping after a removal

  const WatchOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::array<Objects, kResourceCount> objects_;
  std::array<std::map<std::string, std::string>, kResourceCount> invalid_;  // key -> error message
  std::map<std::string, MonoTime> policy_deleted_;
  std::array<bool, kResourceCount> synced_{};
  MonoTime synced_at_{};
  bool dirty_ = false;
  bool stopping_ = false;
};

}  // namespace npv::kube
