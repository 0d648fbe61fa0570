/* hpcladder/hpcladder.h - umbrella header of libhpcladder. */
#ifndef HPCLADDER_HPCLADDER_H
#define HPCLADDER_HPCLADDER_H
#include "common.h"
#include "diffusion.h"
#include "triangles.h"
#endif
