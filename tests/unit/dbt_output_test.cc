// What orc shows of a failed captured dbt invocation: dbt's message, never a Python traceback.
#include <gtest/gtest.h>

#include "dbt/dbt_output.h"

using namespace orc;

namespace {

// dbt 1.11 with dbt-duckdb when the database file cannot be opened: its message, then the
// chained tracebacks of the unexpected exception.
const char* kDuckdbCannotOpen =
    "17:30:52  Encountered an error:\n"
    "IO Error: Cannot open file \"/tmp/x/wh.duckdb\": No such file or directory\n"
    "17:30:52  Traceback (most recent call last):\n"
    "  File \"/venv/dbt/adapters/duckdb/connections.py\", line 110, in exception_handler\n"
    "    yield\n"
    "  File \"/venv/dbt/adapters/duckdb/environments/__init__.py\", line 164, in initialize_db\n"
    "    conn = duckdb.connect(creds.path, read_only=False, config=config)\n"
    "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
    "_duckdb.IOException: IO Error: Cannot open file \"/tmp/x/wh.duckdb\": No such file\n"
    "\n"
    "During handling of the above exception, another exception occurred:\n"
    "\n"
    "Traceback (most recent call last):\n"
    "  File \"/venv/dbt/adapters/base/impl.py\", line 1372, in execute_macro\n"
    "    result = macro_function(**kwargs)\n"
    "dbt_common.exceptions.base.DbtRuntimeError: Runtime Error\n"
    "  IO Error: Cannot open file \"/tmp/x/wh.duckdb\": No such file or directory\n"
    "\n";

}  // namespace

TEST(DbtOutput, TracebacksAreLeftOutAndDbtsMessageKept) {
  std::string text = without_python_tracebacks(kDuckdbCannotOpen);
  EXPECT_EQ(text,
            "17:30:52  Encountered an error:\n"
            "IO Error: Cannot open file \"/tmp/x/wh.duckdb\": No such file or directory\n");
}

TEST(DbtOutput, LinesAfterATracebackAreKept) {
  std::string text = without_python_tracebacks(
      "before\nTraceback (most recent call last):\n  File \"x.py\", line 1, in f\n"
      "ValueError: bad\n  more of the message\n17:00:00  Done.\nlast");
  EXPECT_EQ(text, "before\n17:00:00  Done.\nlast");
}

TEST(DbtOutput, ExceptionIgnoredReportsAreLeftOut) {
  std::string text = without_python_tracebacks(
      "Done. PASS=1\nException ignored in: <function Pool.__del__ at 0x7f>\n"
      "Traceback (most recent call last):\n  File \"pool.py\", line 271, in __del__\n"
      "OSError: [Errno 9] Bad file descriptor\n");
  EXPECT_EQ(text, "Done. PASS=1\n");
}

TEST(DbtOutput, AnOnlyTracebackLeavesItsExceptionLine) {
  EXPECT_EQ(without_python_tracebacks("Traceback (most recent call last):\n  File \"a\", line 1\n"
                                      "KeyError: 'x'\n"),
            "KeyError: 'x'\n");
}

TEST(DbtOutput, TextWithoutTracebacksIsUnchanged) {
  const char* text = "17:00:00  Encountered an error:\nRuntime Error\n  Binder Error: x\n";
  EXPECT_EQ(without_python_tracebacks(text), text);
  EXPECT_EQ(without_python_tracebacks("no newline"), "no newline");
  EXPECT_EQ(without_python_tracebacks(""), "");
}

TEST(DbtOutput, FailureTextIsTrimmedAndCutFromTheEnd) {
  EXPECT_EQ(dbt_failure_text(kDuckdbCannotOpen),
            "IO Error: Cannot open file \"/tmp/x/wh.duckdb\": No such file or directory");
  EXPECT_EQ(dbt_failure_text("12:00:01  Encountered an error:\nRuntime Error\n  Binder Error\n"),
            "Runtime Error\n  Binder Error");
  EXPECT_EQ(dbt_failure_text("\n  abcdef  \n", 3), "...def");
  EXPECT_EQ(dbt_failure_text(" \n"), "");
}
