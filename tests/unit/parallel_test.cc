// parallel_for: every index exactly once, inline below the threshold, exceptions rethrown.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/parallel.h"

using namespace orc;

TEST(ParallelFor, CoversEveryIndexExactlyOnce) {
  for (size_t n : {0u, 1u, 63u, 64u, 1000u, 100003u}) {
    std::vector<std::atomic<int>> hits(n);
    parallel_for(n, 1, [&](size_t begin, size_t end) {
      ASSERT_LT(begin, end);
      ASSERT_LE(end, n);
      for (size_t i = begin; i < end; ++i) ++hits[i];
    });
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << n << " " << i;
  }
}

TEST(ParallelFor, RunsInlineBelowTheThreshold) {
  const auto caller = std::this_thread::get_id();
  int slices = 0;
  parallel_for(100, 101, [&](size_t begin, size_t end) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    EXPECT_EQ(begin, 0u);
    EXPECT_EQ(end, 100u);
    ++slices;
  });
  EXPECT_EQ(slices, 1);
}

TEST(ParallelFor, RethrowsTheFirstExceptionAfterEveryThreadStopped) {
  std::atomic<int> running{0};
  EXPECT_THROW(parallel_for(50000, 1,
                            [&](size_t begin, size_t) {
                              ++running;
                              if (begin >= 20000) {
                                --running;
                                throw std::runtime_error("slice failed");
                              }
                              --running;
                            }),
               std::runtime_error);
  EXPECT_EQ(running.load(), 0);
}
