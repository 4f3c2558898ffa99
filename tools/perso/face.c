/*
 * A synthetic face for DG2: plain background, hair, an oval face, eyes,
 * nose and mouth, drawn from simple shapes (never a photograph of anyone),
 * JPEG-encoded with libjpeg and wrapped in an ISO/IEC 19794-5:2005 facial
 * record as ICAO 9303-10 4.7.2 expects.  The colours vary with the seed so
 * that two test cards do not carry the same picture.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include <cnie/error.h>

#include "perso.h"

#define FACE_W 240
#define FACE_H 320

/* (x/a)^2 + (y/b)^2 <= 1 around (cx, cy), in integer arithmetic. */
static int
in_ellipse(int x, int y, int cx, int cy, int a, int b)
{
	long dx = x - cx, dy = y - cy;

	return dx * dx * (long)b * b + dy * dy * (long)a * a <= (long)a * a * (long)b * b;
}

static void
draw(uint8_t *rgb, int w, int h, const uint8_t tint[6])
{
	const uint8_t bg[3] = { (uint8_t)(200 + tint[0] % 40), (uint8_t)(205 + tint[1] % 40),
		(uint8_t)(215 + tint[2] % 40) };
	const uint8_t skin[3] = { (uint8_t)(170 + tint[3] % 60), (uint8_t)(120 + tint[3] % 60),
		(uint8_t)(90 + tint[3] % 50) };
	const uint8_t hair[3] = { (uint8_t)(20 + tint[4] % 80), (uint8_t)(15 + tint[4] % 50),
		(uint8_t)(10 + tint[4] % 30) };
	const uint8_t dark[3] = { 40, 30, 30 }, white[3] = { 240, 240, 240 },
		lips[3] = { 160, 60, 70 }, shirt[3] = { (uint8_t)(40 + tint[5] % 150), 70,
		(uint8_t)(120 + tint[5] % 100) };
	int x, y, cx = w / 2;
	const uint8_t *c;

	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			c = bg;
			if (y > h * 82 / 100 && in_ellipse(x, y, cx, h, w * 48 / 100, h * 22 / 100))
				c = shirt;
			else if (in_ellipse(x, y, cx, h * 78 / 100, w / 10, h / 8))
				c = skin; /* neck */
			if (in_ellipse(x, y, cx, h * 40 / 100, w * 32 / 100, h * 33 / 100) &&
			    y < h * 42 / 100)
				c = hair;
			if (in_ellipse(x, y, cx, h * 46 / 100, w * 27 / 100, h * 30 / 100))
				c = skin;
			if (in_ellipse(x, y, cx - w / 9, h * 42 / 100, w / 18, h / 40))
				c = white;
			if (in_ellipse(x, y, cx + w / 9, h * 42 / 100, w / 18, h / 40))
				c = white;
			if (in_ellipse(x, y, cx - w / 9, h * 42 / 100, w / 50, h / 50) ||
			    in_ellipse(x, y, cx + w / 9, h * 42 / 100, w / 50, h / 50))
				c = dark;
			if (in_ellipse(x, y, cx - w / 9, h * 37 / 100, w / 14, h / 120) ||
			    in_ellipse(x, y, cx + w / 9, h * 37 / 100, w / 14, h / 120))
				c = hair; /* eyebrows */
			if (x >= cx - 2 && x <= cx + 2 && y > h * 44 / 100 && y < h * 53 / 100)
				c = dark; /* nose */
			if (in_ellipse(x, y, cx, h * 60 / 100, w / 9, h / 45) &&
			    !in_ellipse(x, y, cx, h * 59 / 100, w / 9, h / 90))
				c = lips;
			memcpy(rgb + ((size_t)y * (size_t)w + (size_t)x) * 3, c, 3);
		}
	}
}

int
perso_face_jpeg(const char *seed, int width, int height, cnie_buf **out)
{
	struct jpeg_compress_struct cinfo;
	struct jpeg_error_mgr jerr;
	unsigned char *mem = NULL;
	unsigned long memlen = 0;
	uint8_t *rgb = NULL, tint[6];
	JSAMPROW row;
	int r;

	*out = NULL;
	if (width < 32 || height < 32 || width > 1024 || height > 1024)
		return CNIE_ERR_INVALID_ARG;
	if ((r = perso_stream(seed, "face", tint, sizeof(tint))) != 0)
		return r;
	if ((rgb = malloc((size_t)width * (size_t)height * 3)) == NULL)
		return CNIE_ERR_NOMEM;
	draw(rgb, width, height, tint);

	/* libjpeg's default error handler exits: acceptable in this tool only. */
	memset(&cinfo, 0, sizeof(cinfo));
	cinfo.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&cinfo);
	jpeg_mem_dest(&cinfo, &mem, &memlen);
	cinfo.image_width = (JDIMENSION)width;
	cinfo.image_height = (JDIMENSION)height;
	cinfo.input_components = 3;
	cinfo.in_color_space = JCS_RGB;
	jpeg_set_defaults(&cinfo);
	jpeg_set_quality(&cinfo, 80, TRUE);
	jpeg_start_compress(&cinfo, TRUE);
	while (cinfo.next_scanline < cinfo.image_height) {
		row = rgb + (size_t)cinfo.next_scanline * (size_t)width * 3;
		jpeg_write_scanlines(&cinfo, &row, 1);
	}
	jpeg_finish_compress(&cinfo);
	jpeg_destroy_compress(&cinfo);
	free(rgb);
	if (mem == NULL || memlen == 0) {
		free(mem);
		return CNIE_ERR_INTERNAL;
	}
	*out = cnie_buf_from(mem, memlen);
	free(mem);
	return *out == NULL ? CNIE_ERR_NOMEM : 0;
}

int
perso_face_record(const char *seed, char sex, cnie_buf **out)
{
	cnie_buf *jpg = NULL, *b = NULL;
	size_t jlen, total;
	uint8_t gender;
	int r;

	*out = NULL;
	if ((r = perso_face_jpeg(seed, FACE_W, FACE_H, &jpg)) != 0)
		return r;
	jlen = cnie_buf_len(jpg);
	total = 14 + 20 + 12 + jlen;
	/* ISO 19794-5 5.5.3: 0 unspecified, 1 male, 2 female. */
	gender = sex == 'M' ? 1 : sex == 'F' ? 2 : 0;
	r = CNIE_ERR_NOMEM;
	if ((b = cnie_buf_new()) == NULL)
		goto out;
	/* Facial Record Header (5.4): "FAC\0", "010\0", length, one image. */
	if ((r = cnie_buf_put(b, "FAC\0" "010\0", 8)) != 0 ||
	    (r = cnie_buf_put_u32be(b, (uint32_t)total)) != 0 ||
	    (r = cnie_buf_put_u16be(b, 1)) != 0 ||
	    /* Facial Information (5.5): block length, no feature points,
	     * gender, eye and hair colour unspecified, no feature mask,
	     * neutral expression (1), pose and uncertainty unspecified. */
	    (r = cnie_buf_put_u32be(b, (uint32_t)(20 + 12 + jlen))) != 0 ||
	    (r = cnie_buf_put_u16be(b, 0)) != 0 ||
	    (r = cnie_buf_put_u8(b, gender)) != 0 ||
	    (r = cnie_buf_put(b, "\0\0" "\0\0\0", 5)) != 0 ||
	    (r = cnie_buf_put_u16be(b, 1)) != 0 ||
	    (r = cnie_buf_put(b, "\0\0\0" "\0\0\0", 6)) != 0 ||
	    /* Image Information (5.7): full frontal (1), JPEG (0), size,
	     * 24-bit RGB (1), source/device/quality unspecified. */
	    (r = cnie_buf_put_u8(b, 1)) != 0 || (r = cnie_buf_put_u8(b, 0)) != 0 ||
	    (r = cnie_buf_put_u16be(b, FACE_W)) != 0 ||
	    (r = cnie_buf_put_u16be(b, FACE_H)) != 0 ||
	    (r = cnie_buf_put_u8(b, 1)) != 0 || (r = cnie_buf_put_u8(b, 0)) != 0 ||
	    (r = cnie_buf_put(b, "\0\0\0\0", 4)) != 0 ||
	    (r = cnie_buf_put_buf(b, jpg)) != 0)
		goto out;
	if (cnie_buf_len(b) != total) {
		r = CNIE_ERR_INTERNAL;
		goto out;
	}
	*out = b;
	b = NULL;
out:
	cnie_buf_free(&jpg);
	cnie_buf_free(&b);
	return r;
}
