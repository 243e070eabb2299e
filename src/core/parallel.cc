#include "core/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <future>
#include <thread>
#include <vector>

namespace orc {

void parallel_for(size_t n, size_t min_parallel, const std::function<void(size_t, size_t)>& fn) {
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  if (n == 0) return;
  if (n < min_parallel || cores == 1) {
    fn(0, n);
    return;
  }
  // Small slices handed out in order balance uneven items (node code sizes vary a lot).
  const size_t threads = std::min<size_t>(cores, 8);
  const size_t slice = std::max<size_t>(64, n / (threads * 16));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t begin; (begin = next.fetch_add(slice)) < n;) fn(begin, std::min(n, begin + slice));
  };
  std::vector<std::future<void>> helpers;
  for (size_t t = 1; t < threads; ++t) helpers.push_back(std::async(std::launch::async, work));
  std::exception_ptr first;
  try {
    work();
  } catch (...) {
    first = std::current_exception();
    next = n;  // the helpers stop after their current slice
  }
  for (auto& h : helpers) {
    try {
      h.get();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace orc
