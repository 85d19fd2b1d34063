// chunk.h — the bytecode: opcodes and their operands (clox's instruction set).
//
// Owns: OpCode. Operands follow the opcode in the function's code: a 1-byte
// constant or slot index, or a 2-byte big-endian jump offset. Invariant: the
// compiler never emits an index above 255 or a jump above 65535 (it reports
// the clox limit errors instead).
#pragma once

#include <cstdint>

namespace lox {

enum class OpCode : uint8_t {
  kConstant,      // [index] push constants[index]
  kNil,
  kTrue,
  kFalse,
  kPop,
  kGetLocal,      // [slot]
  kSetLocal,      // [slot]
  kGetGlobal,     // [name]
  kDefineGlobal,  // [name]
  kSetGlobal,     // [name]
  kGetUpvalue,    // [index]
  kSetUpvalue,    // [index]
  kGetProperty,   // [name]
  kSetProperty,   // [name]
  kGetSuper,      // [name]
  kEqual,
  kGreater,
  kLess,
  kAdd,
  kSubtract,
  kMultiply,
  kDivide,
  kNot,
  kNegate,
  kPrint,
  kJump,          // [offset16]
  kJumpIfFalse,   // [offset16]
  kLoop,          // [offset16] backwards
  kCall,          // [argc]
  kInvoke,        // [name][argc]
  kSuperInvoke,   // [name][argc]
  kClosure,       // [function] then (is_local, index) per upvalue
  kCloseUpvalue,
  kReturn,
  kClass,         // [name]
  kInherit,
  kMethod,        // [name]
};

}  // namespace lox
