/*
 * cnie-tool's photo conversion (tools/cnie-tool/photo.c): JPEG and
 * JPEG 2000 (JP2 and raw J2K) made here with libjpeg and OpenJPEG, turned
 * into PNG and checked (signature, IHDR size, pixels); garbage and
 * truncated images are refused without writing a partial file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jpeglib.h>
#include <openjpeg.h>
#include <png.h>

#include <cnie/error.h>

#include "cnie_tool.h"

#define W 16
#define H 8

static void
make_pixels(uint8_t *px)
{
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			px[(y * W + x) * 3] = (uint8_t)(x * 16);
			px[(y * W + x) * 3 + 1] = (uint8_t)(y * 32);
			px[(y * W + x) * 3 + 2] = 200;
		}
}

static uint8_t *
make_jpeg(size_t *n)
{
	struct jpeg_compress_struct ci;
	struct jpeg_error_mgr jerr;
	unsigned char *out = NULL;
	unsigned long len = 0;
	uint8_t px[W * H * 3];

	make_pixels(px);
	ci.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&ci);
	jpeg_mem_dest(&ci, &out, &len);
	ci.image_width = W;
	ci.image_height = H;
	ci.input_components = 3;
	ci.in_color_space = JCS_RGB;
	jpeg_set_defaults(&ci);
	jpeg_set_quality(&ci, 100, TRUE);
	jpeg_start_compress(&ci, TRUE);
	while (ci.next_scanline < ci.image_height) {
		JSAMPROW row = px + ci.next_scanline * W * 3;

		jpeg_write_scanlines(&ci, &row, 1);
	}
	jpeg_finish_compress(&ci);
	jpeg_destroy_compress(&ci);
	*n = len;
	return out;
}

struct membuf {
	uint8_t *p;
	size_t len, cap, off;
};

static OPJ_SIZE_T
mw(void *buf, OPJ_SIZE_T n, void *arg)
{
	struct membuf *m = arg;

	if (m->off + n > m->cap) {
		size_t cap = (m->off + n) * 2;

		m->p = realloc(m->p, cap);
		assert_non_null(m->p);
		m->cap = cap;
	}
	memcpy(m->p + m->off, buf, n);
	m->off += n;
	if (m->off > m->len)
		m->len = m->off;
	return n;
}

static OPJ_OFF_T
ms(OPJ_OFF_T n, void *arg)
{
	struct membuf *m = arg;
	uint8_t zero[1] = { 0 };

	for (OPJ_OFF_T i = 0; i < n; i++)
		mw(zero, 1, arg);
	(void)m;
	return n;
}

static OPJ_BOOL
mseek(OPJ_OFF_T pos, void *arg)
{
	struct membuf *m = arg;

	if (pos < 0 || (size_t)pos > m->len)
		return OPJ_FALSE;
	m->off = (size_t)pos;
	return OPJ_TRUE;
}

static uint8_t *
make_j2k(OPJ_CODEC_FORMAT fmt, size_t *n)
{
	opj_image_cmptparm_t cp[3];
	opj_cparameters_t par;
	opj_image_t *img;
	opj_codec_t *codec;
	opj_stream_t *s;
	struct membuf m = { NULL, 0, 0, 0 };
	uint8_t px[W * H * 3];

	make_pixels(px);
	memset(cp, 0, sizeof(cp));
	for (int c = 0; c < 3; c++) {
		cp[c].dx = cp[c].dy = 1;
		cp[c].w = W;
		cp[c].h = H;
		cp[c].prec = 8;
		cp[c].sgnd = 0;
	}
	img = opj_image_create(3, cp, OPJ_CLRSPC_SRGB);
	assert_non_null(img);
	img->x1 = W;
	img->y1 = H;
	for (int c = 0; c < 3; c++)
		for (int i = 0; i < W * H; i++)
			img->comps[c].data[i] = px[i * 3 + c];
	opj_set_default_encoder_parameters(&par);
	par.tcp_numlayers = 1;
	par.tcp_rates[0] = 0; /* lossless */
	par.cp_disto_alloc = 1;
	par.numresolution = 2;
	codec = opj_create_compress(fmt);
	assert_true(opj_setup_encoder(codec, &par, img));
	s = opj_stream_default_create(OPJ_FALSE);
	opj_stream_set_user_data(s, &m, NULL);
	opj_stream_set_write_function(s, mw);
	opj_stream_set_skip_function(s, ms);
	opj_stream_set_seek_function(s, mseek);
	assert_true(opj_start_compress(codec, img, s));
	assert_true(opj_encode(codec, s));
	assert_true(opj_end_compress(codec, s));
	opj_stream_destroy(s);
	opj_destroy_codec(codec);
	opj_image_destroy(img);
	*n = m.len;
	return m.p;
}

/* Converts, then reads the PNG back with libpng: size and one pixel. */
static int
convert_and_check(const uint8_t *img, size_t n, bool j2k, int tolerance)
{
	char path[] = "/tmp/test_tool_photo_XXXXXX";
	int fd = mkstemp(path), r;
	FILE *f;
	png_image pi;
	uint8_t *px;

	assert_true(fd >= 0);
	close(fd);
	r = cnie_tool_photo_to_png(img, n, j2k, path);
	if (r != 0) {
		assert_int_equal(access(path, F_OK), -1); /* no partial file left */
		return r;
	}
	f = fopen(path, "rb");
	assert_non_null(f);
	memset(&pi, 0, sizeof(pi));
	pi.version = PNG_IMAGE_VERSION;
	assert_true(png_image_begin_read_from_stdio(&pi, f));
	assert_int_equal(pi.width, W);
	assert_int_equal(pi.height, H);
	pi.format = PNG_FORMAT_RGB;
	px = malloc(PNG_IMAGE_SIZE(pi));
	assert_non_null(px);
	assert_true(png_image_finish_read(&pi, NULL, px, 0, NULL));
	/* Pixel (x=5, y=3): 80, 96, 200. */
	assert_true(abs(px[(3 * W + 5) * 3] - 80) <= tolerance);
	assert_true(abs(px[(3 * W + 5) * 3 + 1] - 96) <= tolerance);
	assert_true(abs(px[(3 * W + 5) * 3 + 2] - 200) <= tolerance);
	free(px);
	fclose(f);
	unlink(path);
	return 0;
}

static void
test_jpeg_to_png(void **state)
{
	size_t n;
	uint8_t *j = make_jpeg(&n);

	(void)state;
	assert_int_equal(convert_and_check(j, n, false, 12), 0);
	/* Truncated JPEG: refused, no file. */
	assert_int_equal(convert_and_check(j, n / 2, false, 0), CNIE_ERR_ENCODING);
	free(j);
}

static void
test_jp2_and_j2k_to_png(void **state)
{
	size_t n;
	uint8_t *j;

	(void)state;
	j = make_j2k(OPJ_CODEC_JP2, &n);
	assert_memory_equal(j, "\x00\x00\x00\x0C\x6A\x50\x20\x20", 8);
	assert_int_equal(convert_and_check(j, n, true, 0), 0);
	free(j);
	j = make_j2k(OPJ_CODEC_J2K, &n);
	assert_memory_equal(j, "\xFF\x4F\xFF\x51", 4);
	assert_int_equal(convert_and_check(j, n, true, 0), 0);
	/* Truncated codestream. */
	assert_int_equal(convert_and_check(j, n / 3, true, 0), CNIE_ERR_ENCODING);
	free(j);
}

static void
test_garbage_refused(void **state)
{
	uint8_t junk[256];

	(void)state;
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	assert_int_equal(convert_and_check(junk, sizeof(junk), false, 0), CNIE_ERR_ENCODING);
	assert_int_equal(convert_and_check(junk, sizeof(junk), true, 0), CNIE_ERR_ENCODING);
	/* A JPEG header announcing a huge image is refused before decoding. */
	{
		static const uint8_t hdr[] = { 0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0xFF, 0xFF,
			0xFF, 0xFF, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xFF,
			0xD9 };

		assert_int_equal(convert_and_check(hdr, sizeof(hdr), false, 0), CNIE_ERR_ENCODING);
	}
	assert_int_equal(cnie_tool_photo_to_png(junk, 0, false, "/tmp/x.png"),
	    CNIE_ERR_INVALID_ARG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jpeg_to_png),
		cmocka_unit_test(test_jp2_and_j2k_to_png),
		cmocka_unit_test(test_garbage_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
