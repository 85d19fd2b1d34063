// compiler.cpp — the single-pass compiler of compiler.h.
#include "compiler.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "chunk.h"
#include "scanner.h"
#include "vm.h"

namespace lox {
namespace {

constexpr int kMaxLocals = 256;
constexpr int kMaxUpvalues = 256;

enum class Precedence {
  kNone,
  kAssignment,  // =
  kOr,          // or
  kAnd,         // and
  kEquality,    // == !=
  kComparison,  // < > <= >=
  kTerm,        // + -
  kFactor,      // * /
  kUnary,       // ! -
  kCall,        // . ()
  kPrimary,
};

Precedence next_higher(Precedence p) { return static_cast<Precedence>(static_cast<int>(p) + 1); }

enum class FunctionType { kFunction, kInitializer, kMethod, kScript };

struct LocalVar {
  Token name;
  int depth;  // -1: declared, not yet initialized
  bool captured;
};

struct UpvalueRef {
  uint8_t index;
  bool is_local;
};

// One function being compiled (clox's Compiler).
struct FunctionState {
  FunctionState* enclosing = nullptr;
  ObjFunction* function = nullptr;
  FunctionType type = FunctionType::kScript;
  LocalVar locals[kMaxLocals];
  int local_count = 0;
  UpvalueRef upvalues[kMaxUpvalues];
  int scope_depth = 0;
};

struct ClassState {
  ClassState* enclosing = nullptr;
  bool has_superclass = false;
};

class Compiler;
using ParseFn = void (Compiler::*)(bool can_assign);

struct ParseRule {
  ParseFn prefix;
  ParseFn infix;
  Precedence precedence;
};

class Compiler {
 public:
  Compiler(VM& vm, std::string_view source) : vm_(vm), scanner_(source) {}

  ObjFunction* compile_script() {
    FunctionState script;
    begin_function(script, FunctionType::kScript);
    advance();
    while (!match(TokenType::kEof)) declaration();
    ObjFunction* function = end_function();
    return had_error_ ? nullptr : function;
  }

  // The parse functions (members so that the rule table can name them).
  void grouping(bool);
  void number(bool);
  void string(bool);
  void variable(bool can_assign);
  void unary(bool);
  void binary(bool);
  void call(bool);
  void dot(bool can_assign);
  void literal(bool);
  void and_(bool);
  void or_(bool);
  void this_(bool);
  void super_(bool);

 private:
  // ------------------------------------------------------------ tokens
  void advance() {
    previous_ = current_;
    for (;;) {
      current_ = scanner_.next();
      if (current_.type != TokenType::kError) break;
      error_at_current(std::string(current_.text).c_str());
    }
  }
  void consume(TokenType type, const char* message) {
    if (current_.type == type) {
      advance();
      return;
    }
    error_at_current(message);
  }
  bool check(TokenType type) const { return current_.type == type; }
  bool match(TokenType type) {
    if (!check(type)) return false;
    advance();
    return true;
  }

  // ------------------------------------------------------------ errors
  void error_at(const Token& token, const char* message) {
    if (panic_mode_) return;
    panic_mode_ = true;
    std::fprintf(stderr, "[line %d] Error", token.line);
    if (token.type == TokenType::kEof) {
      std::fprintf(stderr, " at end");
    } else if (token.type != TokenType::kError) {
      std::fprintf(stderr, " at '%.*s'", static_cast<int>(token.text.size()), token.text.data());
    }
    std::fprintf(stderr, ": %s\n", message);
    had_error_ = true;
  }
  void error(const char* message) { error_at(previous_, message); }
  void error_at_current(const char* message) { error_at(current_, message); }

  void synchronize() {
    panic_mode_ = false;
    while (current_.type != TokenType::kEof) {
      if (previous_.type == TokenType::kSemicolon) return;
      switch (current_.type) {
        case TokenType::kClass:
        case TokenType::kFun:
        case TokenType::kVar:
        case TokenType::kFor:
        case TokenType::kIf:
        case TokenType::kWhile:
        case TokenType::kPrint:
        case TokenType::kReturn:
          return;
        default:
          break;
      }
      advance();
    }
  }

  // ------------------------------------------------------------ emitting
  ObjFunction* function() const { return fs_->function; }
  void emit_byte(uint8_t byte) {
    function()->code.push_back(byte);
    function()->lines.push_back(previous_.line);
  }
  void emit_op(OpCode op) { emit_byte(static_cast<uint8_t>(op)); }
  void emit_op(OpCode op, uint8_t operand) {
    emit_op(op);
    emit_byte(operand);
  }
  void emit_loop(size_t loop_start) {
    emit_op(OpCode::kLoop);
    const size_t offset = function()->code.size() - loop_start + 2;
    if (offset > UINT16_MAX) error("Loop body too large.");
    emit_byte(static_cast<uint8_t>((offset >> 8) & 0xff));
    emit_byte(static_cast<uint8_t>(offset & 0xff));
  }
  size_t emit_jump(OpCode op) {
    emit_op(op);
    emit_byte(0xff);
    emit_byte(0xff);
    return function()->code.size() - 2;
  }
  void patch_jump(size_t at) {
    const size_t jump = function()->code.size() - at - 2;
    if (jump > UINT16_MAX) error("Too much code to jump over.");
    function()->code[at] = static_cast<uint8_t>((jump >> 8) & 0xff);
    function()->code[at + 1] = static_cast<uint8_t>(jump & 0xff);
  }
  void emit_return() {
    if (fs_->type == FunctionType::kInitializer) emit_op(OpCode::kGetLocal, 0);
    else emit_op(OpCode::kNil);
    emit_op(OpCode::kReturn);
  }
  uint8_t make_constant(Value value) {
    const size_t index = vm_.add_constant(function(), value);
    if (index > UINT8_MAX) {
      error("Too many constants in one chunk.");
      return 0;
    }
    return static_cast<uint8_t>(index);
  }
  void emit_constant(Value value) { emit_op(OpCode::kConstant, make_constant(value)); }
  uint8_t identifier_constant(const Token& name) { return make_constant(Value::object(vm_.intern(name.text))); }

  // ------------------------------------------------------------ functions
  void begin_function(FunctionState& state, FunctionType type) {
    state.enclosing = fs_;
    state.type = type;
    state.function = vm_.new_function();
    vm_.begin_compiling(state.function);
    fs_ = &state;
    if (type != FunctionType::kScript) state.function->name = vm_.intern(previous_.text);
    // Slot 0: the callee, or `this` in methods and initializers.
    LocalVar& slot0 = state.locals[state.local_count++];
    slot0.depth = 0;
    slot0.captured = false;
    slot0.name.text = type == FunctionType::kFunction || type == FunctionType::kScript ? "" : "this";
  }
  ObjFunction* end_function() {
    emit_return();
    ObjFunction* done = fs_->function;
    fs_ = fs_->enclosing;
    vm_.end_compiling();  // the caller stores it in a constant at once (its own function is a root)
    return done;
  }

  // ------------------------------------------------------------ scopes
  void begin_scope() { ++fs_->scope_depth; }
  void end_scope() {
    --fs_->scope_depth;
    while (fs_->local_count > 0 && fs_->locals[fs_->local_count - 1].depth > fs_->scope_depth) {
      emit_op(fs_->locals[fs_->local_count - 1].captured ? OpCode::kCloseUpvalue : OpCode::kPop);
      --fs_->local_count;
    }
  }
  static bool same_name(const Token& a, const Token& b) { return a.text == b.text; }

  int resolve_local(FunctionState& state, const Token& name) {
    for (int i = state.local_count - 1; i >= 0; --i) {
      const LocalVar& local = state.locals[i];
      if (same_name(name, local.name)) {
        if (local.depth == -1) error("Can't read local variable in its own initializer.");
        return i;
      }
    }
    return -1;
  }
  int add_upvalue(FunctionState& state, uint8_t index, bool is_local) {
    const int count = state.function->upvalue_count;
    for (int i = 0; i < count; ++i) {
      const UpvalueRef& up = state.upvalues[i];
      if (up.index == index && up.is_local == is_local) return i;
    }
    if (count == kMaxUpvalues) {
      error("Too many closure variables in function.");
      return 0;
    }
    state.upvalues[count] = UpvalueRef{index, is_local};
    return state.function->upvalue_count++;
  }
  int resolve_upvalue(FunctionState& state, const Token& name) {
    if (state.enclosing == nullptr) return -1;
    const int local = resolve_local(*state.enclosing, name);
    if (local != -1) {
      state.enclosing->locals[local].captured = true;
      return add_upvalue(state, static_cast<uint8_t>(local), true);
    }
    const int upvalue = resolve_upvalue(*state.enclosing, name);
    if (upvalue != -1) return add_upvalue(state, static_cast<uint8_t>(upvalue), false);
    return -1;
  }
  void add_local(const Token& name) {
    if (fs_->local_count == kMaxLocals) {
      error("Too many local variables in function.");
      return;
    }
    LocalVar& local = fs_->locals[fs_->local_count++];
    local.name = name;
    local.depth = -1;
    local.captured = false;
  }
  void declare_variable() {
    if (fs_->scope_depth == 0) return;
    const Token& name = previous_;
    for (int i = fs_->local_count - 1; i >= 0; --i) {
      const LocalVar& local = fs_->locals[i];
      if (local.depth != -1 && local.depth < fs_->scope_depth) break;
      if (same_name(name, local.name)) error("Already a variable with this name in this scope.");
    }
    add_local(name);
  }
  uint8_t parse_variable(const char* message) {
    consume(TokenType::kIdentifier, message);
    declare_variable();
    if (fs_->scope_depth > 0) return 0;
    return identifier_constant(previous_);
  }
  void mark_initialized() {
    if (fs_->scope_depth == 0) return;
    fs_->locals[fs_->local_count - 1].depth = fs_->scope_depth;
  }
  void define_variable(uint8_t global) {
    if (fs_->scope_depth > 0) {
      mark_initialized();
      return;
    }
    emit_op(OpCode::kDefineGlobal, global);
  }
  uint8_t argument_list() {
    int argc = 0;
    if (!check(TokenType::kRightParen)) {
      do {
        expression();
        if (argc == 255) error("Can't have more than 255 arguments.");
        ++argc;
      } while (match(TokenType::kComma));
    }
    consume(TokenType::kRightParen, "Expect ')' after arguments.");
    return static_cast<uint8_t>(argc);
  }

  void named_variable(const Token& name, bool can_assign) {
    OpCode get_op;
    OpCode set_op;
    int arg = resolve_local(*fs_, name);
    if (arg != -1) {
      get_op = OpCode::kGetLocal;
      set_op = OpCode::kSetLocal;
    } else if ((arg = resolve_upvalue(*fs_, name)) != -1) {
      get_op = OpCode::kGetUpvalue;
      set_op = OpCode::kSetUpvalue;
    } else {
      arg = identifier_constant(name);
      get_op = OpCode::kGetGlobal;
      set_op = OpCode::kSetGlobal;
    }
    if (can_assign && match(TokenType::kEqual)) {
      expression();
      emit_op(set_op, static_cast<uint8_t>(arg));
    } else {
      emit_op(get_op, static_cast<uint8_t>(arg));
    }
  }
  static Token synthetic(const char* text) { return Token{TokenType::kIdentifier, text, 0}; }

  // ------------------------------------------------------------ expressions
  static const ParseRule& rule(TokenType type);
  void parse_precedence(Precedence precedence) {
    advance();
    const ParseFn prefix = rule(previous_.type).prefix;
    if (prefix == nullptr) {
      error("Expect expression.");
      return;
    }
    const bool can_assign = precedence <= Precedence::kAssignment;
    (this->*prefix)(can_assign);
    while (precedence <= rule(current_.type).precedence) {
      advance();
      (this->*rule(previous_.type).infix)(can_assign);
    }
    if (can_assign && match(TokenType::kEqual)) error("Invalid assignment target.");
  }
  void expression() { parse_precedence(Precedence::kAssignment); }

  // ------------------------------------------------------------ statements
  void declaration() {
    if (match(TokenType::kClass)) class_declaration();
    else if (match(TokenType::kFun)) fun_declaration();
    else if (match(TokenType::kVar)) var_declaration();
    else statement();
    if (panic_mode_) synchronize();
  }
  void statement() {
    if (match(TokenType::kPrint)) {
      print_statement();
    } else if (match(TokenType::kFor)) {
      for_statement();
    } else if (match(TokenType::kIf)) {
      if_statement();
    } else if (match(TokenType::kReturn)) {
      return_statement();
    } else if (match(TokenType::kWhile)) {
      while_statement();
    } else if (match(TokenType::kLeftBrace)) {
      begin_scope();
      block();
      end_scope();
    } else {
      expression_statement();
    }
  }
  void block() {
    while (!check(TokenType::kRightBrace) && !check(TokenType::kEof)) declaration();
    consume(TokenType::kRightBrace, "Expect '}' after block.");
  }
  void function_body(FunctionType type) {
    FunctionState state;
    begin_function(state, type);
    begin_scope();
    consume(TokenType::kLeftParen, "Expect '(' after function name.");
    if (!check(TokenType::kRightParen)) {
      do {
        ++fs_->function->arity;
        if (fs_->function->arity > 255) error_at_current("Can't have more than 255 parameters.");
        const uint8_t constant = parse_variable("Expect parameter name.");
        define_variable(constant);
      } while (match(TokenType::kComma));
    }
    consume(TokenType::kRightParen, "Expect ')' after parameters.");
    consume(TokenType::kLeftBrace, "Expect '{' before function body.");
    block();
    // The finished function stays a root through the enclosing function's
    // constants: make_constant below may allocate, so keep it on the stack.
    ObjFunction* done = end_function();
    vm_.push(Value::object(done));
    const uint8_t constant = make_constant(Value::object(done));
    vm_.pop();
    emit_op(OpCode::kClosure, constant);
    for (int i = 0; i < done->upvalue_count; ++i) {
      emit_byte(state.upvalues[i].is_local ? 1 : 0);
      emit_byte(state.upvalues[i].index);
    }
  }
  void method() {
    consume(TokenType::kIdentifier, "Expect method name.");
    const uint8_t constant = identifier_constant(previous_);
    const FunctionType type = previous_.text == "init" ? FunctionType::kInitializer : FunctionType::kMethod;
    function_body(type);
    emit_op(OpCode::kMethod, constant);
  }
  void class_declaration() {
    consume(TokenType::kIdentifier, "Expect class name.");
    const Token class_name = previous_;
    const uint8_t name_constant = identifier_constant(previous_);
    declare_variable();
    emit_op(OpCode::kClass, name_constant);
    define_variable(name_constant);

    ClassState class_state;
    class_state.enclosing = cs_;
    cs_ = &class_state;
    if (match(TokenType::kLess)) {
      consume(TokenType::kIdentifier, "Expect superclass name.");
      variable(false);
      if (same_name(class_name, previous_)) error("A class can't inherit from itself.");
      begin_scope();
      add_local(synthetic("super"));
      define_variable(0);
      named_variable(class_name, false);
      emit_op(OpCode::kInherit);
      class_state.has_superclass = true;
    }
    named_variable(class_name, false);
    consume(TokenType::kLeftBrace, "Expect '{' before class body.");
    while (!check(TokenType::kRightBrace) && !check(TokenType::kEof)) method();
    consume(TokenType::kRightBrace, "Expect '}' after class body.");
    emit_op(OpCode::kPop);
    if (class_state.has_superclass) end_scope();
    cs_ = cs_->enclosing;
  }
  void fun_declaration() {
    const uint8_t global = parse_variable("Expect function name.");
    mark_initialized();
    function_body(FunctionType::kFunction);
    define_variable(global);
  }
  void var_declaration() {
    const uint8_t global = parse_variable("Expect variable name.");
    if (match(TokenType::kEqual)) expression();
    else emit_op(OpCode::kNil);
    consume(TokenType::kSemicolon, "Expect ';' after variable declaration.");
    define_variable(global);
  }
  void expression_statement() {
    expression();
    consume(TokenType::kSemicolon, "Expect ';' after expression.");
    emit_op(OpCode::kPop);
  }
  void for_statement() {
    begin_scope();
    consume(TokenType::kLeftParen, "Expect '(' after 'for'.");
    if (match(TokenType::kSemicolon)) {
      // No initializer.
    } else if (match(TokenType::kVar)) {
      var_declaration();
    } else {
      expression_statement();
    }
    size_t loop_start = function()->code.size();
    std::ptrdiff_t exit_jump = -1;
    if (!match(TokenType::kSemicolon)) {
      expression();
      consume(TokenType::kSemicolon, "Expect ';' after loop condition.");
      exit_jump = static_cast<std::ptrdiff_t>(emit_jump(OpCode::kJumpIfFalse));
      emit_op(OpCode::kPop);
    }
    if (!match(TokenType::kRightParen)) {
      const size_t body_jump = emit_jump(OpCode::kJump);
      const size_t increment_start = function()->code.size();
      expression();
      emit_op(OpCode::kPop);
      consume(TokenType::kRightParen, "Expect ')' after for clauses.");
      emit_loop(loop_start);
      loop_start = increment_start;
      patch_jump(body_jump);
    }
    statement();
    emit_loop(loop_start);
    if (exit_jump != -1) {
      patch_jump(static_cast<size_t>(exit_jump));
      emit_op(OpCode::kPop);
    }
    end_scope();
  }
  void if_statement() {
    consume(TokenType::kLeftParen, "Expect '(' after 'if'.");
    expression();
    consume(TokenType::kRightParen, "Expect ')' after condition.");
    const size_t then_jump = emit_jump(OpCode::kJumpIfFalse);
    emit_op(OpCode::kPop);
    statement();
    const size_t else_jump = emit_jump(OpCode::kJump);
    patch_jump(then_jump);
    emit_op(OpCode::kPop);
    if (match(TokenType::kElse)) statement();
    patch_jump(else_jump);
  }
  void print_statement() {
    expression();
    consume(TokenType::kSemicolon, "Expect ';' after value.");
    emit_op(OpCode::kPrint);
  }
  void return_statement() {
    if (fs_->type == FunctionType::kScript) error("Can't return from top-level code.");
    if (match(TokenType::kSemicolon)) {
      emit_return();
      return;
    }
    if (fs_->type == FunctionType::kInitializer) error("Can't return a value from an initializer.");
    expression();
    consume(TokenType::kSemicolon, "Expect ';' after return value.");
    emit_op(OpCode::kReturn);
  }
  void while_statement() {
    const size_t loop_start = function()->code.size();
    consume(TokenType::kLeftParen, "Expect '(' after 'while'.");
    expression();
    consume(TokenType::kRightParen, "Expect ')' after condition.");
    const size_t exit_jump = emit_jump(OpCode::kJumpIfFalse);
    emit_op(OpCode::kPop);
    statement();
    emit_loop(loop_start);
    patch_jump(exit_jump);
    emit_op(OpCode::kPop);
  }

  VM& vm_;
  Scanner scanner_;
  Token current_;
  Token previous_;
  bool had_error_ = false;
  bool panic_mode_ = false;
  FunctionState* fs_ = nullptr;
  ClassState* cs_ = nullptr;
};

void Compiler::grouping(bool) {
  expression();
  consume(TokenType::kRightParen, "Expect ')' after expression.");
}

void Compiler::number(bool) { emit_constant(Value::number(std::strtod(std::string(previous_.text).c_str(), nullptr))); }

void Compiler::string(bool) {
  const std::string_view text = previous_.text.substr(1, previous_.text.size() - 2);
  emit_constant(Value::object(vm_.intern(text)));
}

void Compiler::variable(bool can_assign) { named_variable(previous_, can_assign); }

void Compiler::unary(bool) {
  const TokenType op = previous_.type;
  parse_precedence(Precedence::kUnary);
  if (op == TokenType::kBang) emit_op(OpCode::kNot);
  else emit_op(OpCode::kNegate);
}

void Compiler::binary(bool) {
  const TokenType op = previous_.type;
  parse_precedence(next_higher(rule(op).precedence));
  switch (op) {
    case TokenType::kBangEqual: emit_op(OpCode::kEqual); emit_op(OpCode::kNot); break;
    case TokenType::kEqualEqual: emit_op(OpCode::kEqual); break;
    case TokenType::kGreater: emit_op(OpCode::kGreater); break;
    case TokenType::kGreaterEqual: emit_op(OpCode::kLess); emit_op(OpCode::kNot); break;
    case TokenType::kLess: emit_op(OpCode::kLess); break;
    case TokenType::kLessEqual: emit_op(OpCode::kGreater); emit_op(OpCode::kNot); break;
    case TokenType::kPlus: emit_op(OpCode::kAdd); break;
    case TokenType::kMinus: emit_op(OpCode::kSubtract); break;
    case TokenType::kStar: emit_op(OpCode::kMultiply); break;
    case TokenType::kSlash: emit_op(OpCode::kDivide); break;
    default: break;
  }
}

void Compiler::call(bool) { emit_op(OpCode::kCall, argument_list()); }

void Compiler::dot(bool can_assign) {
  consume(TokenType::kIdentifier, "Expect property name after '.'.");
  const uint8_t name = identifier_constant(previous_);
  if (can_assign && match(TokenType::kEqual)) {
    expression();
    emit_op(OpCode::kSetProperty, name);
  } else if (match(TokenType::kLeftParen)) {
    const uint8_t argc = argument_list();
    emit_op(OpCode::kInvoke, name);
    emit_byte(argc);
  } else {
    emit_op(OpCode::kGetProperty, name);
  }
}

void Compiler::literal(bool) {
  switch (previous_.type) {
    case TokenType::kFalse: emit_op(OpCode::kFalse); break;
    case TokenType::kNil: emit_op(OpCode::kNil); break;
    case TokenType::kTrue: emit_op(OpCode::kTrue); break;
    default: break;
  }
}

void Compiler::and_(bool) {
  const size_t end_jump = emit_jump(OpCode::kJumpIfFalse);
  emit_op(OpCode::kPop);
  parse_precedence(Precedence::kAnd);
  patch_jump(end_jump);
}

void Compiler::or_(bool) {
  const size_t else_jump = emit_jump(OpCode::kJumpIfFalse);
  const size_t end_jump = emit_jump(OpCode::kJump);
  patch_jump(else_jump);
  emit_op(OpCode::kPop);
  parse_precedence(Precedence::kOr);
  patch_jump(end_jump);
}

void Compiler::this_(bool) {
  if (cs_ == nullptr) {
    error("Can't use 'this' outside of a class.");
    return;
  }
  variable(false);
}

void Compiler::super_(bool) {
  if (cs_ == nullptr) error("Can't use 'super' outside of a class.");
  else if (!cs_->has_superclass) error("Can't use 'super' in a class with no superclass.");
  consume(TokenType::kDot, "Expect '.' after 'super'.");
  consume(TokenType::kIdentifier, "Expect superclass method name.");
  const uint8_t name = identifier_constant(previous_);
  named_variable(synthetic("this"), false);
  if (match(TokenType::kLeftParen)) {
    const uint8_t argc = argument_list();
    named_variable(synthetic("super"), false);
    emit_op(OpCode::kSuperInvoke, name);
    emit_byte(argc);
  } else {
    named_variable(synthetic("super"), false);
    emit_op(OpCode::kGetSuper, name);
  }
}

const ParseRule& Compiler::rule(TokenType type) {
  using C = Compiler;
  using P = Precedence;
  static const ParseRule kRules[] = {
      /* kLeftParen    */ {&C::grouping, &C::call, P::kCall},
      /* kRightParen   */ {nullptr, nullptr, P::kNone},
      /* kLeftBrace    */ {nullptr, nullptr, P::kNone},
      /* kRightBrace   */ {nullptr, nullptr, P::kNone},
      /* kComma        */ {nullptr, nullptr, P::kNone},
      /* kDot          */ {nullptr, &C::dot, P::kCall},
      /* kMinus        */ {&C::unary, &C::binary, P::kTerm},
      /* kPlus         */ {nullptr, &C::binary, P::kTerm},
      /* kSemicolon    */ {nullptr, nullptr, P::kNone},
      /* kSlash        */ {nullptr, &C::binary, P::kFactor},
      /* kStar         */ {nullptr, &C::binary, P::kFactor},
      /* kBang         */ {&C::unary, nullptr, P::kNone},
      /* kBangEqual    */ {nullptr, &C::binary, P::kEquality},
      /* kEqual        */ {nullptr, nullptr, P::kNone},
      /* kEqualEqual   */ {nullptr, &C::binary, P::kEquality},
      /* kGreater      */ {nullptr, &C::binary, P::kComparison},
      /* kGreaterEqual */ {nullptr, &C::binary, P::kComparison},
      /* kLess         */ {nullptr, &C::binary, P::kComparison},
      /* kLessEqual    */ {nullptr, &C::binary, P::kComparison},
      /* kIdentifier   */ {&C::variable, nullptr, P::kNone},
      /* kString       */ {&C::string, nullptr, P::kNone},
      /* kNumber       */ {&C::number, nullptr, P::kNone},
      /* kAnd          */ {nullptr, &C::and_, P::kAnd},
      /* kClass        */ {nullptr, nullptr, P::kNone},
      /* kElse         */ {nullptr, nullptr, P::kNone},
      /* kFalse        */ {&C::literal, nullptr, P::kNone},
      /* kFor          */ {nullptr, nullptr, P::kNone},
      /* kFun          */ {nullptr, nullptr, P::kNone},
      /* kIf           */ {nullptr, nullptr, P::kNone},
      /* kNil          */ {&C::literal, nullptr, P::kNone},
      /* kOr           */ {nullptr, &C::or_, P::kOr},
      /* kPrint        */ {nullptr, nullptr, P::kNone},
      /* kReturn       */ {nullptr, nullptr, P::kNone},
      /* kSuper        */ {&C::super_, nullptr, P::kNone},
      /* kThis         */ {&C::this_, nullptr, P::kNone},
      /* kTrue         */ {&C::literal, nullptr, P::kNone},
      /* kVar          */ {nullptr, nullptr, P::kNone},
      /* kWhile        */ {nullptr, nullptr, P::kNone},
      /* kError        */ {nullptr, nullptr, P::kNone},
      /* kEof          */ {nullptr, nullptr, P::kNone},
  };
  static_assert(std::size(kRules) == static_cast<size_t>(TokenType::kEof) + 1);
  return kRules[static_cast<size_t>(type)];
}

}  // namespace

ObjFunction* compile(VM& vm, std::string_view source) {
  Compiler compiler(vm, source);
  return compiler.compile_script();
}

}  // namespace lox
