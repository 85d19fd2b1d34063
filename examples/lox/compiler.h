// compiler.h — Lox source to bytecode in one pass (clox's Pratt compiler).
//
// Owns: parsing, scope resolution (locals, upvalues, globals) and code
// generation into ObjFunctions. Compile errors go to stderr in clox's format
// ("[line N] Error at 'lexeme': message"), with panic-mode recovery at
// statement boundaries. Invariant: every function being compiled is a VM
// root (VM::begin_compiling) until it is finished and stored in a constant.
#pragma once

#include <string_view>

#include "object.h"

namespace lox {

class VM;

// The top-level function of `source`, or null after compile errors.
ObjFunction* compile(VM& vm, std::string_view source);

}  // namespace lox
