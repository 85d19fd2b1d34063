// include/tricolor/tricolor.h — in-tree stand-in for the installed umbrella
// header, so that tests, benches and examples include <tricolor/tricolor.h>
// exactly as an embedder does after `meson install`.
#pragma once
#include "../../tricolor.h"
