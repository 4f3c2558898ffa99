/*
 * The system side of the USB diagnosis: libusb enumeration of CCID
 * devices and libccid's Info.plist.  The decisions are in usb_match.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libusb.h>

#include <cnie/error.h>

#include "usb_match.h"

#define CCID_PLIST "/usr/lib/pcsc/drivers/ifd-ccid.bundle/Contents/Info.plist"

/* A one-line sysfs attribute (the kernel already read the USB strings). */
static void
sysfs_attr(libusb_device *dev, const char *attr, char *out, size_t out_len)
{
	uint8_t ports[8];
	char path[256];
	size_t o;
	int np, fd;
	ssize_t r;

	out[0] = '\0';
	np = libusb_get_port_numbers(dev, ports, sizeof(ports));
	if (np <= 0)
		return;
	o = (size_t)snprintf(path, sizeof(path), "/sys/bus/usb/devices/%u-",
	    libusb_get_bus_number(dev));
	for (int i = 0; i < np && o < sizeof(path); i++)
		o += (size_t)snprintf(path + o, sizeof(path) - o, i ? ".%u" : "%u", ports[i]);
	if (o >= sizeof(path))
		return;
	snprintf(path + o, sizeof(path) - o, "/%s", attr);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	r = read(fd, out, out_len - 1);
	close(fd);
	if (r <= 0) {
		out[0] = '\0';
		return;
	}
	out[r] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

static void
usb_string(libusb_device_handle *h, uint8_t idx, char *out, size_t out_len)
{
	int r;

	out[0] = '\0';
	if (h == NULL || idx == 0)
		return;
	r = libusb_get_string_descriptor_ascii(h, idx, (unsigned char *)out, (int)out_len);
	if (r < 0)
		out[0] = '\0';
	else
		out[(size_t)r < out_len ? (size_t)r : out_len - 1] = '\0';
}

int
cnie_usb_list_ccid(cnie_usb_dev **out, size_t *n)
{
	libusb_context *ctx = NULL;
	libusb_device **list = NULL;
	cnie_usb_dev *devs = NULL;
	ssize_t cnt;
	size_t k = 0;
	int r = 0;

	*out = NULL;
	*n = 0;
	if (libusb_init(&ctx) != 0)
		return CNIE_ERR_UNSUPPORTED;
	if ((cnt = libusb_get_device_list(ctx, &list)) < 0) {
		r = CNIE_ERR_UNSUPPORTED;
		goto out;
	}
	if (cnt > 0 && (devs = calloc((size_t)cnt, sizeof(*devs))) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	for (ssize_t i = 0; i < cnt; i++) {
		struct libusb_device_descriptor dd;
		struct libusb_config_descriptor *cd = NULL;
		cnie_usb_dev *d = &devs[k];
		libusb_device_handle *h = NULL;

		memset(d, 0, sizeof(*d));
		if (libusb_get_device_descriptor(list[i], &dd) != 0)
			continue;
		d->vid = dd.idVendor;
		d->pid = dd.idProduct;
		d->device_class = dd.bDeviceClass;
		d->bus = libusb_get_bus_number(list[i]);
		d->address = libusb_get_device_address(list[i]);
		if (libusb_get_active_config_descriptor(list[i], &cd) == 0 ||
		    libusb_get_config_descriptor(list[i], 0, &cd) == 0) {
			for (uint8_t f = 0; f < cd->bNumInterfaces && d->n_ifaces < CNIE_USB_MAX_IFACES;
			    f++)
				if (cd->interface[f].num_altsetting > 0)
					d->iface_class[d->n_ifaces++] =
					    cd->interface[f].altsetting[0].bInterfaceClass;
			libusb_free_config_descriptor(cd);
		}
		if (!cnie_usb_is_ccid(d))
			continue;
		/* Strings: from the device if we may open it, else from sysfs. */
		if (libusb_open(list[i], &h) == 0) {
			usb_string(h, dd.iManufacturer, d->manufacturer, sizeof(d->manufacturer));
			usb_string(h, dd.iProduct, d->product, sizeof(d->product));
			libusb_close(h);
		}
		if (d->manufacturer[0] == '\0')
			sysfs_attr(list[i], "manufacturer", d->manufacturer, sizeof(d->manufacturer));
		if (d->product[0] == '\0')
			sysfs_attr(list[i], "product", d->product, sizeof(d->product));
		k++;
	}
	*out = devs;
	*n = k;
	devs = NULL;
out:
	free(devs);
	if (list != NULL)
		libusb_free_device_list(list, 1);
	libusb_exit(ctx);
	return r;
}

int
cnie_usb_ccid_list_load(cnie_usb_ccid_list *l, const char **path)
{
	const char *p = getenv("CNIE_CCID_INFO_PLIST");
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	int fd, r;

	l->e = NULL;
	l->n = 0;
	if (p == NULL || p[0] == '\0')
		p = CCID_PLIST;
	if (path != NULL)
		*path = p;
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? CNIE_ERR_NOT_FOUND : CNIE_ERR_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return CNIE_ERR_IO;
	}
	if ((size_t)st.st_size > CNIE_USB_PLIST_MAX) {
		close(fd);
		return CNIE_ERR_TOO_LONG;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return CNIE_ERR_NOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, text + got, (size_t)st.st_size - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close(fd);
	r = cnie_usb_ccid_list_parse(text, got, l);
	free(text);
	return r;
}
