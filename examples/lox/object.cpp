// object.cpp — printing Lox values as clox prints them.
#include "object.h"

namespace lox {

std::string_view kind_name(ObjKind kind) {
  switch (kind) {
    case ObjKind::kString: return "string";
    case ObjKind::kFunction: return "function";
    case ObjKind::kNative: return "native function";
    case ObjKind::kClosure: return "closure";
    case ObjKind::kUpvalue: return "upvalue";
    case ObjKind::kClass: return "class";
    case ObjKind::kInstance: return "instance";
    case ObjKind::kBoundMethod: return "bound method";
    case ObjKind::kMap: return "map";
  }
  return "object";
}

namespace {

void print_function(std::FILE* out, const ObjFunction* function) {
  if (function->name.get() == nullptr) {
    std::fputs("<script>", out);
    return;
  }
  const std::string_view name = function->name->view();
  std::fprintf(out, "<fn %.*s>", static_cast<int>(name.size()), name.data());
}

void print_object(std::FILE* out, const Obj* object) {
  switch (object->kind) {
    case ObjKind::kString: {
      const std::string_view text = static_cast<const ObjString*>(object)->view();
      std::fwrite(text.data(), 1, text.size(), out);
      break;
    }
    case ObjKind::kFunction: print_function(out, static_cast<const ObjFunction*>(object)); break;
    case ObjKind::kNative: std::fputs("<native fn>", out); break;
    case ObjKind::kClosure: print_function(out, static_cast<const ObjClosure*>(object)->function.get()); break;
    case ObjKind::kUpvalue: std::fputs("upvalue", out); break;
    case ObjKind::kClass: {
      const std::string_view name = static_cast<const ObjClass*>(object)->name->view();
      std::fwrite(name.data(), 1, name.size(), out);
      break;
    }
    case ObjKind::kInstance: {
      const std::string_view name = static_cast<const ObjInstance*>(object)->klass->name->view();
      std::fprintf(out, "%.*s instance", static_cast<int>(name.size()), name.data());
      break;
    }
    case ObjKind::kBoundMethod: {
      const Obj* method = static_cast<const ObjBoundMethod*>(object)->method.get();
      print_object(out, method);
      break;
    }
    case ObjKind::kMap: std::fputs("Map instance", out); break;
  }
}

}  // namespace

void print_value(std::FILE* out, Value v) {
  if (v.is_bool()) std::fputs(v.as_bool() ? "true" : "false", out);
  else if (v.is_nil()) std::fputs("nil", out);
  else if (v.is_number()) std::fprintf(out, "%g", v.as_number());
  else print_object(out, v.as_object());
}

}  // namespace lox
