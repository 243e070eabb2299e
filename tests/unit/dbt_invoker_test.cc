// Choosing how to run dbt: the Python interpreter of a console script, and how invocations
// are described in logs and orc_decisions.json.
#include <gtest/gtest.h>

#include "dbt/dbt_invoker.h"
#include "dbt/script_interpreter.h"

using namespace orc;
using Words = std::vector<std::string>;

TEST(PythonOfScript, ReadsAPlainShebang) {
  auto p = python_of_script("#!/venv/bin/python\n# -*- coding: utf-8 -*-\nimport re\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, Words{"/venv/bin/python"});
  EXPECT_EQ(*python_of_script("#!/usr/bin/python3.11 -E\r\nimport x"),
            (Words{"/usr/bin/python3.11", "-E"}));
}

TEST(PythonOfScript, ReadsEnvShebangs) {
  EXPECT_EQ(*python_of_script("#!/usr/bin/env python3\n"), (Words{"/usr/bin/env", "python3"}));
  EXPECT_FALSE(python_of_script("#!/usr/bin/env bash\n"));
}

TEST(PythonOfScript, ReadsPipsLongPathForm) {
  auto p = python_of_script(
      "#!/bin/sh\n'''exec' \"/very long/path/venv/bin/python\" \"$0\" \"$@\"\n' '''\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, Words{"/very long/path/venv/bin/python"});
}

TEST(PythonOfScript, RejectsWhatIsNotAPythonScript) {
  EXPECT_FALSE(python_of_script(std::string("\x7f" "ELF\x02\x01", 6)));
  EXPECT_FALSE(python_of_script("#!/bin/sh\nexec /opt/dbt/bin/dbt \"$@\"\n"));
  EXPECT_FALSE(python_of_script("#!/bin/bash\n'''exec' \"/x/python\" \"$0\"\n"));
  EXPECT_FALSE(python_of_script(""));
  EXPECT_FALSE(python_of_script("#!\n"));
  EXPECT_FALSE(python_of_script("#!/bin/sh\n'''exec' \"/usr/bin/node\" \"$0\"\n"));
}

TEST(DescribeInvocation, ShortensLongArguments) {
  EXPECT_EQ(describe_invocation({"ls", "--select", "a"}), "dbt ls --select a");
  std::string line = describe_invocation({"show", "--inline", std::string(500, 'x')});
  EXPECT_EQ(line, "dbt show --inline " + std::string(200, 'x') + "...");
}

// The driver's fallbacks, with stand-ins for dbt's interpreter (no dbt needed): /bin/echo is
// the "dbt" of the separate processes.
#include "dbt/dbt_driver.h"

TEST(DbtDriver, FallsBackToProcessesWhenTheInterpreterHasNoDbt) {
  // `sh -c` as the interpreter: it answers like a Python without dbt-core would.
  DbtDriver dbt({"/bin/sh", "-c", "echo 'unavailable cannot import dbt-core' >&4", "sh"},
                "/bin/echo", ".", {});
  ProcessResult r = dbt.capture({"ls", "--quiet"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.stdout_text, "ls --quiet\n");
  EXPECT_EQ(dbt.run({"build"}), 0);
  auto p = dbt.processes();
  ASSERT_EQ(p.size(), 3u) << "the driver that could not be used, then one process each";
  EXPECT_EQ(p[0].mode, "driver");
  EXPECT_TRUE(p[0].invocations.empty());
  EXPECT_NE(p[0].note.find("cannot import dbt-core"), std::string::npos) << p[0].note;
  EXPECT_EQ(p[1].mode, "process");
  EXPECT_EQ(p[2].invocations, std::vector<std::string>{"dbt build"});
}

TEST(DbtDriver, AnswersInvocationsInOneProcessAndParsesOnce) {
  // A stand-in driver: greets, then answers every request with exit 3.
  DbtDriver dbt({"/bin/sh", "-c",
                 "echo 'ready 1.11.0' >&4; while read -r line <&3; do echo 'exit 3' >&4; done",
                 "sh"},
                "/bin/false", ".", {"--project-dir", "p"});
  EXPECT_EQ(dbt.run({"build"}), 3);
  EXPECT_EQ(dbt.run({"test"}), 3);
  auto p = dbt.processes();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].invocations,
            (std::vector<std::string>{"dbt parse --project-dir p", "dbt build", "dbt test"}));
}

TEST(DbtDriver, ADriverThatDiesDuringABuildIsNotRetried) {
  DbtDriver dbt({"/bin/sh", "-c", "echo 'ready 1.11.0' >&4; read -r line <&3; exit 7", "sh"},
                "/bin/echo", ".", {});
  EXPECT_EQ(dbt.run({"build"}), 7) << "what dbt did is unknown: not run again";
  auto p = dbt.processes();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].note.find("exit code 7"), std::string::npos) << p[0].note;
  // A reading invocation afterwards runs as a separate process.
  EXPECT_EQ(dbt.capture({"ls"}).stdout_text, "ls\n");
  EXPECT_EQ(dbt.processes().size(), 2u);
}
