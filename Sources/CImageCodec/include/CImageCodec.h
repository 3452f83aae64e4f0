#ifndef ONBOARD_CIMAGECODEC_H
#define ONBOARD_CIMAGECODEC_H

#include <stddef.h>

/* JPEG through libjpeg(-turbo) with an error manager that returns instead of exiting the
   process. Every function returns 0 on success, or -1 with a message in `error` (always
   NUL-terminated, at most `error_size` bytes). Corrupt-data warnings (e.g. a truncated file)
   count as errors. */

/* Image size from the header only. */
int oic_jpeg_size(const unsigned char *data, size_t size, int *width, int *height,
                  char *error, size_t error_size);

/* Output size of a decode at scale scale_num/8 (libjpeg's DCT scaling, scale_num 1...16). */
int oic_jpeg_scaled_size(const unsigned char *data, size_t size, int scale_num, int *width, int *height,
                         char *error, size_t error_size);

/* Decodes to interleaved 8-bit pixels at scale scale_num/8 into `out` (capacity bytes), in
   RGB order or, with bgr != 0, BGR. Grayscale files are expanded to three channels. Rows above
   `first_row` (of the scaled image) are skipped with jpeg_skip_scanlines; `out` receives rows
   first_row..height-1. `width` and `height` are the full scaled size. With out == NULL only
   the size is read. */
int oic_jpeg_decode(const unsigned char *data, size_t size, int scale_num, int bgr, int first_row,
                    unsigned char *out, size_t capacity, int *width, int *height,
                    char *error, size_t error_size);

/* Encodes interleaved RGB (baseline, 4:2:0, `quality` 1...100) into a malloc'ed buffer that
   the caller releases with oic_free. */
int oic_jpeg_encode_rgb(const unsigned char *rgb, int width, int height, int quality,
                        unsigned char **out, size_t *out_size, char *error, size_t error_size);

void oic_free(void *pointer);

#endif
