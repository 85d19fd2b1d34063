// scanner.cpp — the tokenizer of scanner.h.
#include "scanner.h"

#include <cctype>

namespace lox {
namespace {

bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool Scanner::match(char expected) {
  if (at_end() || source_[current_] != expected) return false;
  ++current_;
  return true;
}

Token Scanner::make(TokenType type) const { return Token{type, source_.substr(start_, current_ - start_), line_}; }

Token Scanner::error(const char* message) const { return Token{TokenType::kError, message, line_}; }

void Scanner::skip_whitespace() {
  for (;;) {
    switch (peek()) {
      case ' ':
      case '\r':
      case '\t':
        advance();
        break;
      case '\n':
        ++line_;
        advance();
        break;
      case '/':
        if (peek_next() != '/') return;
        while (peek() != '\n' && !at_end()) advance();
        break;
      default:
        return;
    }
  }
}

Token Scanner::string() {
  while (peek() != '"' && !at_end()) {
    if (peek() == '\n') ++line_;
    advance();
  }
  if (at_end()) return error("Unterminated string.");
  advance();  // the closing quote
  return make(TokenType::kString);
}

Token Scanner::number() {
  while (is_digit(peek())) advance();
  if (peek() == '.' && is_digit(peek_next())) {
    advance();
    while (is_digit(peek())) advance();
  }
  return make(TokenType::kNumber);
}

TokenType Scanner::identifier_type() const {
  static constexpr struct {
    std::string_view word;
    TokenType type;
  } kKeywords[] = {
      {"and", TokenType::kAnd},     {"class", TokenType::kClass},   {"else", TokenType::kElse},
      {"false", TokenType::kFalse}, {"for", TokenType::kFor},       {"fun", TokenType::kFun},
      {"if", TokenType::kIf},       {"nil", TokenType::kNil},       {"or", TokenType::kOr},
      {"print", TokenType::kPrint}, {"return", TokenType::kReturn}, {"super", TokenType::kSuper},
      {"this", TokenType::kThis},   {"true", TokenType::kTrue},     {"var", TokenType::kVar},
      {"while", TokenType::kWhile},
  };
  const std::string_view word = source_.substr(start_, current_ - start_);
  for (const auto& keyword : kKeywords)
    if (keyword.word == word) return keyword.type;
  return TokenType::kIdentifier;
}

Token Scanner::identifier() {
  while (is_alpha(peek()) || is_digit(peek())) advance();
  return make(identifier_type());
}

Token Scanner::next() {
  skip_whitespace();
  start_ = current_;
  if (at_end()) return make(TokenType::kEof);
  const char c = advance();
  if (is_alpha(c)) return identifier();
  if (is_digit(c)) return number();
  switch (c) {
    case '(': return make(TokenType::kLeftParen);
    case ')': return make(TokenType::kRightParen);
    case '{': return make(TokenType::kLeftBrace);
    case '}': return make(TokenType::kRightBrace);
    case ';': return make(TokenType::kSemicolon);
    case ',': return make(TokenType::kComma);
    case '.': return make(TokenType::kDot);
    case '-': return make(TokenType::kMinus);
    case '+': return make(TokenType::kPlus);
    case '/': return make(TokenType::kSlash);
    case '*': return make(TokenType::kStar);
    case '!': return make(match('=') ? TokenType::kBangEqual : TokenType::kBang);
    case '=': return make(match('=') ? TokenType::kEqualEqual : TokenType::kEqual);
    case '<': return make(match('=') ? TokenType::kLessEqual : TokenType::kLess);
    case '>': return make(match('=') ? TokenType::kGreaterEqual : TokenType::kGreater);
    case '"': return string();
    default: return error("Unexpected character.");
  }
}

}  // namespace lox
