// vm.cpp — the interpreter loop and the object operations of vm.h.
#include "vm.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "chunk.h"
#include "compiler.h"

namespace lox {

ObjString::ObjString(std::string_view text) : Obj(ObjKind::kString), length(static_cast<uint32_t>(text.size())) {
  std::memcpy(const_cast<char*>(chars()), text.data(), text.size());
}

VM::VM(tricolor::Runtime& runtime, tricolor::Mutator& mutator)
    : runtime_(runtime), mutator_(mutator), stack_(std::make_unique<Value[]>(kStackMax)), top_(stack_.get()) {
  mutator_.set_root_scanner([this](tricolor::Visitor& v) { visit_roots(v); });
  globals_ = tricolor::make<Table>(mutator_);
  strings_ = tricolor::make<InternTable>(mutator_);
  map_methods_ = tricolor::make<Table>(mutator_);
  init_string_ = intern("init");
  define_natives(*globals_, global_natives());
  define_natives(*map_methods_, map_natives());
}

void VM::define_natives(Table& table, const std::vector<NativeSpec>& natives) {
  for (const NativeSpec& spec : natives) {
    // Both the name and the native stay on the stack while the other is made.
    push(Value::object(intern(spec.name)));
    push(Value::object(make<ObjNative>(spec.fn, spec.arity, spec.name)));
    table.insert_or_assign(mutator_, static_cast<ObjString*>(peek(1).as_object()), peek(0));
    pop();
    pop();
  }
}

VM::~VM() { mutator_.set_root_scanner(nullptr); }

void VM::visit_roots(tricolor::Visitor& v) {
  for (const Value* slot = stack_.get(); slot < top_; ++slot) v.visit_object(slot->pointer());
  for (int i = 0; i < frame_count_; ++i) v.visit_object(frames_[i].closure);
  for (ObjUpvalue* up = open_upvalues_; up != nullptr; up = up->next_open) v.visit_object(up);
  for (ObjFunction* f : compiling_) v.visit_object(f);
}

void VM::reset_stack() {
  top_ = stack_.get();
  frame_count_ = 0;
  open_upvalues_ = nullptr;
}

bool VM::runtime_error(const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
  for (int i = frame_count_ - 1; i >= 0; --i) {
    const CallFrame& frame = frames_[i];
    const ObjFunction* function = frame.closure->function.get();
    const size_t instruction = static_cast<size_t>(frame.ip - function->code.data() - 1);
    std::fprintf(stderr, "[line %d] in ", function->lines[instruction]);
    if (function->name.get() == nullptr) {
      std::fprintf(stderr, "script\n");
    } else {
      const std::string_view name = function->name->view();
      std::fprintf(stderr, "%.*s()\n", static_cast<int>(name.size()), name.data());
    }
  }
  reset_stack();
  return false;
}

// ------------------------------------------------------------------ objects

ObjString* VM::intern(std::string_view text) {
  if (ObjString* const* found = strings_->find(text)) return *found;
  // The intern table hashes the content itself (with its own seed).
  auto* string = tricolor::make<ObjString>(mutator_, tricolor::AdditionalBytes{text.size()}, text);
  strings_->insert_or_assign(mutator_, string, string);  // roots its arguments while it may collect
  return string;
}

ObjFunction* VM::new_function() { return make<ObjFunction>(); }

ValueArray* VM::new_value_array(uint32_t capacity) {
  return tricolor::make<ValueArray>(mutator_, tricolor::AdditionalBytes{capacity * sizeof(Value)}, capacity);
}

size_t VM::add_constant(ObjFunction* function, Value value) {
  ValueArray* constants = function->constants.get();
  const uint32_t count = constants ? constants->count.load(std::memory_order_relaxed) : 0;
  if (constants == nullptr || count == constants->capacity) {
    push(value);  // the value may exist only here: keep it while allocating
    ValueArray* grown = new_value_array(count < 8 ? 8 : count * 2);
    for (uint32_t i = 0; i < count; ++i) store_value(grown->slots()[i], constants->at(i));
    grown->count.store(count, std::memory_order_release);
    function->constants = grown;  // barriered: the old array is shaded, the new one kept
    constants = grown;
    pop();
  }
  store_value(constants->slots()[count], value);
  constants->count.store(count + 1, std::memory_order_release);
  return count;
}

void VM::concatenate() {
  const std::string_view b = static_cast<ObjString*>(peek(0).as_object())->view();
  const std::string_view a = static_cast<ObjString*>(peek(1).as_object())->view();
  std::string joined;
  joined.reserve(a.size() + b.size());
  joined.append(a).append(b);
  ObjString* result = intern(joined);  // both operands stay on the stack meanwhile
  pop();
  pop();
  push(Value::object(result));
}

ObjNative* VM::map_method(ObjString* name) const {
  const Value* found = map_methods_->find(name);
  return found ? static_cast<ObjNative*>(found->as_object()) : nullptr;
}

ObjUpvalue* VM::capture_upvalue(Value* local) {
  ObjUpvalue* previous = nullptr;
  ObjUpvalue* up = open_upvalues_;
  while (up != nullptr && up->location > local) {
    previous = up;
    up = up->next_open;
  }
  if (up != nullptr && up->location == local) return up;
  ObjUpvalue* created = make<ObjUpvalue>(local);
  created->next_open = up;
  if (previous == nullptr) open_upvalues_ = created;
  else previous->next_open = created;
  return created;
}

void VM::close_upvalues(const Value* last) {
  while (open_upvalues_ != nullptr && open_upvalues_->location >= last) {
    ObjUpvalue* up = open_upvalues_;
    store_value(up->closed, *up->location);
    up->location = &up->closed;
    open_upvalues_ = up->next_open;
  }
}

// ------------------------------------------------------------------ calls

bool VM::call(ObjClosure* closure, int argc) {
  const ObjFunction* function = closure->function.get();
  if (argc != function->arity) return runtime_error("Expected %d arguments but got %d.", function->arity, argc);
  if (frame_count_ == kFramesMax) return runtime_error("Stack overflow.");
  CallFrame& frame = frames_[frame_count_++];
  frame.closure = closure;
  frame.ip = function->code.data();
  frame.slots = top_ - argc - 1;
  return true;
}

bool VM::call_native(ObjNative* native, int argc) {
  if (native->arity >= 0 && argc != native->arity)
    return runtime_error("Expected %d arguments but got %d.", native->arity, argc);
  Value result = Value::nil();
  if (!native->fn(*this, argc, top_ - argc, &result)) return false;
  top_ -= argc + 1;
  push(result);
  return true;
}

bool VM::call_value(Value callee, int argc) {
  if (callee.is_object()) {
    switch (callee.as_object()->kind) {
      case ObjKind::kBoundMethod: {
        auto* bound = static_cast<ObjBoundMethod*>(callee.as_object());
        top_[-argc - 1] = load_value(bound->receiver);
        Obj* method = bound->method.get();
        if (method->kind == ObjKind::kNative) return call_native(static_cast<ObjNative*>(method), argc);
        return call(static_cast<ObjClosure*>(method), argc);
      }
      case ObjKind::kClass: {
        auto* klass = static_cast<ObjClass*>(callee.as_object());
        top_[-argc - 1] = Value::object(make<ObjInstance>(klass));
        const Value* initializer = klass->methods ? klass->methods->find(init_string()) : nullptr;
        if (initializer != nullptr) return call(static_cast<ObjClosure*>(initializer->as_object()), argc);
        if (argc != 0) return runtime_error("Expected 0 arguments but got %d.", argc);
        return true;
      }
      case ObjKind::kClosure:
        return call(static_cast<ObjClosure*>(callee.as_object()), argc);
      case ObjKind::kNative:
        return call_native(static_cast<ObjNative*>(callee.as_object()), argc);
      default:
        break;
    }
  }
  return runtime_error("Can only call functions and classes.");
}

bool VM::invoke_from_class(ObjClass* klass, ObjString* name, int argc) {
  const Value* method = klass->methods ? klass->methods->find(name) : nullptr;
  if (method == nullptr) return runtime_error("Undefined property '%s'.", std::string(name->view()).c_str());
  return call(static_cast<ObjClosure*>(method->as_object()), argc);
}

bool VM::invoke(ObjString* name, int argc) {
  const Value receiver = peek(argc);
  if (is_kind(receiver, ObjKind::kMap)) {
    ObjNative* method = map_method(name);
    if (method == nullptr) return runtime_error("Undefined property '%s'.", std::string(name->view()).c_str());
    return call_native(method, argc);
  }
  if (!is_kind(receiver, ObjKind::kInstance)) return runtime_error("Only instances have methods.");
  auto* instance = static_cast<ObjInstance*>(receiver.as_object());
  if (instance->fields) {
    if (const Value* field = instance->fields->find(name)) {
      top_[-argc - 1] = *field;
      return call_value(*field, argc);
    }
  }
  return invoke_from_class(instance->klass.get(), name, argc);
}

bool VM::bind_method(ObjClass* klass, ObjString* name) {
  const Value* method = klass->methods ? klass->methods->find(name) : nullptr;
  if (method == nullptr) return runtime_error("Undefined property '%s'.", std::string(name->view()).c_str());
  auto* bound = make<ObjBoundMethod>(peek(0), method->as_object());
  pop();
  push(Value::object(bound));
  return true;
}

bool VM::get_property(ObjString* name) {
  const Value receiver = peek(0);
  if (is_kind(receiver, ObjKind::kMap)) {
    ObjNative* method = map_method(name);
    if (method == nullptr) return runtime_error("Undefined property '%s'.", std::string(name->view()).c_str());
    auto* bound = make<ObjBoundMethod>(receiver, method);
    pop();
    push(Value::object(bound));
    return true;
  }
  if (!is_kind(receiver, ObjKind::kInstance)) return runtime_error("Only instances have properties.");
  auto* instance = static_cast<ObjInstance*>(receiver.as_object());
  if (instance->fields) {
    if (const Value* field = instance->fields->find(name)) {
      pop();
      push(*field);
      return true;
    }
  }
  return bind_method(instance->klass.get(), name);
}

bool VM::set_property(ObjString* name) {
  if (!is_kind(peek(1), ObjKind::kInstance)) return runtime_error("Only instances have fields.");
  auto* instance = static_cast<ObjInstance*>(peek(1).as_object());
  if (!instance->fields) instance->fields = make<Table>();  // the instance is on the stack
  instance->fields->insert_or_assign(mutator_, name, peek(0));
  const Value value = pop();
  pop();
  push(value);
  return true;
}

void VM::define_method(ObjString* name) {
  auto* klass = static_cast<ObjClass*>(peek(1).as_object());
  if (!klass->methods) klass->methods = make<Table>();
  klass->methods->insert_or_assign(mutator_, name, peek(0));
  pop();
}

// ------------------------------------------------------------------ the loop

InterpretResult VM::interpret(std::string_view source) {
  ObjFunction* function = compile(*this, source);
  if (function == nullptr) return InterpretResult::kCompileError;
  push(Value::object(function));
  ObjClosure* closure = make<ObjClosure>(function);
  pop();
  push(Value::object(closure));
  call(closure, 0);
  return run();
}

InterpretResult VM::run() {
  CallFrame* frame = &frames_[frame_count_ - 1];
  const ValueArray* constants = frame->closure->function->constants.get();
  auto read_byte = [&] { return *frame->ip++; };
  auto read_short = [&] {
    frame->ip += 2;
    return static_cast<uint16_t>((frame->ip[-2] << 8) | frame->ip[-1]);
  };
  auto read_constant = [&] { return constants->at(read_byte()); };
  auto read_string = [&] { return static_cast<ObjString*>(read_constant().as_object()); };
  // After a call or return: the frame (and its constants) changed.
  auto reload = [&] {
    frame = &frames_[frame_count_ - 1];
    constants = frame->closure->function->constants.get();
  };
  auto numbers_operands = [&]() -> bool {
    if (peek(0).is_number() && peek(1).is_number()) return true;
    runtime_error("Operands must be numbers.");
    return false;
  };

  for (;;) {
    const auto op = static_cast<OpCode>(read_byte());
    switch (op) {
      case OpCode::kConstant: push(read_constant()); break;
      case OpCode::kNil: push(Value::nil()); break;
      case OpCode::kTrue: push(Value::boolean(true)); break;
      case OpCode::kFalse: push(Value::boolean(false)); break;
      case OpCode::kPop: pop(); break;
      case OpCode::kGetLocal: push(frame->slots[read_byte()]); break;
      case OpCode::kSetLocal: frame->slots[read_byte()] = peek(0); break;
      case OpCode::kGetGlobal: {
        ObjString* name = read_string();
        const Value* value = globals_->find(name);
        if (value == nullptr) {
          runtime_error("Undefined variable '%s'.", std::string(name->view()).c_str());
          return InterpretResult::kRuntimeError;
        }
        push(*value);
        break;
      }
      case OpCode::kDefineGlobal: {
        ObjString* name = read_string();
        globals_->insert_or_assign(mutator_, name, peek(0));
        pop();
        break;
      }
      case OpCode::kSetGlobal: {
        ObjString* name = read_string();
        if (!globals_->contains(name)) {
          runtime_error("Undefined variable '%s'.", std::string(name->view()).c_str());
          return InterpretResult::kRuntimeError;
        }
        globals_->insert_or_assign(mutator_, name, peek(0));
        break;
      }
      case OpCode::kGetUpvalue: push(*frame->closure->upvalues()[read_byte()]->location); break;
      case OpCode::kSetUpvalue: {
        ObjUpvalue* up = frame->closure->upvalues()[read_byte()].get();
        if (up->location == &up->closed) store_value(up->closed, peek(0));
        else *up->location = peek(0);
        break;
      }
      case OpCode::kGetProperty:
        if (!get_property(read_string())) return InterpretResult::kRuntimeError;
        break;
      case OpCode::kSetProperty:
        if (!set_property(read_string())) return InterpretResult::kRuntimeError;
        break;
      case OpCode::kGetSuper: {
        ObjString* name = read_string();
        auto* superclass = static_cast<ObjClass*>(pop().as_object());
        if (!bind_method(superclass, name)) return InterpretResult::kRuntimeError;
        break;
      }
      case OpCode::kEqual: {
        const Value b = pop();
        const Value a = pop();
        push(Value::boolean(values_equal(a, b)));
        break;
      }
      case OpCode::kGreater:
      case OpCode::kLess: {
        if (!numbers_operands()) return InterpretResult::kRuntimeError;
        const double b = pop().as_number();
        const double a = pop().as_number();
        push(Value::boolean(op == OpCode::kGreater ? a > b : a < b));
        break;
      }
      case OpCode::kAdd: {
        if (is_kind(peek(0), ObjKind::kString) && is_kind(peek(1), ObjKind::kString)) {
          concatenate();
        } else if (peek(0).is_number() && peek(1).is_number()) {
          const double b = pop().as_number();
          const double a = pop().as_number();
          push(Value::number(a + b));
        } else {
          runtime_error("Operands must be two numbers or two strings.");
          return InterpretResult::kRuntimeError;
        }
        break;
      }
      case OpCode::kSubtract:
      case OpCode::kMultiply:
      case OpCode::kDivide: {
        if (!numbers_operands()) return InterpretResult::kRuntimeError;
        const double b = pop().as_number();
        const double a = pop().as_number();
        push(Value::number(op == OpCode::kSubtract ? a - b : op == OpCode::kMultiply ? a * b : a / b));
        break;
      }
      case OpCode::kNot: push(Value::boolean(pop().falsey())); break;
      case OpCode::kNegate:
        if (!peek(0).is_number()) {
          runtime_error("Operand must be a number.");
          return InterpretResult::kRuntimeError;
        }
        push(Value::number(-pop().as_number()));
        break;
      case OpCode::kPrint:
        print_value(stdout, pop());
        std::fputc('\n', stdout);
        break;
      case OpCode::kJump: {
        const uint16_t offset = read_short();
        frame->ip += offset;
        break;
      }
      case OpCode::kJumpIfFalse: {
        const uint16_t offset = read_short();
        if (peek(0).falsey()) frame->ip += offset;
        break;
      }
      case OpCode::kLoop: {
        const uint16_t offset = read_short();
        frame->ip -= offset;
        mutator_.safepoint();  // a back-edge
        break;
      }
      case OpCode::kCall: {
        const int argc = read_byte();
        if (!call_value(peek(argc), argc)) return InterpretResult::kRuntimeError;
        reload();
        mutator_.safepoint();  // a call
        break;
      }
      case OpCode::kInvoke: {
        ObjString* method = read_string();
        const int argc = read_byte();
        if (!invoke(method, argc)) return InterpretResult::kRuntimeError;
        reload();
        mutator_.safepoint();
        break;
      }
      case OpCode::kSuperInvoke: {
        ObjString* method = read_string();
        const int argc = read_byte();
        auto* superclass = static_cast<ObjClass*>(pop().as_object());
        if (!invoke_from_class(superclass, method, argc)) return InterpretResult::kRuntimeError;
        reload();
        mutator_.safepoint();
        break;
      }
      case OpCode::kClosure: {
        auto* function = static_cast<ObjFunction*>(read_constant().as_object());
        auto* closure = tricolor::make<ObjClosure>(
            mutator_, tricolor::AdditionalBytes{function->upvalue_count * sizeof(tricolor::Member<ObjUpvalue>)},
            function);
        push(Value::object(closure));
        for (int i = 0; i < closure->upvalue_count; ++i) {
          const uint8_t is_local = read_byte();
          const uint8_t index = read_byte();
          ObjUpvalue* up = is_local ? capture_upvalue(frame->slots + index) : frame->closure->upvalues()[index].get();
          new (&closure->upvalues()[i]) tricolor::Member<ObjUpvalue>(up);
        }
        break;
      }
      case OpCode::kCloseUpvalue:
        close_upvalues(top_ - 1);
        pop();
        break;
      case OpCode::kReturn: {
        const Value result = pop();
        close_upvalues(frame->slots);
        --frame_count_;
        if (frame_count_ == 0) {
          pop();
          return InterpretResult::kOk;
        }
        top_ = frame->slots;
        push(result);
        reload();
        break;
      }
      case OpCode::kClass:
        push(Value::object(make<ObjClass>(read_string())));
        break;
      case OpCode::kInherit: {
        const Value superclass = peek(1);
        if (!is_kind(superclass, ObjKind::kClass)) {
          runtime_error("Superclass must be a class.");
          return InterpretResult::kRuntimeError;
        }
        auto* subclass = static_cast<ObjClass*>(peek(0).as_object());
        const auto* parent = static_cast<ObjClass*>(superclass.as_object());
        if (parent->methods) {
          if (!subclass->methods) subclass->methods = make<Table>();
          for (auto [name, method] : parent->methods->entries(mutator_))
            subclass->methods->insert_or_assign(mutator_, name, method);
        }
        pop();  // the subclass
        break;
      }
      case OpCode::kMethod:
        define_method(read_string());
        break;
    }
  }
}

}  // namespace lox
