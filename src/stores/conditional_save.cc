#include "stores/conditional_save.h"

#include <algorithm>
#include <fmt/format.h>
#include <random>

#include "core/error.h"
#include "core/log.h"

namespace orc::remote {

namespace {

double jitter(double max_s) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, max_s)(rng);
}

}  // namespace

HttpResponse perform_with_transient_retries(const std::function<HttpRequest()>& make,
                                            const std::string& what, int attempts) {
  HttpResponse r;
  double backoff = 0.5;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    r = http_perform(make());
    if (r.status != 0 && r.status < 500) break;
    if (attempt < attempts) {
      log_debug("{} failed ({}), retrying", what,
                r.status == 0 ? "network error: " + r.network_error
                              : fmt::format("HTTP {}", r.status));
      sleep_seconds(backoff);
      backoff *= 2;
    }
  }
  return r;
}

void save_merged_with_retries(
    const State& updates, const std::string& where, const std::function<ObjectSnapshot()>& read,
    const std::function<WriteAttempt(const State& merged, const ObjectSnapshot& read_from)>& write) {
  update_with_retries([&updates](State& s) { merge_state(s, updates); }, where, read, write);
}

void update_with_retries(
    const std::function<void(State&)>& change, const std::string& where,
    const std::function<ObjectSnapshot()>& read,
    const std::function<WriteAttempt(const State& changed, const ObjectSnapshot& read_from)>& write) {
  double backoff = 0.1;
  for (int attempt = 1; attempt <= kMaxConflictRetries; ++attempt) {
    ObjectSnapshot snap = read();
    change(snap.state);
    WriteAttempt w = write(snap.state, snap);
    if (w.written) {
      log_debug("saved {} entries to {} (attempt {})", snap.state.entries.size(), where, attempt);
      return;
    }
    log_debug("{} changed while saving ({}), re-reading and merging again (attempt {}/{})", where,
              w.conflict, attempt + 1, kMaxConflictRetries);
    sleep_seconds(backoff + jitter(backoff));
    backoff = std::min(backoff * 2, 2.0);
  }
  throw Error(fmt::format(
      "cannot write state to {}: it kept changing under concurrent writers ({} attempts); "
      "the stored state has other runs' entries but not this run's",
      where, kMaxConflictRetries));
}

}  // namespace orc::remote
