// normalize_code (comments, whitespace, strings, Jinja, dollar quotes) and collect_references.
#include <gtest/gtest.h>

#include "plan/code_normalizer.h"

using namespace orc;

namespace {

std::string norm(std::string_view code) { return normalize_code(code); }

CodeReferences refs(std::string_view code) {
  CodeReferences r;
  collect_references(code, r);
  return r;
}

using Names = std::vector<std::string>;

// ---- normalize_code: comments and whitespace ----

TEST(CodeNormalizer, CollapsesAndTrimsWhitespace) {
  EXPECT_EQ(norm("  select\t a,\n\n  b \r\n from\f\vt  \n"), "select a, b from t");
  EXPECT_EQ(norm(""), "");
  EXPECT_EQ(norm(" \n\t "), "");
}

TEST(CodeNormalizer, CommentOnlyEditNormalisesEqual) {
  const char* before = "select a, b -- the columns\nfrom t /* main table */ where x = 1";
  const char* after = "-- header\nselect a, b -- other words\nfrom t /* edited\n comment */ where x = 1";
  EXPECT_EQ(norm(before), norm(after));
  EXPECT_EQ(norm(before), "select a, b from t where x = 1");
}

TEST(CodeNormalizer, WhitespaceOnlyEditNormalisesEqual) {
  EXPECT_EQ(norm("select a,b\nfrom t"), norm("select   a,b\n\n\n   from\tt   "));
}

TEST(CodeNormalizer, SemanticEditNormalisesDifferent) {
  EXPECT_NE(norm("select a from t"), norm("select b from t"));
  EXPECT_NE(norm("select a from t where x = 1"), norm("select a from t where x = 2"));
  EXPECT_NE(norm("select ab"), norm("select a b"));
}

TEST(CodeNormalizer, RemovedCommentBecomesASpace) {
  EXPECT_EQ(norm("a/*x*/b"), "a b");
  EXPECT_EQ(norm("a -- x\nb"), "a b");
  EXPECT_EQ(norm("a /* x */ /* y */ b"), "a b");
  EXPECT_EQ(norm("select 1 -- trailing"), "select 1");
  EXPECT_EQ(norm("/* only a comment */"), "");
}

TEST(CodeNormalizer, BlockCommentsDoNotNest) {
  EXPECT_EQ(norm("a /* x /* y */ b */ c"), "a b */ c");
  EXPECT_EQ(norm("a /*/ b */ c"), "a c");
}

TEST(CodeNormalizer, LineCommentEndsAtCarriageReturn) {
  EXPECT_EQ(norm("a -- x\r\nb"), "a b");
  EXPECT_EQ(norm("a -- x\rb"), "a b");
}

// ---- strings and quoted identifiers ----

TEST(CodeNormalizer, CommentMarkersInsideStringsAreKept) {
  EXPECT_EQ(norm("select 'x -- y' as a"), "select 'x -- y' as a");
  EXPECT_EQ(norm("select '/* not */ a comment'"), "select '/* not */ a comment'");
  EXPECT_EQ(norm("select '{# kept #}'"), "select '{# kept #}'");
}

TEST(CodeNormalizer, StringsAreByteExact) {
  EXPECT_EQ(norm("select   'a   b\n\tc'   from t"), "select 'a   b\n\tc' from t");
  EXPECT_NE(norm("select 'a  b'"), norm("select 'a b'"));
}

TEST(CodeNormalizer, StringEscapes) {
  EXPECT_EQ(norm("select 'it''s -- here' -- gone"), "select 'it''s -- here'");
  EXPECT_EQ(norm("select 'it\\'s -- here' -- gone"), "select 'it\\'s -- here'");
  EXPECT_EQ(norm("select 'a\\\\' -- gone"), "select 'a\\\\'");
  EXPECT_EQ(norm("select '' -- gone\n, 'x'"), "select '' , 'x'");
}

TEST(CodeNormalizer, QuotedIdentifiersAreKept) {
  EXPECT_EQ(norm("select \"a--b\" from t"), "select \"a--b\" from t");
  EXPECT_EQ(norm("select \"a  /* b */\" -- c"), "select \"a  /* b */\"");
  EXPECT_EQ(norm("select \"a\"\"--b\" x"), "select \"a\"\"--b\" x");
  EXPECT_EQ(norm("select `a -- b`  from t"), "select `a -- b` from t");
}

// ---- Jinja ----

TEST(CodeNormalizer, JinjaBlocksAreNotSqlComments) {
  EXPECT_EQ(norm("select {{ a -- b }} from t"), "select {{ a -- b }} from t");
  EXPECT_EQ(norm("{% set x = 1 /* 2 */ %}select 1"), "{% set x = 1 /* 2 */ %}select 1");
}

TEST(CodeNormalizer, JinjaWhitespaceCollapsesButStringsStayExact) {
  EXPECT_EQ(norm("{{   ref(  'my  model' )   }}"), "{{ ref( 'my  model' ) }}");
  EXPECT_EQ(norm("{%-  if  x  -%}\n a \n{%- endif %}"), "{%- if x -%}a{%- endif %}");
  EXPECT_EQ(norm("{{ \"a -- b\" }}"), "{{ \"a -- b\" }}");
}

TEST(CodeNormalizer, NestedJinjaDelimitersInStrings) {
  EXPECT_EQ(norm("select {{ \"{{\" }} -- c\n, 1"), "select {{ \"{{\" }} , 1");
  EXPECT_EQ(norm("select {{ '}}' }}  x"), "select {{ '}}' }} x");
  EXPECT_EQ(norm("{{ {'a': {'b': 1}} }} -- c"), "{{ {'a': {'b': 1}} }}");
}

TEST(CodeNormalizer, JinjaCommentsAreRemoved) {
  EXPECT_EQ(norm("select 1 {# a comment #} from t"), "select 1 from t");
  EXPECT_EQ(norm("select 1 {# multi\nline\n#}\nfrom t"), "select 1 from t");
  // Jinja drops the comment without leaving whitespace behind.
  EXPECT_EQ(norm("a{# x #}b"), "ab");
  EXPECT_EQ(norm("{# only #}"), "");
}

TEST(CodeNormalizer, JinjaCommentWithDashesAndQuotes) {
  EXPECT_EQ(norm("select 1 {# it's -- \"odd\" /* #} , 2"), "select 1 , 2");
  EXPECT_EQ(norm("select 1 {# ' #} , ' -- s'"), "select 1 , ' -- s'");
}

TEST(CodeNormalizer, JinjaCommentInsideIfBlock) {
  const char* a = "{% if target.name == 'prod' %}\n  {# prod only #}\n  select 1\n{% endif %}";
  const char* b = "{% if target.name == 'prod' %} select 1 {% endif %}";
  EXPECT_EQ(norm(a), norm(b));
  EXPECT_EQ(norm(a), "{% if target.name == 'prod' %} select 1 {% endif %}");
}

TEST(CodeNormalizer, JinjaWhitespaceControl) {
  // `-` markers strip adjacent whitespace, so these render identically.
  EXPECT_EQ(norm("a {{- x }}"), norm("a{{- x }}"));
  EXPECT_EQ(norm("a {#- c -#} b"), "ab");
  EXPECT_EQ(norm("a {#- c #} b"), "a b");
  // A dropped SQL comment is SQL whitespace that `{{-` cannot strip.
  EXPECT_NE(norm("a /* c */ {{- x }}"), norm("a {{- x }}"));
}

TEST(CodeNormalizer, StripMarkerAfterLineCommentExtendsTheComment) {
  // `{%-` eats the line break, so `b` is commented out in the rendered SQL.
  const std::string code = "select a, -- note\n  {%- if x %} b {% endif %}";
  EXPECT_NE(norm(code), norm("select a, {%- if x %} b {% endif %}"));
  EXPECT_EQ(norm(code), "select a, -- note\n  {%- if x %} b {% endif %}");
  EXPECT_EQ(norm("select a -- note\n{#- c #} b\nfrom t"), "select a from t");
}

TEST(CodeNormalizer, RawBlocksAreKeptVerbatim) {
  EXPECT_EQ(norm("select {% raw %} {# x #}  -- {{ y {% endraw %}  1"),
            "select {% raw %} {# x #}  -- {{ y {% endraw %} 1");
}

TEST(CodeNormalizer, SqlCommentWithJinjaIsKept) {
  EXPECT_EQ(norm("-- {{ config(materialized='table') }}\nselect 1"),
            "-- {{ config(materialized='table') }}\nselect 1");
  EXPECT_EQ(norm("select 1 /* {{ config(tags=['a']) }} */  from t"),
            "select 1 /* {{ config(tags=['a']) }} */ from t");
  EXPECT_EQ(norm("select 1 -- {% do log('x') %}   "), "select 1 -- {% do log('x') %}   ");
  EXPECT_NE(norm("-- {{ config(materialized='table') }}\nselect 1"),
            norm("-- {{ config(materialized='view') }}\nselect 1"));
}

TEST(CodeNormalizer, KeptLineCommentKeepsItsLineBreak) {
  // Joining the next line onto the comment would comment it out.
  EXPECT_EQ(norm("a -- {{ x }}\n\n   b"), "a -- {{ x }}\nb");
  EXPECT_EQ(norm("a -- {{ x }}\n/* gone */ b"), "a -- {{ x }}\nb");
}

TEST(CodeNormalizer, JinjaInsideACommentIsSteppedOverWhole) {
  // The `*/` and the line break are inside the Jinja string, so they do not end the comment.
  EXPECT_EQ(norm("/* {{ '*/' }} */ x"), "/* {{ '*/' }} */ x");
  EXPECT_EQ(norm("-- {{ 'a\nb' }} c\nd"), "-- {{ 'a\nb' }} c\nd");
}

// ---- dollar quotes ----

TEST(CodeNormalizer, DollarQuotes) {
  EXPECT_EQ(norm("select $$ a -- b /* c */ $$ -- gone"), "select $$ a -- b /* c */ $$");
  EXPECT_EQ(norm("select $fn$ a -- b\n  /* c */ $fn$  x"), "select $fn$ a -- b\n  /* c */ $fn$ x");
  EXPECT_EQ(norm("select $a$ $b$ -- $$ $a$ -- gone"), "select $a$ $b$ -- $$ $a$");
  EXPECT_EQ(norm("select $a_1$x$a_1$"), "select $a_1$x$a_1$");
}

TEST(CodeNormalizer, PositionalParameterIsNotADollarQuote) {
  EXPECT_EQ(norm("select $1 -- c\n, $2 /* d */"), "select $1 , $2");
  EXPECT_EQ(norm("select $1$ -- c"), "select $1$");
}

TEST(CodeNormalizer, DollarInsideIdentifierIsNotADollarQuote) {
  EXPECT_EQ(norm("select a$b$ -- c\nfrom t"), "select a$b$ from t");
}

// ---- unterminated input ----

TEST(CodeNormalizer, UnterminatedStringKeepsTheRest) {
  EXPECT_EQ(norm("select 'abc -- x\n  y"), "select 'abc -- x\n  y");
  EXPECT_EQ(norm("select \"abc /* x"), "select \"abc /* x");
  EXPECT_EQ(norm("select 'a\\"), "select 'a\\");
  EXPECT_EQ(norm("select $$ -- x"), "select $$ -- x");
  EXPECT_EQ(norm("select $t$ -- x $t"), "select $t$ -- x $t");
  EXPECT_EQ(norm("'"), "'");
}

TEST(CodeNormalizer, UnterminatedCommentIsDropped) {
  EXPECT_EQ(norm("select 1 /* never closed\n -- x"), "select 1");
  EXPECT_EQ(norm("select 1 {# never closed"), "select 1");
  EXPECT_EQ(norm("select 1 /*"), "select 1");
  EXPECT_EQ(norm("select 1 --"), "select 1");
  EXPECT_EQ(norm("/"), "/");
  EXPECT_EQ(norm("-"), "-");
}

TEST(CodeNormalizer, UnterminatedJinjaKeepsTheRest) {
  EXPECT_EQ(norm("select {{ x -- y\n /* z"), "select {{ x -- y /* z");
  EXPECT_EQ(norm("select {{ 'abc -- y"), "select {{ 'abc -- y");
  EXPECT_EQ(norm("select {% if ( %} -- c"), "select {% if ( %} -- c");
  EXPECT_EQ(norm("{"), "{");
  EXPECT_EQ(norm("{{"), "{{");
  EXPECT_EQ(norm("{%-"), "{%-");
  EXPECT_EQ(norm("{% raw %} -- x"), "{% raw %} -- x");
}

TEST(CodeNormalizer, LargeInputIsHandled) {
  std::string code;
  for (int i = 0; i < 20000; ++i) code += "select $a$ $ $$ {{ '{{' }} -- c\n";
  const std::string out = norm(code);
  EXPECT_FALSE(out.empty());
  EXPECT_EQ(norm(std::string(100000, '$')), std::string(100000, '$'));
}

// ---- python ----

TEST(CodeNormalizer, PythonIsUnchanged) {
  const std::string py = "def model(dbt, session):\n    # comment\n    return  dbt.ref('a')  \n";
  EXPECT_EQ(normalize_code(py, "python"), py);
  EXPECT_EQ(normalize_code("select 1  -- c", "sql"), "select 1");
}

// ---- collect_references ----

TEST(CodeNormalizerRefs, VarsWithBothQuoteStylesAndDefaults) {
  const CodeReferences r = refs("select {{ var('a') }}, {{ var(\"b\") }}, {{ var('c', 3) }}, "
                                "{{ var ( 'd' , 'x' ) }}, {{ var(\n'e'\n) }}");
  EXPECT_EQ(r.vars, (Names{"a", "b", "c", "d", "e"}));
  EXPECT_TRUE(r.env_vars.empty());
  EXPECT_FALSE(r.dynamic_var);
  EXPECT_FALSE(r.dynamic_env_var);
}

TEST(CodeNormalizerRefs, EnvVarIsNotAVar) {
  const CodeReferences r = refs("{{ env_var('DBT_USER') }} {{ env_var(\"HOST\", 'localhost') }}");
  EXPECT_TRUE(r.vars.empty());
  EXPECT_EQ(r.env_vars, (Names{"DBT_USER", "HOST"}));
  EXPECT_FALSE(r.dynamic_var);
}

TEST(CodeNormalizerRefs, DispatchedMacroNames) {
  const CodeReferences r =
      refs("{{ return(adapter.dispatch('star', 'dbt_utils')(from)) }} "
           "{% set f = adapter.dispatch(\"datediff\", macro_namespace='dbt') %} "
           "-- {{ adapter.dispatch('in_sql_comment') }}\n{# adapter.dispatch('not_called') #}");
  EXPECT_EQ(r.dispatched, (Names{"datediff", "in_sql_comment", "star"}));
  EXPECT_FALSE(r.dynamic_dispatch);
  EXPECT_TRUE(refs("{{ adapter.dispatch(name ~ '_x')() }}").dynamic_dispatch);
  EXPECT_TRUE(refs("adapter.dispatch('plain text')").dispatched.empty());
}

TEST(CodeNormalizerRefs, OnlyStandaloneCallsCount) {
  const CodeReferences r = refs("{{ my_var('a') }} {{ x.var('b') }} {{ env_var2('c') }} "
                                "{% set var = 1 %} {{ var }} {{ var.x }} {{ varx('d') }}");
  EXPECT_TRUE(r.vars.empty());
  EXPECT_TRUE(r.env_vars.empty());
  EXPECT_FALSE(r.dynamic_var);
  EXPECT_FALSE(r.dynamic_env_var);
}

TEST(CodeNormalizerRefs, DynamicNames) {
  EXPECT_TRUE(refs("{{ var(name) }}").dynamic_var);
  EXPECT_TRUE(refs("{{ var('a' ~ b) }}").dynamic_var);
  EXPECT_TRUE(refs("{{ var('a' + b) }}").dynamic_var);
  EXPECT_TRUE(refs("{{ var('a' | lower) }}").dynamic_var);
  EXPECT_TRUE(refs("{{ var() }}").dynamic_var);
  EXPECT_TRUE(refs("{{ var('unterminated ) }}").dynamic_var);
  EXPECT_TRUE(refs("{{ var(").dynamic_var);
  const CodeReferences r = refs("{{ env_var(prefix ~ '_HOST') }} {{ var('x') }}");
  EXPECT_TRUE(r.dynamic_env_var);
  EXPECT_FALSE(r.dynamic_var);
  EXPECT_EQ(r.vars, (Names{"x"}));
  EXPECT_TRUE(r.env_vars.empty());
}

TEST(CodeNormalizerRefs, NestedCallIsBothDynamicAndRecorded) {
  const CodeReferences r = refs("{{ var(var('inner')) }}");
  EXPECT_TRUE(r.dynamic_var);
  EXPECT_EQ(r.vars, (Names{"inner"}));
}

TEST(CodeNormalizerRefs, DuplicatesAreMergedAndSorted) {
  CodeReferences r;
  r.vars = {"m"};
  r.env_vars = {"Z"};
  collect_references("{{ var('z') }} {{ var('a') }} {{ var('z') }} {{ env_var('Z') }}", r);
  collect_references("{{ var('m') }} {{ env_var('A') }}", r);
  EXPECT_EQ(r.vars, (Names{"a", "m", "z"}));
  EXPECT_EQ(r.env_vars, (Names{"A", "Z"}));
}

TEST(CodeNormalizerRefs, InsideCommentsAndMacros) {
  const CodeReferences r = refs(
      "-- {{ var('in_line_comment') }}\n"
      "/* {{ env_var('IN_BLOCK_COMMENT') }} */\n"
      "{% macro m() %}\n  {% set v = var('in_macro') %}\n  {{ return(v) }}\n{% endmacro %}");
  EXPECT_EQ(r.vars, (Names{"in_line_comment", "in_macro"}));
  EXPECT_EQ(r.env_vars, (Names{"IN_BLOCK_COMMENT"}));
}

}  // namespace

TEST(CodeNormalizerRefs, OnlyJinjaIsCalled) {
  // Found by the dbt_jira twin trial: `-- ... var(issue_field_history_columns)` in a plain
  // SQL comment made the model read a var with a computed name (every var change rebuilt it).
  const CodeReferences r = refs(
      "-- pivots the columns listed in var(issue_field_history_columns)\n"
      "select env_var('NOT_JINJA') as x, '{' as brace, '}}' as closing\n"
      "{# {{ var('in_jinja_comment') }} #}\n"
      "-- {{ var('rendered_in_sql_comment') }}\n"
      "{%- set cols = var('in_statement', []) -%}\n"
      "from {{ ref('a') }} where {{ env_var('IN_EXPR') }} = 1");
  EXPECT_EQ(r.vars, (Names{"in_statement", "rendered_in_sql_comment"}));
  EXPECT_EQ(r.env_vars, (Names{"IN_EXPR"}));
  EXPECT_FALSE(r.dynamic_var);
  EXPECT_FALSE(r.dynamic_env_var);
  EXPECT_TRUE(refs("plain text var(x) {{ var(x) }}").dynamic_var)
      << "the same call inside {{ }} is still a computed name";
}
