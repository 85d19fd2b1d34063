// scanner.h — Lox source text to tokens, on demand (clox's scanner).
//
// Owns: Token and Scanner. Tokens point into the source, which must outlive
// them. Invariant: an error token's text is its message, and the compiler
// reports it as "[line N] Error: message".
#pragma once

#include <string_view>

namespace lox {

enum class TokenType {
  // Single-character tokens.
  kLeftParen, kRightParen, kLeftBrace, kRightBrace,
  kComma, kDot, kMinus, kPlus, kSemicolon, kSlash, kStar,
  // One or two character tokens.
  kBang, kBangEqual, kEqual, kEqualEqual,
  kGreater, kGreaterEqual, kLess, kLessEqual,
  // Literals.
  kIdentifier, kString, kNumber,
  // Keywords.
  kAnd, kClass, kElse, kFalse, kFor, kFun, kIf, kNil, kOr,
  kPrint, kReturn, kSuper, kThis, kTrue, kVar, kWhile,
  kError, kEof,
};

struct Token {
  TokenType type = TokenType::kEof;
  std::string_view text;
  int line = 1;
};

class Scanner {
 public:
  explicit Scanner(std::string_view source) : source_(source) {}
  Token next();

 private:
  bool at_end() const { return current_ >= source_.size(); }
  char advance() { return source_[current_++]; }
  char peek() const { return at_end() ? '\0' : source_[current_]; }
  char peek_next() const { return current_ + 1 >= source_.size() ? '\0' : source_[current_ + 1]; }
  bool match(char expected);
  void skip_whitespace();
  Token make(TokenType type) const;
  Token error(const char* message) const;
  Token string();
  Token number();
  Token identifier();
  TokenType identifier_type() const;

  std::string_view source_;
  size_t start_ = 0;
  size_t current_ = 0;
  int line_ = 1;
};

}  // namespace lox
