#include "plan/clock_reads.h"

#include <algorithm>
#include <unordered_set>

#include "plan/code_normalizer.h"
#include "plan/sql_scan.h"

namespace orc {
namespace {

using namespace sql;

/// The clause a query is in (at its own parenthesis level).
enum class Clause : uint8_t {
  Start, Cte, Select, From, JoinOn, Where, Having, Qualify, GroupBy, OrderBy, Limit, Window,
  Values, SetOp, Statement,
};

/// The place of a read in a clause; Start, Cte and SetOp are "outside any clause".
ClockPlace clause_place(Clause c) {
  switch (c) {
    case Clause::Select: return ClockPlace::SelectList;
    case Clause::From: return ClockPlace::From;
    case Clause::JoinOn: return ClockPlace::JoinOn;
    case Clause::Where: return ClockPlace::Where;
    case Clause::Having: return ClockPlace::Having;
    case Clause::Qualify: return ClockPlace::Qualify;
    case Clause::GroupBy: return ClockPlace::GroupBy;
    case Clause::OrderBy: return ClockPlace::OrderBy;
    case Clause::Limit: return ClockPlace::Limit;
    case Clause::Window: return ClockPlace::Window;
    case Clause::Values: return ClockPlace::Values;
    case Clause::Statement: return ClockPlace::Statement;
    case Clause::Start:
    case Clause::Cte:
    case Clause::SetOp: return ClockPlace::Outside;
  }
  return ClockPlace::Unparsed;
}

/// Words that are neither columns nor aliases: SQL keywords of expressions, type names and date
/// parts. An identifier not listed here counts as a column reference (the safe side).
bool is_expression_word(std::string_view w) {
  static const std::unordered_set<std::string_view> kWords = {
      "as", "at", "time", "zone", "with", "without", "interval", "cast", "try_cast",
      "safe_cast", "null", "true", "false", "and", "or", "not", "is", "in", "exists", "between",
      "like", "ilike", "similar", "case", "when", "then", "else", "end", "distinct", "all",
      "any", "some", "asc", "desc", "nulls", "first", "last", "rows", "range", "groups",
      "unbounded", "preceding", "following", "current", "row", "leading", "trailing", "both",
      "for", "from", "over", "partition", "order", "by", "filter", "within", "group", "escape",
      "collate", "local", "top", "lateral", "left", "right", "full", "inner", "outer", "cross",
      "natural", "recursive", "materialized",
      // types
      "timestamp", "timestamptz", "timestamp_ntz", "timestamp_ltz", "timestamp_tz", "datetime",
      "date", "timetz", "varchar", "char", "character", "varying", "text", "string", "int",
      "integer", "bigint", "smallint", "tinyint", "int64", "float", "float64", "double",
      "precision", "real", "numeric", "decimal", "number", "boolean", "bool", "uuid", "json",
      "jsonb",
      // date parts
      "year", "years", "month", "months", "day", "days", "hour", "hours", "minute", "minutes",
      "second", "seconds", "week", "weeks", "quarter", "epoch", "dow", "doy", "isodow",
      "isoyear", "millisecond", "milliseconds", "microsecond", "microseconds", "nanosecond",
      "dayofweek", "dayofyear"};
  return kWords.count(w) != 0;
}

/// Expression words after which an alias may follow (they end an operand).
bool ends_operand(std::string_view w) {
  return w == "end" || w == "null" || w == "true" || w == "false";
}

std::string lowered(std::string_view w) {
  std::string out(w);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  return out;
}

/// Where a read is: its place, or the query whose current column holds it.
struct Spot {
  ClockPlace place = ClockPlace::Unparsed;
  int column = -1;  ///< index of that query's frame (its read is emitted at the column's end)
};

/// One parenthesis level (index 0: the statement itself).
struct Frame {
  char close = 0;            ///< the bracket that closes it (0 for the statement)
  bool query = false;        ///< holds a query (statement, subquery, CTE body)
  bool fresh = true;         ///< nothing seen inside yet (decides whether it holds a query)
  std::optional<ClockPlace> forced;  ///< an expression with its own place (OVER (...), ...)
  std::optional<ClockPlace> outer;   ///< the place of its opening bracket (nullopt: statement)
  Spot held;                 ///< an expression's spot: that of its opening bracket
  Clause clause = Clause::Start;
  // The select-list column (or the expression outside any clause) being read.
  std::optional<std::string> column_read;  ///< the first read in it
  bool column_ref = false;                  ///< it references a column (or unseen Jinja)
  // The previous token at this level.
  bool prev_operand = false;  ///< it ended an operand (an alias may follow)
  bool prev_as = false;       ///< `as` or `::`: a type or an alias follows
  bool prev_dot = false;      ///< `.`: a qualified column follows
  std::string prev_word;      ///< the previous word, lower case ("" after other tokens)
  std::optional<ClockPlace> pending;  ///< the place of the next bracket (OVER, FILTER, ...)
};

/// One open Jinja block tag.
struct Block {
  std::string tag;           ///< if, for, macro, set, call, ...
  bool incremental = false;  ///< inside `{% if ... is_incremental() ... %}`
  bool captured = false;     ///< output captured by Jinja (set/call/filter): its place is unseen
};

/// The reads a Jinja text (a `{{ }}` block, a tag or a string literal) holds.
struct JinjaReads {
  std::optional<std::string> expression;  ///< the first read
  bool pure = false;  ///< the text is only the read (`{{ dbt.current_timestamp() }}`)
};

class Classifier {
 public:
  Classifier(std::string_view code, const std::vector<std::string>& calls)
      : s_(code), calls_(calls) {
    out_.calls_found.assign(calls.size(), false);
    frames_.push_back(Frame{});
    frames_.back().query = true;
    frames_.back().fresh = false;
  }

  ClockReads run() {
    size_t i = 0;
    while (i < s_.size()) i = step(i);
    end_column(frames_[0]);
    if (frames_.size() != 1 || !blocks_.empty()) broken_ = true;
    for (ClockRead& r : reads_) {
      if (broken_) r.place = ClockPlace::Unparsed;
      if (!out_.first) out_.first = r;
      if (!out_.first_volatile && is_volatile_place(r.place)) out_.first_volatile = r;
      if (!out_.first_follows_caller && !is_volatile_place(r.place))
        out_.first_follows_caller = r;
    }
    return std::move(out_);
  }

 private:
  Frame& top() { return frames_.back(); }

  /// Scans the token at `i`; returns the index past it.
  size_t step(size_t i) {
    const char c = s_[i];
    if (is_space(c)) return i + 1;
    if (starts(s_, i, "{#")) return jinja_comment_end(s_, i);
    if (starts(s_, i, "{%")) return tag(i);
    if (starts(s_, i, "{{")) return expression_block(i);
    if (starts(s_, i, "--") || starts(s_, i, "/*")) return comment(i);
    if (c == '\'') return literal(i, sql_quoted_end(s_, i), 1);
    if (c == '"' || c == '`') {
      const size_t end = sql_quoted_end(s_, i);
      if (end - i < 2 || s_[end - 1] != c) broken_ = true;
      identifier(std::string_view{}, end);  // a quoted identifier: a column or an alias
      return end;
    }
    if (c == '$') {
      if (size_t len = dollar_opener_len(s_, i))
        return literal(i, dollar_quoted_end(s_, i, len), len);
    }
    if (c >= '0' && c <= '9') {
      size_t j = i;
      while (j < s_.size() && (is_ident(s_[j]) || s_[j] == '.')) ++j;
      operand();
      return j;
    }
    if (is_ident(c)) {
      size_t j = i;
      while (j < s_.size() && is_ident(s_[j])) ++j;
      word(i, j);
      return j;
    }
    if (c == '(' || c == '[' || c == '{') {
      open(c == '(' ? ')' : c == '[' ? ']' : '}');
      return i + 1;
    }
    if (c == ')' || c == ']' || c == '}') {
      close(c);
      return i + 1;
    }
    if (c == ',') {
      Frame& f = top();
      if (f.query) end_column(f);
      punctuation();
      return i + 1;
    }
    if (c == ';') {
      if (frames_.size() != 1) broken_ = true;
      end_column(frames_[0]);
      frames_.resize(1);
      frames_[0].clause = Clause::Start;
      punctuation();
      return i + 1;
    }
    if (starts(s_, i, "::")) {
      punctuation();
      top().prev_as = true;
      return i + 2;
    }
    if (c == '.') {
      punctuation();
      top().prev_dot = true;
      return i + 1;
    }
    punctuation();  // an operator
    return i + 1;
  }

  /// The place a token at the current position has.
  Spot spot() const {
    if (incremental_ > 0) return {ClockPlace::Incremental};
    if (captured_ > 0) return {ClockPlace::JinjaStatement};
    return frame_spot(frames_.size() - 1);
  }

  /// The spot of a token in frame `k` (Jinja blocks aside); constant time.
  Spot frame_spot(size_t k) const {
    const Frame& f = frames_[k];
    if (!f.query) return f.forced ? Spot{*f.forced} : f.held;
    const ClockPlace own = clause_place(f.clause);
    if (own != ClockPlace::SelectList && own != ClockPlace::Outside) return {own};
    if (!f.outer || *f.outer == ClockPlace::Outside || *f.outer == ClockPlace::From)
      return {own, static_cast<int>(k)};  // the statement, a CTE body or a derived table
    if (*f.outer == ClockPlace::SelectList || *f.outer == ClockPlace::Computed)
      return {ClockPlace::SubqueryInSelect};
    return {*f.outer};
  }

  /// Records a read of `expression` here; `pure` when the token is the read alone.
  void read(const std::string& expression, bool pure) {
    const Spot where = spot();
    if (where.column < 0) {
      reads_.push_back(ClockRead{expression, where.place});
      return;
    }
    Frame& f = frames_[static_cast<size_t>(where.column)];
    if (!f.column_read) f.column_read = expression;
    if (!pure) f.column_ref = true;
  }

  /// A column reference (or something orc cannot see into) here.
  void reference() {
    const Spot where = spot();
    if (where.column >= 0) frames_[static_cast<size_t>(where.column)].column_ref = true;
  }

  /// Emits the read of the query's current column, if any, and starts the next column.
  void end_column(Frame& f) {
    if (f.column_read) {
      const ClockPlace own = clause_place(f.clause);
      reads_.push_back(ClockRead{*f.column_read, f.column_ref ? ClockPlace::Computed : own});
    }
    f.column_read.reset();
    f.column_ref = false;
  }

  void set_prev(bool operand_end, std::string word = {}) {
    Frame& f = top();
    f.fresh = false;
    f.prev_operand = operand_end;
    f.prev_as = f.prev_dot = false;
    f.prev_word = std::move(word);
  }
  void operand() { set_prev(true); }
  void punctuation() { set_prev(false); }

  void open(char close) {
    Frame& parent = top();
    Frame f;
    f.close = close;
    f.forced = parent.pending;
    f.held = frame_spot(frames_.size() - 1);
    f.outer = f.held.place;
    parent.pending.reset();
    parent.fresh = false;
    parent.prev_as = parent.prev_dot = false;
    parent.prev_word.clear();
    frames_.push_back(std::move(f));
  }

  void close(char c) {
    if (frames_.size() == 1 || top().close != c) {
      broken_ = true;
      return;
    }
    if (top().query) end_column(top());
    frames_.pop_back();
    operand();
  }

  /// A string literal [i, end) whose quotes are `quote` bytes long: a constant, or a read when
  /// it is 'now', 'today', 'tomorrow' or 'yesterday' (PostgreSQL's special values) or holds
  /// Jinja that reads ('{{ run_started_at }}').
  size_t literal(size_t i, size_t end, size_t quote) {
    if (end - i < 2 * quote || (quote == 1 && s_[end - 1] != '\'')) broken_ = true;
    const std::string_view text = s_.substr(i, end - i);
    std::optional<std::string> expression;
    if (end - i >= 2 * quote) {
      std::string_view content = text.substr(quote, text.size() - 2 * quote);
      while (!content.empty() && is_space(content.front())) content.remove_prefix(1);
      while (!content.empty() && is_space(content.back())) content.remove_suffix(1);
      const std::string value = lowered(content);
      if (value == "now" || value == "today" || value == "tomorrow" || value == "yesterday")
        expression = "'" + value + "'";
    }
    for (size_t j = 0; j < text.size() && !expression;) {
      if (!jinja_block_at(text, j)) {
        ++j;
        continue;
      }
      const size_t e = jinja_block_end(text, j);
      expression = jinja_reads(text.substr(j, e - j)).expression;
      j = e;
    }
    if (expression) read(*expression, true);  // a string is a constant but for the read
    operand();
    return end;
  }

  /// A comment left in the code because it holds Jinja: only its tags count (they open and
  /// close blocks); what it prints is commented out.
  size_t comment(size_t i) {
    const size_t end = s_[i] == '-' ? line_comment_end(s_, i) : block_comment_end(s_, i);
    for (size_t j = i + 2; j < end;) {
      if (starts(s_, j, "{%")) j = tag(j);
      else if (size_t e = jinja_skip(s_, j); e != npos) j = e;
      else ++j;
    }
    return end;
  }

  /// The reads in a Jinja block's text (`{{ ... }}` or `{% ... %}`): a clock word, or a call
  /// of one of `calls_` (marked found).
  JinjaReads jinja_reads(std::string_view text) {
    JinjaReads r;
    std::optional<size_t> at;  // where the first read starts in `text`
    if (auto w = find_clock_word(text)) {
      r.expression = w->expression;
      at = w->begin;
    }
    for (size_t j = 0; j < text.size();) {
      if (text[j] == '\'' || text[j] == '"') {
        j = std::min(jinja_string_end(text, j), text.size());
        continue;
      }
      if (!is_ident(text[j])) {
        ++j;
        continue;
      }
      const size_t b = j;
      while (j < text.size() && is_ident(text[j])) ++j;
      const std::string_view name = text.substr(b, j - b);
      const size_t open = skip_space(text, j);
      if (open >= text.size() || text[open] != '(') continue;
      std::string_view dispatched;  // adapter.dispatch('x', ...) calls <prefix>__x
      if (name == "dispatch") {
        const size_t q = skip_space(text, open + 1);
        if (q < text.size() && (text[q] == '\'' || text[q] == '"')) {
          const size_t e = jinja_string_end(text, q);
          if (e != npos) dispatched = text.substr(q + 1, e - q - 2);
        }
      }
      for (size_t k = 0; k < calls_.size(); ++k) {
        const std::string& call = calls_[k];
        const size_t sep = call.rfind("__");
        const bool hit = call == name || (!dispatched.empty() && sep != std::string::npos &&
                                          std::string_view(call).substr(sep + 2) == dispatched);
        if (!hit) continue;
        out_.calls_found[k] = true;
        if (!at || b < *at) {
          r.expression = call + "()";
          at = b;
        }
      }
    }
    if (!r.expression) return r;
    // Pure: the read heads the first dotted name of the block (after `return(`), so no other
    // function takes it as an argument.
    size_t j = skip_space(text, 2);
    if (j < text.size() && (text[j] == '-' || text[j] == '+')) j = skip_space(text, j + 1);
    if (text.substr(j, 6) == "return") {
      const size_t p = skip_space(text, j + 6);
      if (p < text.size() && text[p] == '(') j = skip_space(text, p + 1);
    }
    size_t e = j;
    while (e < text.size() && (is_ident(text[e]) || text[e] == '.')) ++e;
    r.pure = *at >= j && *at < e;
    return r;
  }

  /// A `{{ ... }}` block: a read when it holds one, else a value orc cannot see into.
  size_t expression_block(size_t i) {
    const size_t end = jinja_block_end(s_, i);
    if (end - i < 4 || s_[end - 1] != '}' || s_[end - 2] != '}') broken_ = true;
    const std::string_view text = s_.substr(i, end - i);
    const JinjaReads r = jinja_reads(text);
    const size_t name = skip_space(text, text.size() > 2 && text[2] == '-' ? 3 : 2);
    if (r.expression && text.substr(name, 6) == "config" &&
        skip_space(text, name + 6) < text.size() && text[skip_space(text, name + 6)] == '(') {
      reads_.push_back(ClockRead{*r.expression, ClockPlace::Config});
    } else if (r.expression) {
      read(*r.expression, r.pure);
    } else if (!top().prev_as) {
      reference();
    }
    operand();
    return end;
  }

  /// A `{% ... %}` tag: opens or closes a block; a read inside one is in a Jinja statement.
  size_t tag(size_t i) {
    const size_t end = jinja_block_end(s_, i);
    if (end - i < 4 || s_[end - 1] != '}' || s_[end - 2] != '%') broken_ = true;
    const std::string_view text = s_.substr(i, end - i);
    size_t j = 2;
    if (j < text.size() && (text[j] == '-' || text[j] == '+')) ++j;
    j = skip_space(text, j);
    size_t k = j;
    while (k < text.size() && is_ident(text[k])) ++k;
    const std::string name = lowered(text.substr(j, k - j));
    const bool defines = name == "macro" || name == "test" || name == "materialization" ||
                         name == "snapshot" || name == "docs";
    if (!defines && !name.starts_with("end")) {
      const JinjaReads r = jinja_reads(text);
      if (r.expression) reads_.push_back(ClockRead{*r.expression, ClockPlace::JinjaStatement});
    }
    const bool incremental = text.find("is_incremental") != std::string_view::npos;
    if (name == "if") {
      push(Block{name, incremental, false});
    } else if (name == "elif" || name == "else") {
      if (blocks_.empty() || (blocks_.back().tag != "if" && blocks_.back().tag != "for")) {
        broken_ = true;
      } else if (incremental && !blocks_.back().incremental) {
        blocks_.back().incremental = true;  // the rest of the chain, conservatively
        ++incremental_;
      }
    } else if (name == "for" || defines) {
      push(Block{name, false, false});
    } else if (name == "call" || name == "filter" ||
               (name == "set" && !has_assignment(text.substr(k)))) {
      push(Block{name, false, true});
    } else if (name.starts_with("end") && name != "endraw") {
      if (blocks_.empty() || "end" + blocks_.back().tag != name) {
        broken_ = true;
      } else {
        incremental_ -= blocks_.back().incremental;
        captured_ -= blocks_.back().captured;
        blocks_.pop_back();
      }
    }
    return end;
  }

  void push(Block b) {
    incremental_ += b.incremental;
    captured_ += b.captured;
    blocks_.push_back(std::move(b));
  }

  /// True when a `{% set ... %}` tag's rest assigns (`=` outside strings), not opens a block.
  static bool has_assignment(std::string_view rest) {
    for (size_t k = 0; k < rest.size();) {
      if (rest[k] == '\'' || rest[k] == '"') {
        k = std::min(jinja_string_end(rest, k), rest.size());
        continue;
      }
      if (rest[k] == '=') return true;
      ++k;
    }
    return false;
  }

  /// A quoted identifier (`raw` empty) or a word that is not a keyword of the query.
  void identifier(std::string_view w, size_t end) {
    Frame& f = top();
    const size_t next = skip_space(s_, end);
    const char n = next < s_.size() ? s_[next] : '\0';
    if (n == '(') {  // a function name
      punctuation();
      return;
    }
    if (n == '.' && !(next + 1 < s_.size() && s_[next + 1] == '.')) {  // a qualifier
      punctuation();
      return;
    }
    const bool qualified = f.prev_dot;
    const bool typed = f.prev_as;
    if (!qualified && !typed && !w.empty() && is_expression_word(w)) {
      set_prev(ends_operand(w), std::string(w));
      top().prev_as = w == "as";  // a type (in CAST) or an alias follows
      return;
    }
    const bool alias = typed || (!qualified && f.query && f.prev_operand);
    if (!alias) reference();
    set_prev(true);
  }

  /// A word at [i, end).
  void word(size_t i, size_t end) {
    const std::string w = lowered(s_.substr(i, end - i));
    // A clock word (`now()`, `current_date`): look no further than its call's bracket.
    const size_t next = skip_space(s_, end);
    const size_t limit = next < s_.size() ? next + 1 : s_.size();
    if (auto cw = find_clock_word(s_.substr(0, limit), i); cw && cw->begin == i) {
      read(cw->expression, true);
      operand();
      return;
    }
    Frame& f = top();
    const char n = next < s_.size() ? s_[next] : '\0';
    // Brackets with a place of their own.
    if (n == '(' && (w == "over" || w == "filter" || w == "top" ||
                     (w == "group" && f.prev_word == "within") ||
                     (w == "on" && f.prev_word == "distinct"))) {
      f.pending = w == "over"     ? ClockPlace::Window
                  : w == "filter" ? ClockPlace::Where
                  : w == "top"    ? ClockPlace::Limit
                  : w == "group"  ? ClockPlace::OrderBy
                                  : ClockPlace::DistinctOn;
      set_prev(false, w);
      return;
    }
    if (f.query && clause_word(f, w)) {
      set_prev(false, w);
      return;
    }
    if (f.fresh && !f.query && !f.forced && (w == "select" || w == "with" || w == "values")) {
      f.query = true;  // a subquery or a CTE body
      clause_word(f, w);
      set_prev(false, w);
      return;
    }
    identifier(w, end);
  }

  /// Applies `w` when it starts a clause of query `f`; false when it does not.
  bool clause_word(Frame& f, const std::string& w) {
    auto to = [&](Clause c) {
      end_column(f);
      f.clause = c;
      return true;
    };
    const std::string& prev = f.prev_word;
    if (w == "select") return to(Clause::Select);
    if (w == "with" && (f.clause == Clause::Start || f.clause == Clause::SetOp))
      return to(Clause::Cte);
    if (w == "from") return prev == "distinct" ? false : to(Clause::From);
    if (w == "join" || w == "apply" || w == "tablesample") return to(
        w == "tablesample" ? Clause::Limit : Clause::From);
    if ((w == "on" || w == "using") && f.clause == Clause::From) return to(Clause::JoinOn);
    if (w == "where") return to(Clause::Where);
    if (w == "having") return to(Clause::Having);
    if (w == "qualify") return to(Clause::Qualify);
    if (w == "by") {
      if (prev == "group" || prev == "partition") return to(Clause::GroupBy);
      if (prev == "order" || prev == "cluster" || prev == "distribute" || prev == "sort")
        return to(Clause::OrderBy);
      return false;
    }
    if (w == "limit" || w == "offset" || w == "fetch") return to(Clause::Limit);
    if (w == "window") return to(Clause::Window);
    if (w == "union" || w == "intersect" || w == "except" || w == "minus")
      return to(Clause::SetOp);
    if (w == "values") return to(Clause::Values);
    if (w == "insert" || w == "update" || w == "delete" || w == "merge" || w == "create" ||
        w == "alter" || w == "drop" || w == "truncate")
      return to(Clause::Statement);
    // Words that lead into a clause keyword (`group by`, `order by`): not columns.
    return w == "group" || w == "order" || w == "cluster" || w == "distribute" || w == "sort";
  }

  std::string_view s_;
  const std::vector<std::string>& calls_;
  std::vector<Frame> frames_;
  std::vector<Block> blocks_;
  int incremental_ = 0;  ///< open blocks with `incremental`
  int captured_ = 0;     ///< open blocks with `captured`
  std::vector<ClockRead> reads_;
  bool broken_ = false;
  ClockReads out_;
};

}  // namespace

bool is_volatile_place(ClockPlace place) {
  return place != ClockPlace::SelectList && place != ClockPlace::Outside;
}

ClockReads find_clock_reads(std::string_view code, const std::vector<std::string>& macro_calls) {
  return Classifier(code, macro_calls).run();
}

}  // namespace orc
