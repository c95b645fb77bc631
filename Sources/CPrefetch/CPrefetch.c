// The target's only function is inline, in include/CPrefetch.h; SwiftPM needs a source file.
#include "CPrefetch.h"
