#ifndef ONBOARD_CJPEG_SHIM_H
#define ONBOARD_CJPEG_SHIM_H
#include <stdio.h>
#include <jpeglib.h>
#endif
