#pragma once
// Data-parallel loops for the pure core's independent per-node work (docs/design.md,
// "Engine performance").
#include <cstddef>
#include <functional>

namespace orc {

/// Below this many nodes, per-node work is cheaper inline than on threads.
inline constexpr size_t kParallelNodes = 4096;

/// Calls `fn(begin, end)` on consecutive slices of [0, n) that together cover it exactly once,
/// spread over the machine's cores (the calling thread is one of them). Runs inline, in one
/// slice, when `n < min_parallel` or the machine has one core. `fn` must only write state that
/// belongs to its slice. The first exception thrown by `fn` is rethrown once every thread has
/// stopped.
void parallel_for(size_t n, size_t min_parallel, const std::function<void(size_t, size_t)>& fn);

}  // namespace orc
