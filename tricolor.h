// tricolor.h — the umbrella header for embedders: everything needed to run a
// language runtime on tricolor. Installed as <tricolor/tricolor.h>.
//
//   tricolor::Runtime rt;                        // reads GOGC, GOMEMLIMIT, GODEBUG
//   tricolor::MutatorScope m(rt);                // this thread may touch the heap
//   auto* n = tricolor::make<Node>(m, args...);  // a managed object
//   tricolor::Persistent<Node> root{n};          // a global root
//   m.safepoint();                               // poll; interpreters call it often
#pragma once

#include "gc/barrier.h"
#include "gc/ephemeron.h"
#include "gc/errors.h"
#include "gc/histogram.h"
#include "gc/local.h"
#include "gc/make.h"
#include "gc/member.h"
#include "gc/mutator.h"
#include "gc/roots.h"
#include "gc/type_info.h"
#include "gc/visitor.h"
#include "map/map.h"
#include "map/map_stats.h"
#include "map/sync_map.h"
#include "runtime/options.h"
#include "runtime/runtime.h"
