#pragma once
// State in a local JSON file: exclusive lock, re-read + merge, temp file + fsync + rename.
#include <filesystem>

#include "stores/state_store.h"

namespace orc {

class LocalFileStore : public StateStore {
 public:
  /// `origin` says which setting named the file (for messages).
  LocalFileStore(std::filesystem::path path, std::string origin);
  std::string describe() const override;
  /// Missing file -> orc::Error with the bootstrap hint; corrupt file -> orc::Error.
  State load() override;
  void update(const std::function<void(State&)>& change) override;

 private:
  std::filesystem::path path_;
  std::string origin_;
};

}  // namespace orc
