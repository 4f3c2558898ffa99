/*
 * The DG2 face image to PNG: JPEG with libjpeg, JPEG 2000 (JP2 box format
 * or a raw J2K codestream) with OpenJPEG, written with libpng.  The image
 * comes from the card: decoders get the exact buffer, dimensions are
 * capped, and every decoder error is an error (never a partial file).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#include <openjpeg.h>
#include <png.h>

#include <cnie/buf.h>
#include <cnie/error.h>

#include "cnie_tool.h"

/* A face image (ICAO 9303-9: a few hundred pixels a side); caps decoders. */
#define PHOTO_MAX_SIDE 4096u

typedef struct rgb_image {
	uint32_t w, h;
	unsigned channels; /* 1 (grey) or 3 (RGB) */
	uint8_t *px;	   /* w * h * channels */
} rgb_image;

/* ---- PNG ------------------------------------------------------------- */

static int
write_png(const rgb_image *im, FILE *f)
{
	png_structp png = NULL;
	png_infop info = NULL;
	volatile int r = CNIE_ERR_IO;

	if ((png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL)) == NULL ||
	    (info = png_create_info_struct(png)) == NULL)
		goto out;
	if (setjmp(png_jmpbuf(png)))
		goto out;
	png_init_io(png, f);
	png_set_IHDR(png, info, im->w, im->h, 8,
	    im->channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (uint32_t y = 0; y < im->h; y++)
		png_write_row(png, im->px + (size_t)y * im->w * im->channels);
	png_write_end(png, NULL);
	r = fflush(f) == 0 ? 0 : CNIE_ERR_IO;
out:
	png_destroy_write_struct(&png, &info);
	return r;
}

/* ---- JPEG ------------------------------------------------------------ */

struct jerr {
	struct jpeg_error_mgr mgr;
	jmp_buf jb;
};

static void
jpeg_fail(j_common_ptr cinfo)
{
	longjmp(((struct jerr *)(void *)cinfo->err)->jb, 1);
}

static void
jpeg_quiet(j_common_ptr cinfo, int level)
{
	(void)cinfo;
	(void)level;
}

static int
decode_jpeg(const uint8_t *p, size_t n, rgb_image *im)
{
	struct jpeg_decompress_struct ci;
	struct jerr je;
	const int r = CNIE_ERR_ENCODING;

	memset(&ci, 0, sizeof(ci));
	ci.err = jpeg_std_error(&je.mgr);
	je.mgr.error_exit = jpeg_fail;
	je.mgr.emit_message = jpeg_quiet;
	if (setjmp(je.jb)) {
		free(im->px);
		im->px = NULL;
		jpeg_destroy_decompress(&ci);
		return r;
	}
	jpeg_create_decompress(&ci);
	jpeg_mem_src(&ci, p, (unsigned long)n);
	if (jpeg_read_header(&ci, TRUE) != JPEG_HEADER_OK)
		longjmp(je.jb, 1);
	if (ci.image_width == 0 || ci.image_height == 0 || ci.image_width > PHOTO_MAX_SIDE ||
	    ci.image_height > PHOTO_MAX_SIDE)
		longjmp(je.jb, 1);
	ci.out_color_space = ci.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
	jpeg_start_decompress(&ci);
	im->w = ci.output_width;
	im->h = ci.output_height;
	im->channels = (unsigned)ci.output_components;
	if ((im->channels != 1 && im->channels != 3) ||
	    (im->px = malloc((size_t)im->w * im->h * im->channels)) == NULL)
		longjmp(je.jb, 1);
	while (ci.output_scanline < ci.output_height) {
		JSAMPROW row = im->px + (size_t)ci.output_scanline * im->w * im->channels;

		if (jpeg_read_scanlines(&ci, &row, 1) != 1)
			longjmp(je.jb, 1);
	}
	jpeg_finish_decompress(&ci);
	jpeg_destroy_decompress(&ci);
	return 0;
}

/* ---- JPEG 2000 ------------------------------------------------------- */

struct memsrc {
	const uint8_t *p;
	size_t n, off;
};

static OPJ_SIZE_T
mem_read(void *buf, OPJ_SIZE_T len, void *arg)
{
	struct memsrc *m = arg;
	size_t left = m->n - m->off;

	if (left == 0)
		return (OPJ_SIZE_T)-1;
	if (len > left)
		len = left;
	memcpy(buf, m->p + m->off, len);
	m->off += len;
	return len;
}

static OPJ_OFF_T
mem_skip(OPJ_OFF_T len, void *arg)
{
	struct memsrc *m = arg;

	if (len < 0 || (size_t)len > m->n - m->off)
		return -1;
	m->off += (size_t)len;
	return len;
}

static OPJ_BOOL
mem_seek(OPJ_OFF_T pos, void *arg)
{
	struct memsrc *m = arg;

	if (pos < 0 || (size_t)pos > m->n)
		return OPJ_FALSE;
	m->off = (size_t)pos;
	return OPJ_TRUE;
}

static void
opj_quiet(const char *msg, void *arg)
{
	(void)msg;
	(void)arg;
}

static uint8_t
sample8(const opj_image_comp_t *c, size_t i)
{
	int v = c->data[i];

	if (c->sgnd)
		v += 1 << (c->prec - 1);
	if (c->prec > 8)
		v >>= c->prec - 8;
	else if (c->prec < 8)
		v <<= 8 - c->prec;
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static int
decode_jp2(const uint8_t *p, size_t n, rgb_image *im)
{
	static const uint8_t jp2_magic[] = { 0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20 };
	struct memsrc m = { p, n, 0 };
	opj_stream_t *s = NULL;
	opj_codec_t *codec = NULL;
	opj_image_t *img = NULL;
	opj_dparameters_t par;
	int r = CNIE_ERR_ENCODING;

	codec = opj_create_decompress(n >= sizeof(jp2_magic) &&
	    memcmp(p, jp2_magic, sizeof(jp2_magic)) == 0 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
	if (codec == NULL || (s = opj_stream_default_create(OPJ_TRUE)) == NULL)
		goto out;
	opj_set_error_handler(codec, opj_quiet, NULL);
	opj_set_warning_handler(codec, opj_quiet, NULL);
	opj_set_info_handler(codec, opj_quiet, NULL);
	opj_stream_set_user_data(s, &m, NULL);
	opj_stream_set_user_data_length(s, n);
	opj_stream_set_read_function(s, mem_read);
	opj_stream_set_skip_function(s, mem_skip);
	opj_stream_set_seek_function(s, mem_seek);
	opj_set_default_decoder_parameters(&par);
	if (!opj_setup_decoder(codec, &par) || !opj_read_header(s, codec, &img) || img == NULL)
		goto out;
	if (img->x1 <= img->x0 || img->y1 <= img->y0 || img->x1 - img->x0 > PHOTO_MAX_SIDE ||
	    img->y1 - img->y0 > PHOTO_MAX_SIDE || img->numcomps == 0)
		goto out;
	if (!opj_decode(codec, s, img) || !opj_end_decompress(codec, s))
		goto out;
	im->channels = img->numcomps >= 3 ? 3 : 1;
	im->w = img->comps[0].w;
	im->h = img->comps[0].h;
	if (im->w == 0 || im->h == 0 || im->w > PHOTO_MAX_SIDE || im->h > PHOTO_MAX_SIDE)
		goto out;
	/* Subsampled chroma is not expected in a face image: refuse it. */
	for (unsigned c = 0; c < im->channels; c++)
		if (img->comps[c].w != im->w || img->comps[c].h != im->h ||
		    img->comps[c].data == NULL || img->comps[c].prec == 0 ||
		    img->comps[c].prec > 16)
			goto out;
	if ((im->px = malloc((size_t)im->w * im->h * im->channels)) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < (size_t)im->w * im->h; i++)
		for (unsigned c = 0; c < im->channels; c++)
			im->px[i * im->channels + c] = sample8(&img->comps[c], i);
	r = 0;
out:
	if (img != NULL)
		opj_image_destroy(img);
	if (codec != NULL)
		opj_destroy_codec(codec);
	if (s != NULL)
		opj_stream_destroy(s);
	return r;
}

int
cnie_tool_photo_to_png_file(const uint8_t *img, size_t n, bool jpeg2000, FILE *f)
{
	rgb_image im = { 0, 0, 0, NULL };
	int r;

	if (img == NULL || n == 0 || f == NULL)
		return CNIE_ERR_INVALID_ARG;
	r = jpeg2000 ? decode_jp2(img, n, &im) : decode_jpeg(img, n, &im);
	if (r == 0)
		r = write_png(&im, f);
	if (im.px != NULL)
		cnie_freezero(im.px, (size_t)im.w * im.h * im.channels);
	return r;
}

int
cnie_tool_photo_to_png(const uint8_t *img, size_t n, bool jpeg2000, const char *path)
{
	FILE *f;
	int fd, r;

	/* A face is personal data: the file is the user's alone. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return CNIE_ERR_IO;
	if ((f = fdopen(fd, "wb")) == NULL) {
		close(fd);
		return CNIE_ERR_IO;
	}
	r = cnie_tool_photo_to_png_file(img, n, jpeg2000, f);
	if (fclose(f) != 0 && r == 0)
		r = CNIE_ERR_IO;
	if (r != 0)
		unlink(path);
	return r;
}
