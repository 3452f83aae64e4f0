#include "CImageCodec.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

/* libjpeg's default error_exit calls exit(); ours jumps back to the caller with the message. */
typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} oic_error_manager;

static void oic_error_exit(j_common_ptr cinfo) {
    oic_error_manager *manager = (oic_error_manager *)cinfo->err;
    manager->base.format_message(cinfo, manager->message);
    longjmp(manager->jump, 1);
}

/* Warnings (corrupt data, premature end of file) become errors: a damaged image must not pass. */
static void oic_emit_message(j_common_ptr cinfo, int level) {
    oic_error_manager *manager = (oic_error_manager *)cinfo->err;
    if (level < 0) {
        manager->base.format_message(cinfo, manager->message);
        longjmp(manager->jump, 1);
    }
}

static void oic_set_error(char *error, size_t error_size, const char *message) {
    if (error && error_size > 0) {
        strncpy(error, message, error_size - 1);
        error[error_size - 1] = 0;
    }
}

static void oic_install(oic_error_manager *manager) {
    jpeg_std_error(&manager->base);
    manager->base.error_exit = oic_error_exit;
    manager->base.emit_message = oic_emit_message;
    manager->base.output_message = NULL;
    manager->message[0] = 0;
}

static int oic_check_scale(int scale_num, char *error, size_t error_size) {
    if (scale_num < 1 || scale_num > 16) {
        oic_set_error(error, error_size, "DCT scale must be 1...16 eighths");
        return -1;
    }
    return 0;
}

/* Reads the header and sets the scale; the caller owns the jump target. */
static void oic_start(struct jpeg_decompress_struct *cinfo, const unsigned char *data, size_t size,
                      int scale_num, int bgr) {
    jpeg_mem_src(cinfo, data, (unsigned long)size);
    jpeg_read_header(cinfo, TRUE);
    cinfo->scale_num = (unsigned int)scale_num;
    cinfo->scale_denom = 8;
    cinfo->out_color_space = bgr ? JCS_EXT_BGR : JCS_RGB;
    cinfo->dct_method = JDCT_ISLOW;
    jpeg_calc_output_dimensions(cinfo);
}

int oic_jpeg_scaled_size(const unsigned char *data, size_t size, int scale_num, int *width, int *height,
                         char *error, size_t error_size) {
    return oic_jpeg_decode(data, size, scale_num, 0, 0, NULL, 0, width, height, error, error_size);
}

int oic_jpeg_size(const unsigned char *data, size_t size, int *width, int *height,
                  char *error, size_t error_size) {
    return oic_jpeg_scaled_size(data, size, 8, width, height, error, error_size);
}

int oic_jpeg_decode(const unsigned char *data, size_t size, int scale_num, int bgr, int first_row,
                    unsigned char *out, size_t capacity, int *width, int *height,
                    char *error, size_t error_size) {
    if (oic_check_scale(scale_num, error, error_size) != 0) return -1;
    if (!data || size == 0) { oic_set_error(error, error_size, "empty JPEG data"); return -1; }
    struct jpeg_decompress_struct cinfo;
    oic_error_manager manager;
    oic_install(&manager);
    cinfo.err = &manager.base;
    jpeg_create_decompress(&cinfo);
    if (setjmp(manager.jump)) {
        oic_set_error(error, error_size, manager.message);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    oic_start(&cinfo, data, size, scale_num, bgr);
    if (!out) {  /* size query only */
        *width = (int)cinfo.output_width;
        *height = (int)cinfo.output_height;
        jpeg_destroy_decompress(&cinfo);
        return 0;
    }
    size_t row_bytes = (size_t)cinfo.output_width * 3;
    if (first_row < 0 || (JDIMENSION)first_row >= cinfo.output_height) {
        oic_set_error(error, error_size, "first row outside the image");
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    if (cinfo.output_components != 3 || row_bytes * (cinfo.output_height - (JDIMENSION)first_row) > capacity) {
        oic_set_error(error, error_size, cinfo.output_components != 3
                      ? "unsupported JPEG colour space" : "output buffer too small");
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    *width = (int)cinfo.output_width;
    *height = (int)cinfo.output_height;
    jpeg_start_decompress(&cinfo);
    JDIMENSION skip = (JDIMENSION)first_row;
    while (skip > 0) {
        JDIMENSION skipped = jpeg_skip_scanlines(&cinfo, skip);
        if (skipped == 0) break;
        skip -= skipped;
    }
    if (cinfo.output_scanline != (JDIMENSION)first_row) {
        oic_set_error(error, error_size, "cannot skip to the first row");
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out + row_bytes * (cinfo.output_scanline - (JDIMENSION)first_row);
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
            oic_set_error(error, error_size, "decoder returned no row");
            jpeg_destroy_decompress(&cinfo);
            return -1;
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

int oic_jpeg_encode_rgb(const unsigned char *rgb, int width, int height, int quality,
                        unsigned char **out, size_t *out_size, char *error, size_t error_size) {
    if (!rgb || width <= 0 || height <= 0 || quality < 1 || quality > 100) {
        oic_set_error(error, error_size, "invalid image or quality for JPEG encode");
        return -1;
    }
    struct jpeg_compress_struct cinfo;
    oic_error_manager manager;
    oic_install(&manager);
    cinfo.err = &manager.base;
    unsigned char *buffer = NULL;
    unsigned long buffer_size = 0;
    jpeg_create_compress(&cinfo);
    if (setjmp(manager.jump)) {
        oic_set_error(error, error_size, manager.message);
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return -1;
    }
    jpeg_mem_dest(&cinfo, &buffer, &buffer_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    cinfo.dct_method = JDCT_ISLOW;
    jpeg_start_compress(&cinfo, TRUE);
    size_t row_bytes = (size_t)width * 3;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + row_bytes * cinfo.next_scanline);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = buffer;
    *out_size = (size_t)buffer_size;
    return 0;
}

void oic_free(void *pointer) { free(pointer); }
