/* The system library of a device program without a model: no functions. */
#include "kiln_syslib.h"

static const kiln_module kEmptySystemLib = {"empty", NULL, 0, NULL};

const kiln_module *kiln_system_lib(void) { return &kEmptySystemLib; }
