// Test fixture base: a scratch directory of the test's own, removed after it.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace orc {

/// `dir_` is <temp>/orc-<suite>-<pid>-<test>, created before the test's SetUp and removed
/// after its TearDown.
class ScratchDirTest : public ::testing::Test {
 protected:
  ScratchDirTest() {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           (std::string("orc-") + info->test_suite_name() + "-" + std::to_string(::getpid()) +
            "-" + info->name());
    std::filesystem::create_directories(dir_);
  }
  ~ScratchDirTest() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

}  // namespace orc
